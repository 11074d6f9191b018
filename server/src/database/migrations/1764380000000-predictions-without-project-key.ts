import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foreign key from predictions to projects, whatever its name. 1764350000000 dropped it by
 * the name an unpartitioned table gives it (`predictions_project_id_fkey`), but the partitioned
 * table made in 1764340000000 named its own `predictions_project_id_fkey1`: the key stayed, so
 * deleting a project still cascaded row by row through its predictions, and every stored
 * prediction paid a key check against projects (30,000 lookups for 30 batches of 1,000).
 */
export class PredictionsWithoutProjectKey1764380000000 implements MigrationInterface {
  name = 'PredictionsWithoutProjectKey1764380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ DECLARE c record; BEGIN
        FOR c IN SELECT conname FROM pg_constraint
                  WHERE conrelid = 'predictions'::regclass AND contype = 'f' AND confrelid = 'projects'::regclass AND conparentid = 0 LOOP
          EXECUTE format('ALTER TABLE predictions DROP CONSTRAINT %I', c.conname);
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions ADD FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE NOT VALID`);
  }
}

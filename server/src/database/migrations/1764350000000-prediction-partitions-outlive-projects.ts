import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A project's predictions go with its partition table, not row by row (issue 22): deleting a
 * project no longer cascades through every prediction it ever stored. After the deletion
 * commits, the predictions module detaches the project's table concurrently and drops it; the
 * hourly retention job drops any whose project is gone (a process that stopped in between).
 */
export class PredictionPartitionsOutliveProjects1764350000000 implements MigrationInterface {
  name = 'PredictionPartitionsOutliveProjects1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions DROP CONSTRAINT IF EXISTS predictions_project_id_fkey`);
    await q.query(`ALTER TABLE prediction_partitions DROP CONSTRAINT IF EXISTS prediction_partitions_project_id_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM prediction_partitions WHERE project_id NOT IN (SELECT id FROM projects)`);
    await q.query(`ALTER TABLE prediction_partitions ADD FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE predictions ADD FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE NOT VALID`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/** The admin's live operations chart counts tasks by when they were made and when they were done. */
export class Operations1764180000000 implements MigrationInterface {
  name = 'Operations1764180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX tasks_created_idx ON tasks (project_id, created_at)`);
    await q.query(`CREATE INDEX tasks_completed_idx ON tasks (project_id, completed_at) WHERE completed_at IS NOT NULL`);
    await q.query(`CREATE INDEX task_leases_expiry_idx ON task_leases (project_id, expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS task_leases_expiry_idx`);
    await q.query(`DROP INDEX IF EXISTS tasks_completed_idx`);
    await q.query(`DROP INDEX IF EXISTS tasks_created_idx`);
  }
}

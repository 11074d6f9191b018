import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tasks not yet completed, by project and creation: the operations chart counts those open
 * when its hour began. Counted from every task made before the hour, filtered by completion, the
 * count read all of a project's tasks on every request (a seq scan of 200,000 tasks, 17-60 ms, and
 * growing with the project's age); the open ones are few.
 */
export class OpenTasksIndex1764410000000 implements MigrationInterface {
  name = 'OpenTasksIndex1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX tasks_open_idx ON tasks (project_id, created_at) WHERE completed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS tasks_open_idx`);
  }
}

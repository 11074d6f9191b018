import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Weak supervision (issue 24): a project's labeling functions and what their votes do, and tasks
 * with reason `weak` (predictions the functions vote different labels on).
 */
export class WeakSupervision1764460000000 implements MigrationInterface {
  name = 'WeakSupervision1764460000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects ADD COLUMN weak_supervision jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_reason_check`);
    await q.query(
      `ALTER TABLE tasks ADD CONSTRAINT tasks_reason_check CHECK (reason IN ('uncertain', 'exploration', 'contradiction', 'drift', 'gold', 'imported', 'weak'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM tasks WHERE reason = 'weak'`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_reason_check`);
    await q.query(
      `ALTER TABLE tasks ADD CONSTRAINT tasks_reason_check CHECK (reason IN ('uncertain', 'exploration', 'contradiction', 'drift', 'gold', 'imported'))`,
    );
    await q.query(`ALTER TABLE projects DROP COLUMN weak_supervision`);
  }
}

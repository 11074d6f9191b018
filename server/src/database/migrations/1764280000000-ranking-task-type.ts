import { MigrationInterface, QueryRunner } from 'typeorm';

/** A project whose routing question is a ranking (issue 20) has the task type `ranking`. */
export class RankingTaskType1764280000000 implements MigrationInterface {
  name = 'RankingTaskType1764280000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP CONSTRAINT projects_task_type_check`);
    await q.query(
      `ALTER TABLE projects ADD CONSTRAINT projects_task_type_check CHECK (task_type IN ('single_label', 'multi_label', 'rating', 'numeric', 'text', 'spans', 'ranking'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP CONSTRAINT projects_task_type_check`);
    await q.query(
      `ALTER TABLE projects ADD CONSTRAINT projects_task_type_check CHECK (task_type IN ('single_label', 'multi_label', 'rating', 'numeric', 'text', 'spans'))`,
    );
  }
}

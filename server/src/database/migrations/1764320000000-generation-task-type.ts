import { MigrationInterface, QueryRunner } from 'typeorm';

/** A project whose routing question is a generation (issue 21) has the task type `generation`. */
export class GenerationTaskType1764320000000 implements MigrationInterface {
  name = 'GenerationTaskType1764320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP CONSTRAINT projects_task_type_check`);
    await q.query(
      `ALTER TABLE projects ADD CONSTRAINT projects_task_type_check CHECK (task_type IN ('single_label', 'multi_label', 'rating', 'numeric', 'text', 'spans', 'ranking', 'generation'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP CONSTRAINT projects_task_type_check`);
    await q.query(
      `ALTER TABLE projects ADD CONSTRAINT projects_task_type_check CHECK (task_type IN ('single_label', 'multi_label', 'rating', 'numeric', 'text', 'spans', 'ranking'))`,
    );
  }
}

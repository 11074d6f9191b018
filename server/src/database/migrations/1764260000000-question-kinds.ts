import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Question kinds (ADR 0025). A project asks questions (`projects.questions`), one of them the
 * routing question; answers are stored typed, as jsonb checked by the question's kind, beside
 * the routing question's answer as text (`label`, `value`) that agreement, gold and monitoring
 * read. Every existing project becomes one label question named "label" and every stored
 * answer, review, gold item and label gains its answers under that name: nothing is lost, and
 * today's request bodies keep working.
 */
export class QuestionKinds1764260000000 implements MigrationInterface {
  name = 'QuestionKinds1764260000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP CONSTRAINT IF EXISTS projects_task_type_check`);
    // the routing question's labels: none for a rating, a number, a text or spans
    await q.query(`ALTER TABLE projects DROP CONSTRAINT IF EXISTS projects_labels_check`);
    await q.query(`ALTER TABLE projects ADD CONSTRAINT projects_labels_check CHECK (jsonb_typeof(labels) = 'array')`);
    await q.query(`ALTER TABLE projects ADD COLUMN questions jsonb, ADD COLUMN routing_question text`);
    await q.query(
      `UPDATE projects SET questions = jsonb_build_array(jsonb_build_object('name', 'label', 'kind', 'label', 'required', true, 'labels', labels)), routing_question = 'label'`,
    );
    await q.query(`ALTER TABLE projects ALTER COLUMN questions SET NOT NULL, ALTER COLUMN routing_question SET NOT NULL`);
    await q.query(
      `ALTER TABLE projects ADD CONSTRAINT projects_task_type_check CHECK (task_type IN ('single_label', 'multi_label', 'rating', 'numeric', 'text', 'spans'))`,
    );

    // the model's output for any question, by name, as its kind checked it
    await q.query(`ALTER TABLE predictions ADD COLUMN suggestions jsonb`);

    for (const [table, column] of [
      ['annotations', 'label'],
      ['task_reviews', 'label'],
      ['gold_items', 'label'],
      ['labels', 'value'],
    ]) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN answers jsonb`);
      await q.query(`UPDATE ${table} SET answers = jsonb_build_object('label', ${column})`);
      await q.query(`ALTER TABLE ${table} ALTER COLUMN answers SET NOT NULL`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['labels', 'gold_items', 'task_reviews', 'annotations']) await q.query(`ALTER TABLE ${table} DROP COLUMN IF EXISTS answers`);
    await q.query(`ALTER TABLE predictions DROP COLUMN IF EXISTS suggestions`);
    await q.query(`ALTER TABLE projects DROP CONSTRAINT IF EXISTS projects_task_type_check`);
    await q.query(`ALTER TABLE projects DROP COLUMN IF EXISTS questions, DROP COLUMN IF EXISTS routing_question`);
    await q.query(`ALTER TABLE projects ADD CONSTRAINT projects_task_type_check CHECK (task_type IN ('single_label'))`);
    await q.query(`ALTER TABLE projects DROP CONSTRAINT IF EXISTS projects_labels_check`);
    await q.query(`ALTER TABLE projects ADD CONSTRAINT projects_labels_check CHECK (jsonb_typeof(labels) = 'array' AND jsonb_array_length(labels) >= 2)`);
  }
}

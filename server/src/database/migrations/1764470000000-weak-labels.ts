import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Weak labels (issue 24): labels with source `weak`, the label model's over a project's labeling
 * functions, weighted by their probability; and where the weak module's pass over new predictions
 * has got to, with the model it fitted last.
 */
export class WeakLabels1764470000000 implements MigrationInterface {
  name = 'WeakLabels1764470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE labels DROP CONSTRAINT labels_source_check`);
    await q.query(`ALTER TABLE labels ADD CONSTRAINT labels_source_check CHECK (source IN ('feedback', 'consensus', 'review', 'gold', 'weak'))`);
    await q.query(`
      CREATE TABLE weak_label_state (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        received_at timestamptz,
        prediction_id uuid,
        fitted_at timestamptz,
        model jsonb,
        labelled bigint NOT NULL DEFAULT 0
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE weak_label_state`);
    await q.query(`DELETE FROM labels WHERE source = 'weak'`);
    await q.query(`ALTER TABLE labels DROP CONSTRAINT labels_source_check`);
    await q.query(`ALTER TABLE labels ADD CONSTRAINT labels_source_check CHECK (source IN ('feedback', 'consensus', 'review', 'gold'))`);
  }
}

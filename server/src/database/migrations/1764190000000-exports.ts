import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Export spans: a span claims the labels not yet exported (a row each in span_labels, whose key
 * is the label) in the transaction that creates it, so every finalized label lands in exactly
 * one span; a version is one writing of a span's files (a re-export writes a new version, never
 * over an old one). The claim is a narrow insert rather than an update of `labels` (which would
 * rewrite each label through its four indexes: 6.5 times slower, measured).
 */
export class Exports1764190000000 implements MigrationInterface {
  name = 'Exports1764190000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE export_spans (
        id bigserial PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        span integer NOT NULL CHECK (span >= 1),
        rows integer NOT NULL,
        label_from timestamptz,
        label_to timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, span)
      )`);
    await q.query(`
      CREATE TABLE export_versions (
        id bigserial PRIMARY KEY,
        span_id bigint NOT NULL REFERENCES export_spans (id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 1),
        settings jsonb NOT NULL,
        state text NOT NULL DEFAULT 'writing' CHECK (state IN ('writing', 'completed', 'failed')),
        rows_written integer NOT NULL DEFAULT 0,
        manifest jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        UNIQUE (span_id, version)
      )`);
    // the last tick of each project's export schedule that started an export
    await q.query(`CREATE TABLE export_schedules (project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE, last_fired_at timestamptz NOT NULL)`);
    // which span each exported label is in: a label is in one span at most
    await q.query(`
      CREATE TABLE span_labels (
        label_id bigint PRIMARY KEY,
        span_id bigint NOT NULL REFERENCES export_spans (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX span_labels_span_idx ON span_labels (span_id, label_id)`);
    // superseded by span_labels
    await q.query(`ALTER TABLE labels DROP COLUMN span_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE labels ADD COLUMN IF NOT EXISTS span_id bigint`);
    await q.query(`DROP TABLE IF EXISTS span_labels`);
    await q.query(`DROP TABLE IF EXISTS export_schedules`);
    await q.query(`DROP TABLE IF EXISTS export_versions`);
    await q.query(`DROP TABLE IF EXISTS export_spans`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

export class Capture1764140000000 implements MigrationInterface {
  name = 'Capture1764140000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE predictions (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        model_name text NOT NULL,
        model_version text NOT NULL,
        input jsonb NOT NULL,
        scores jsonb NOT NULL,
        predicted_label text NOT NULL,
        confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        slice jsonb NOT NULL DEFAULT '{}',
        metadata jsonb,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, id)
      )`);
    await q.query(`CREATE INDEX predictions_project_received_idx ON predictions (project_id, received_at)`);

    await q.query(`
      CREATE TABLE feedback_events (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        id text NOT NULL,
        prediction_id uuid NOT NULL,
        type text NOT NULL,
        value jsonb,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        applied_at timestamptz,
        PRIMARY KEY (project_id, id)
      )`);
    await q.query(`CREATE INDEX feedback_events_prediction_idx ON feedback_events (project_id, prediction_id)`);
    // events waiting for their prediction (it may arrive later, from another service)
    await q.query(`CREATE INDEX feedback_events_unapplied_idx ON feedback_events (received_at) WHERE applied_at IS NULL`);

    await q.query(`
      CREATE TABLE labels (
        id bigserial PRIMARY KEY,
        project_id uuid NOT NULL,
        prediction_id uuid NOT NULL,
        value text NOT NULL,
        source text NOT NULL CHECK (source IN ('feedback', 'consensus', 'review', 'gold')),
        rule text,
        feedback_event_id text,
        agreement double precision CHECK (agreement BETWEEN 0 AND 1),
        weight double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
        contradicts_prediction boolean NOT NULL DEFAULT false,
        span_id bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        superseded_at timestamptz,
        FOREIGN KEY (project_id, prediction_id) REFERENCES predictions (project_id, id) ON DELETE CASCADE
      )`);
    // one current label per prediction; superseded ones stay as history
    await q.query(`CREATE UNIQUE INDEX labels_current_key ON labels (project_id, prediction_id) WHERE superseded_at IS NULL`);
    await q.query(`CREATE INDEX labels_prediction_idx ON labels (project_id, prediction_id)`);

    // predictions whose negative-by-absence window is still open
    await q.query(`
      CREATE TABLE feedback_windows (
        project_id uuid NOT NULL,
        prediction_id uuid NOT NULL,
        closes_at timestamptz NOT NULL,
        PRIMARY KEY (project_id, prediction_id),
        FOREIGN KEY (project_id, prediction_id) REFERENCES predictions (project_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX feedback_windows_closes_idx ON feedback_windows (closes_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['feedback_windows', 'labels', 'feedback_events', 'predictions']) await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}

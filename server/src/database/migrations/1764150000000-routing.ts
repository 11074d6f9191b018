import { MigrationInterface, QueryRunner } from 'typeorm';

export class Routing1764150000000 implements MigrationInterface {
  name = 'Routing1764150000000';

  async up(q: QueryRunner): Promise<void> {
    // feedback waiting for its prediction, by project: capture asks after every batch
    await q.query(`CREATE INDEX feedback_events_waiting_idx ON feedback_events (project_id) WHERE applied_at IS NULL`);
    // the routing strategy's score at ingestion
    await q.query(`ALTER TABLE predictions ADD COLUMN uncertainty double precision CHECK (uncertainty BETWEEN 0 AND 1)`);

    await q.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL,
        prediction_id uuid NOT NULL,
        reason text NOT NULL CHECK (reason IN ('uncertain', 'exploration', 'contradiction', 'drift', 'gold')),
        priority double precision NOT NULL,
        inclusion_probability double precision NOT NULL CHECK (inclusion_probability > 0 AND inclusion_probability <= 1),
        uncertainty double precision,
        required_annotations integer NOT NULL DEFAULT 1 CHECK (required_annotations > 0),
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'leased', 'completed', 'escalated', 'review', 'cancelled')),
        created_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (project_id, prediction_id) REFERENCES predictions (project_id, id) ON DELETE CASCADE
      )`);
    // a prediction is routed once: a later reason (a contradiction) raises the priority of its task
    await q.query(`CREATE UNIQUE INDEX tasks_prediction_key ON tasks (project_id, prediction_id)`);
    await q.query(`CREATE INDEX tasks_queue_idx ON tasks (project_id, priority DESC, created_at) WHERE state IN ('queued', 'leased', 'escalated')`);

    // tasks created per budget line and period (hour or day), locked row by row while routing
    await q.query(`
      CREATE TABLE routing_budget_usage (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        period text NOT NULL CHECK (period IN ('hour', 'day')),
        scope text NOT NULL,
        period_start timestamptz NOT NULL,
        used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
        PRIMARY KEY (project_id, period, scope, period_start)
      )`);

    // inputs routed recently: identical inputs within the dedupe window become one task
    await q.query(`
      CREATE TABLE routing_fingerprints (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        fingerprint text NOT NULL,
        routed_until timestamptz NOT NULL,
        PRIMARY KEY (project_id, fingerprint)
      )`);
    await q.query(`CREATE INDEX routing_fingerprints_until_idx ON routing_fingerprints (routed_until)`);

    // the streaming quantile behind a target rate, per model version, so a restart resumes it
    await q.query(`
      CREATE TABLE routing_thresholds (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        model_name text NOT NULL,
        model_version text NOT NULL,
        strategy text NOT NULL,
        target_rate double precision NOT NULL,
        estimator jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, model_name, model_version, strategy, target_rate)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['routing_thresholds', 'routing_fingerprints', 'routing_budget_usage', 'tasks']) await q.query(`DROP TABLE IF EXISTS ${table}`);
    await q.query(`ALTER TABLE predictions DROP COLUMN IF EXISTS uncertainty`);
    await q.query(`DROP INDEX IF EXISTS feedback_events_waiting_idx`);
  }
}

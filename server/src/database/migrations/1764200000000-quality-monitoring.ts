import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quality and monitoring: the last Dawid-Skene re-estimate per project, monitoring settings,
 * a project's feature schema (inferred from traffic or uploaded), alerts (one open alert per
 * subject), and the slice boosts that alerts give routing for a while.
 */
export class QualityMonitoring1764200000000 implements MigrationInterface {
  name = 'QualityMonitoring1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE quality_reestimates (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        at timestamptz NOT NULL,
        relabeled integer NOT NULL,
        kept_exported integer NOT NULL,
        iterations integer NOT NULL,
        converged boolean NOT NULL
      )`);
    await q.query(`ALTER TABLE projects ADD COLUMN monitoring_settings jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`
      CREATE TABLE feature_schemas (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        schema jsonb NOT NULL,
        source text NOT NULL CHECK (source IN ('inferred', 'uploaded')),
        baseline jsonb,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE monitoring_alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('accuracy', 'drift', 'anomaly')),
        subject text NOT NULL,
        slice text,
        feature text,
        model_version text,
        message text NOT NULL,
        value double precision NOT NULL,
        baseline double precision,
        threshold double precision NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      )`);
    // one open alert per subject (an accuracy slice, a feature): evaluating again does not repeat it
    await q.query(`CREATE UNIQUE INDEX monitoring_alerts_open_key ON monitoring_alerts (project_id, subject) WHERE resolved_at IS NULL`);
    await q.query(`CREATE INDEX monitoring_alerts_project_idx ON monitoring_alerts (project_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE routing_boosts (
        alert_id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        slice text NOT NULL CHECK (slice ~ '^[^=]+=.*$'),
        factor double precision NOT NULL CHECK (factor > 0 AND factor <= 100),
        until timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX routing_boosts_project_idx ON routing_boosts (project_id, until)`);
    // monitoring reads a window of predictions by received_at (indexed) and their current labels
    // by labels_current_key: an index on labels' creation time cost a fifth of the labeling
    // gateway's throughput (its right-most page is where every concurrent submit writes)
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['routing_boosts', 'monitoring_alerts', 'feature_schemas', 'quality_reestimates']) await q.query(`DROP TABLE IF EXISTS ${table}`);
    await q.query(`ALTER TABLE projects DROP COLUMN IF EXISTS monitoring_settings`);
  }
}

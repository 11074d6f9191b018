import { MigrationInterface, QueryRunner } from 'typeorm';

export class Interop1764210000000 implements MigrationInterface {
  name = 'Interop1764210000000';

  async up(q: QueryRunner): Promise<void> {
    // per-project settings of the KServe / Seldon / Label Studio integrations (defaults in the contract)
    await q.query(`ALTER TABLE projects ADD COLUMN integration_settings jsonb NOT NULL DEFAULT '{}'`);

    // one row per inference logger event id: the halves seen so far ({attributes, body}), until both are in (paired) or the window closes
    await q.query(`
      CREATE TABLE kserve_events (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        event_id text NOT NULL,
        request jsonb,
        response jsonb,
        received_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        paired_at timestamptz,
        predictions integer CHECK (predictions >= 0),
        PRIMARY KEY (project_id, event_id)
      )`);
    await q.query(`CREATE INDEX kserve_events_unpaired_idx ON kserve_events (expires_at) WHERE paired_at IS NULL`);
    // paired ids are kept a while, so a late duplicate is recognised; pruned by the same job
    await q.query(`CREATE INDEX kserve_events_paired_idx ON kserve_events (paired_at) WHERE paired_at IS NOT NULL`);
    // the sink's status per project: its waiting halves, and its pairs of the last day (read from the index alone)
    await q.query(`CREATE INDEX kserve_events_project_unpaired_idx ON kserve_events (project_id, received_at) WHERE paired_at IS NULL`);
    await q.query(`CREATE INDEX kserve_events_project_paired_idx ON kserve_events (project_id, paired_at) INCLUDE (predictions) WHERE paired_at IS NOT NULL`);

    // what the integrations counted: halves that expired unpaired, pairs refused
    await q.query(`
      CREATE TABLE integration_counters (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        counter text NOT NULL,
        value bigint NOT NULL DEFAULT 0 CHECK (value >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, counter)
      )`);

    // tasks brought in with their answers from another labeling tool (Label Studio)
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_reason_check`);
    await q.query(
      `ALTER TABLE tasks ADD CONSTRAINT tasks_reason_check CHECK (reason IN ('uncertain', 'exploration', 'contradiction', 'drift', 'gold', 'imported'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM tasks WHERE reason = 'imported'`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_reason_check`);
    await q.query(`ALTER TABLE tasks ADD CONSTRAINT tasks_reason_check CHECK (reason IN ('uncertain', 'exploration', 'contradiction', 'drift', 'gold'))`);
    for (const table of ['integration_counters', 'kserve_events']) await q.query(`DROP TABLE IF EXISTS ${table}`);
    await q.query(`ALTER TABLE projects DROP COLUMN IF EXISTS integration_settings`);
  }
}

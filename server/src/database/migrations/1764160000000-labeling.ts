import { MigrationInterface, QueryRunner } from 'typeorm';

export class Labeling1764160000000 implements MigrationInterface {
  name = 'Labeling1764160000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE projects ADD COLUMN labeling_settings jsonb NOT NULL DEFAULT '{"leaseSeconds": 120, "agreementThreshold": 0.6, "showPrediction": false, "goldRate": 0.05, "goldMinAnswers": 10, "goldMinAccuracy": 0.7}'`,
    );

    // items whose true label is known, mixed into raters' streams to measure them
    await q.query(`
      CREATE TABLE gold_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        input jsonb NOT NULL,
        label text NOT NULL,
        scores jsonb,
        source_prediction_id uuid,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX gold_items_source_key ON gold_items (project_id, source_prediction_id) WHERE source_prediction_id IS NOT NULL`);
    // a gold task stands for a gold item instead of a prediction; every rater may answer it once
    await q.query(`ALTER TABLE tasks ALTER COLUMN prediction_id DROP NOT NULL`);
    await q.query(`ALTER TABLE tasks ADD COLUMN gold_item_id uuid UNIQUE REFERENCES gold_items (id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE tasks ADD CONSTRAINT tasks_one_subject CHECK ((prediction_id IS NULL) <> (gold_item_id IS NULL))`);

    // each rater's record on gold, per project; a rater below the bar is paused there
    await q.query(`
      CREATE TABLE rater_quality (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        rater_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        gold_answers integer NOT NULL DEFAULT 0,
        gold_correct integer NOT NULL DEFAULT 0,
        paused_at timestamptz,
        PRIMARY KEY (project_id, rater_id)
      )`);
    await q.query(`ALTER TABLE tasks ADD COLUMN annotations_count integer NOT NULL DEFAULT 0 CHECK (annotations_count >= 0)`);
    await q.query(`ALTER TABLE tasks ADD COLUMN completed_at timestamptz`);

    // a rater's hold on a task; several raters hold one task when it needs several answers
    await q.query(`
      CREATE TABLE task_leases (
        task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        rater_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (task_id, rater_id)
      )`);
    await q.query(`CREATE INDEX task_leases_rater_idx ON task_leases (rater_id, project_id, expires_at)`);

    await q.query(`
      CREATE TABLE annotations (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        rater_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        label text NOT NULL,
        time_spent_ms integer CHECK (time_spent_ms >= 0),
        late boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // a rater answers a task once
    await q.query(`CREATE UNIQUE INDEX annotations_task_rater_key ON annotations (task_id, rater_id)`);
    await q.query(`CREATE INDEX annotations_rater_idx ON annotations (rater_id, created_at)`);

    await q.query(`
      CREATE TABLE task_skips (
        task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        rater_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (task_id, rater_id)
      )`);

    await q.query(`
      CREATE TABLE task_reviews (
        task_id uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        reviewer_id uuid REFERENCES users (id) ON DELETE SET NULL,
        label text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`ALTER TABLE labels ADD COLUMN task_id uuid`);

    // @socket.io/postgres-adapter: payloads too large for a NOTIFY
    await q.query(`CREATE TABLE socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT now(), payload bytea)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE labels DROP COLUMN IF EXISTS task_id`);
    for (const table of ['socket_io_attachments', 'rater_quality', 'task_reviews', 'task_skips', 'annotations', 'task_leases']) await q.query(`DROP TABLE IF EXISTS ${table}`);
    await q.query(`DELETE FROM tasks WHERE gold_item_id IS NOT NULL`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_one_subject, DROP COLUMN IF EXISTS gold_item_id, DROP COLUMN IF EXISTS completed_at, DROP COLUMN IF EXISTS annotations_count`);
    await q.query(`ALTER TABLE tasks ALTER COLUMN prediction_id SET NOT NULL`);
    await q.query(`DROP TABLE IF EXISTS gold_items`);
    await q.query(`ALTER TABLE projects DROP COLUMN IF EXISTS labeling_settings`);
  }
}

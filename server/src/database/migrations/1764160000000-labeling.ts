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
    await q.query(`CREATE INDEX tasks_review_idx ON tasks (project_id, priority DESC, created_at) WHERE state = 'review'`);

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

    /*
     * The claim, in one round trip. Each statement of a VOLATILE plpgsql function takes a new
     * snapshot under READ COMMITTED, so the lease insert, run after the candidate's row lock is
     * held, sees every lease committed before: a slot cannot go to two raters. Returns the
     * leased task (or the rater's oldest held one when they hold the most), or `paused`.
     */
    await q.query(`
      CREATE FUNCTION backflow_claim_task(p_project uuid, p_rater uuid, p_ttl_seconds integer, p_max_held integer, p_review boolean, p_gold boolean)
      RETURNS TABLE (task_id uuid, expires_at timestamptz, paused boolean)
      LANGUAGE plpgsql VOLATILE ROWS 1 AS $fn$
      #variable_conflict use_column
      DECLARE
        v_task uuid;
        v_expires timestamptz;
        v_tried uuid[] := '{}';
      BEGIN
        IF NOT p_review AND EXISTS (SELECT 1 FROM rater_quality q WHERE q.project_id = p_project AND q.rater_id = p_rater AND q.paused_at IS NOT NULL) THEN
          RETURN QUERY SELECT NULL::uuid, NULL::timestamptz, true;
          RETURN;
        END IF;
        -- the task on screen and the pre-loaded next one: at the limit, the oldest held again
        IF (SELECT count(*) FROM task_leases l JOIN tasks t ON t.id = l.task_id
             WHERE l.project_id = p_project AND l.rater_id = p_rater AND l.expires_at > now() AND t.state IN ('queued', 'escalated', 'review')) >= p_max_held THEN
          RETURN QUERY SELECT l.task_id, l.expires_at, false FROM task_leases l JOIN tasks t ON t.id = l.task_id
            WHERE l.project_id = p_project AND l.rater_id = p_rater AND l.expires_at > now() AND t.state IN ('queued', 'escalated', 'review')
            ORDER BY l.claimed_at LIMIT 1;
          RETURN;
        END IF;
        IF p_gold THEN
          -- gold has no slots: every rater answers each item once
          SELECT t.id INTO v_task FROM tasks t
           WHERE t.project_id = p_project AND t.gold_item_id IS NOT NULL AND t.state = 'queued'
             AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.rater_id = p_rater)
             AND NOT EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = p_rater)
             AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.rater_id = p_rater AND l.expires_at > now())
           ORDER BY random() LIMIT 1;
          IF v_task IS NOT NULL THEN
            INSERT INTO task_leases AS l (task_id, rater_id, project_id, expires_at) VALUES (v_task, p_rater, p_project, now() + make_interval(secs => p_ttl_seconds))
            ON CONFLICT (task_id, rater_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, claimed_at = now()
            RETURNING l.expires_at INTO v_expires;
            RETURN QUERY SELECT v_task, v_expires, false;
            RETURN;
          END IF;
        END IF;
        FOR attempt IN 1..8 LOOP
          -- two static queries, so each plan matches its partial index
          IF p_review THEN
            SELECT t.id INTO v_task FROM tasks t
             WHERE t.project_id = p_project AND t.state = 'review' AND t.id <> ALL (v_tried)
               AND NOT EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = p_rater)
               AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.expires_at > now())
             ORDER BY t.priority DESC, t.created_at, t.id
             LIMIT 1
             FOR UPDATE OF t SKIP LOCKED;
          ELSE
            SELECT t.id INTO v_task FROM tasks t
             WHERE t.project_id = p_project AND t.state IN ('queued', 'escalated')
               AND t.gold_item_id IS NULL AND t.id <> ALL (v_tried)
               AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.rater_id = p_rater)
               AND NOT EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = p_rater)
               AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.rater_id = p_rater AND l.expires_at > now())
               AND t.required_annotations - t.annotations_count > (SELECT count(*) FROM task_leases l WHERE l.task_id = t.id AND l.expires_at > now())
             ORDER BY t.priority DESC, t.created_at, t.id
             LIMIT 1
             FOR UPDATE OF t SKIP LOCKED;
          END IF;
          EXIT WHEN v_task IS NULL;
          v_expires := NULL;
          INSERT INTO task_leases AS l (task_id, rater_id, project_id, expires_at)
          SELECT t.id, p_rater, t.project_id, now() + make_interval(secs => p_ttl_seconds) FROM tasks t
           WHERE t.id = v_task
             AND (CASE WHEN t.state = 'review' THEN 1 ELSE t.required_annotations - t.annotations_count END)
                 > (SELECT count(*) FROM task_leases o WHERE o.task_id = t.id AND o.expires_at > now() AND o.rater_id <> p_rater)
          ON CONFLICT (task_id, rater_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, claimed_at = now()
          RETURNING l.expires_at INTO v_expires;
          IF v_expires IS NOT NULL THEN
            RETURN QUERY SELECT v_task, v_expires, false;
            RETURN;
          END IF;
          v_tried := v_tried || v_task;
        END LOOP;
      END
      $fn$`);

    // @socket.io/postgres-adapter: payloads too large for a NOTIFY
    await q.query(`CREATE TABLE socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT now(), payload bytea)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS backflow_claim_task`);
    await q.query(`ALTER TABLE labels DROP COLUMN IF EXISTS task_id`);
    for (const table of ['socket_io_attachments', 'rater_quality', 'task_reviews', 'task_skips', 'annotations', 'task_leases'])
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    await q.query(`DELETE FROM tasks WHERE gold_item_id IS NOT NULL`);
    await q.query(
      `ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_one_subject, DROP COLUMN IF EXISTS gold_item_id, DROP COLUMN IF EXISTS completed_at, DROP COLUMN IF EXISTS annotations_count`,
    );
    await q.query(`ALTER TABLE tasks ALTER COLUMN prediction_id SET NOT NULL`);
    await q.query(`DROP TABLE IF EXISTS gold_items`);
    await q.query(`ALTER TABLE projects DROP COLUMN IF EXISTS labeling_settings`);
  }
}

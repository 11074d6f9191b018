-- The labeling rules the hot path runs in one round trip each: the claim, the consensus and the submit.
-- Applied at boot, after the dated migrations, whenever this file changes (see docs/architecture.md, "Database definitions").

/*
 * The claim, in one round trip. Each statement of a VOLATILE plpgsql function takes a new
 * snapshot under READ COMMITTED, so the lease insert, run after the candidate's row lock is
 * held, sees every lease committed before: a slot cannot go to two raters. Returns the
 * leased task (or the rater's oldest held one when they hold the most), or `paused`.
 */
CREATE OR REPLACE FUNCTION backflow_claim_task(p_project uuid, p_rater uuid, p_ttl_seconds integer, p_max_held integer, p_review boolean, p_gold boolean)
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
$fn$;

/*
 * Majority vote with its agreement ratio (majority count / answers); a tie has no majority.
 * Below the threshold, or tied, one more rater while the task may have one, then review.
 * The TypeScript `decideConsensus` says the same, and a test holds the two equal.
 */
CREATE OR REPLACE FUNCTION backflow_consensus(p_labels text[], p_threshold float8, p_max integer)
RETURNS TABLE (kind text, label text, agreement float8)
LANGUAGE sql IMMUTABLE AS $fn$
  WITH counted AS (
    SELECT l AS label, count(*)::int AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank
      FROM unnest(p_labels) AS l GROUP BY l),
  top AS (
    SELECT (SELECT c.label FROM counted c WHERE c.rank = 1) AS label,
           coalesce((SELECT c.n FROM counted c WHERE c.rank = 1), 0) AS n,
           (SELECT c.n FROM counted c WHERE c.rank = 2) AS second)
  SELECT CASE WHEN top.n > 0 AND top.n IS DISTINCT FROM top.second AND top.n::float8 / cardinality(p_labels) >= p_threshold THEN 'agreed'
              WHEN cardinality(p_labels) < p_max THEN 'escalate'
              ELSE 'review' END,
         CASE WHEN top.n > 0 AND top.n IS DISTINCT FROM top.second AND top.n::float8 / cardinality(p_labels) >= p_threshold THEN top.label END,
         CASE WHEN cardinality(p_labels) = 0 THEN 0 ELSE top.n::float8 / cardinality(p_labels) END
    FROM top
$fn$;

/*
 * Stores a rater's answer to a prediction's task, under the task's row lock, and returns what
 * happened. Outcomes that change nothing: not_found, gold (the caller takes the gold path),
 * duplicate (this annotation id was stored before: its label and lateness come back),
 * id_taken (the id belongs to another task or rater), already_answered, complete, not_claimed.
 * Outcomes that stored the answer: stored (more answers wanted), agreed (the final label is
 * written through `backflow_record_labels` and supersedes any earlier one), escalated, review.
 * A late answer (after its lease expired) is accepted while the task wants it.
 */
CREATE OR REPLACE FUNCTION backflow_submit_annotation(
  p_project uuid, p_task uuid, p_rater uuid, p_annotation uuid, p_label text, p_time_spent integer,
  p_threshold float8, p_max_annotations integer)
RETURNS TABLE (outcome text, task_state text, late boolean, label text, prediction_id uuid, agreement float8)
LANGUAGE plpgsql VOLATILE ROWS 1 AS $fn$
#variable_conflict use_column
DECLARE
  t record;
  prev record;
  v_live boolean;
  v_late boolean;
  v_stored boolean;
  v_answers text[];
  v_decision record;
BEGIN
  SELECT tk.id, tk.prediction_id, tk.gold_item_id, tk.state, tk.required_annotations, tk.annotations_count, p.predicted_label INTO t
    FROM tasks tk LEFT JOIN predictions_read p ON p.project_id = tk.project_id AND p.id = tk.prediction_id
   WHERE tk.project_id = p_project AND tk.id = p_task
     FOR UPDATE OF tk;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found', NULL::text, NULL::boolean, NULL::text, NULL::uuid, NULL::float8;
    RETURN;
  END IF;
  IF t.gold_item_id IS NOT NULL THEN
    RETURN QUERY SELECT 'gold', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8;
    RETURN;
  END IF;
  -- the common case first: the rater holds a lease (live, or expired: a late answer), so has not answered yet
  SELECT l.expires_at > now() INTO v_live FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
  v_stored := false;
  IF FOUND AND t.state IN ('queued', 'escalated') AND t.annotations_count < t.required_annotations THEN
    v_late := NOT v_live;
    INSERT INTO annotations (id, project_id, task_id, rater_id, label, time_spent_ms, late)
    VALUES (p_annotation, p_project, p_task, p_rater, p_label, p_time_spent, v_late)
    ON CONFLICT DO NOTHING;
    v_stored := FOUND;
  END IF;
  IF NOT v_stored THEN
    -- why not: a retry of a stored answer, an id already used, an answer given, a full task, or no lease
    SELECT a.task_id, a.rater_id, a.label, a.late INTO prev FROM annotations a WHERE a.id = p_annotation;
    IF FOUND THEN
      IF prev.task_id <> p_task OR prev.rater_id <> p_rater THEN
        RETURN QUERY SELECT 'id_taken', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8;
      ELSE
        RETURN QUERY SELECT 'duplicate', t.state, prev.late, prev.label, t.prediction_id, NULL::float8;
      END IF;
    ELSIF EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = p_task AND a.rater_id = p_rater) THEN
      RETURN QUERY SELECT 'already_answered', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8;
    ELSIF t.state NOT IN ('queued', 'escalated') OR t.annotations_count >= t.required_annotations THEN
      RETURN QUERY SELECT 'complete', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8;
    ELSE
      RETURN QUERY SELECT 'not_claimed', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8;
    END IF;
    RETURN;
  END IF;

  IF t.annotations_count + 1 < t.required_annotations THEN
    DELETE FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
    UPDATE tasks SET annotations_count = annotations_count + 1 WHERE id = p_task;
    RETURN QUERY SELECT 'stored', t.state, v_late, p_label, t.prediction_id, NULL::float8;
    RETURN;
  END IF;

  -- the last answer wanted: every answer (this one included) decides
  IF t.annotations_count = 0 THEN
    v_answers := ARRAY[p_label];
  ELSE
    SELECT array_agg(a.label) INTO v_answers FROM annotations a WHERE a.task_id = p_task;
  END IF;
  SELECT * INTO v_decision FROM backflow_consensus(v_answers, p_threshold, p_max_annotations);
  IF v_decision.kind = 'agreed' THEN
    -- the final label, superseding any earlier one; raters still holding the task are not needed any more
    DELETE FROM task_leases l WHERE l.task_id = p_task;
    UPDATE tasks SET state = 'completed', completed_at = now(), annotations_count = annotations_count + 1 WHERE id = p_task;
    PERFORM backflow_record_labels(p_project, 'consensus', ARRAY[t.prediction_id], ARRAY[v_decision.label], NULL::text[], NULL::text[], ARRAY[v_decision.agreement], ARRAY[p_task], NULL::float8);
    RETURN QUERY SELECT 'agreed', 'completed', v_late, v_decision.label, t.prediction_id, v_decision.agreement;
  ELSIF v_decision.kind = 'escalate' THEN
    DELETE FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
    UPDATE tasks SET state = 'escalated', required_annotations = cardinality(v_answers) + 1, completed_at = NULL, annotations_count = annotations_count + 1 WHERE id = p_task;
    RETURN QUERY SELECT 'escalated', 'escalated', v_late, p_label, t.prediction_id, v_decision.agreement;
  ELSE
    DELETE FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
    UPDATE tasks SET state = 'review', completed_at = NULL, annotations_count = annotations_count + 1 WHERE id = p_task;
    RETURN QUERY SELECT 'review', 'review', v_late, p_label, t.prediction_id, v_decision.agreement;
  END IF;
END
$fn$;

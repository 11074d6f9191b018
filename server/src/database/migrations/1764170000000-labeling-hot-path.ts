import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rater's hot path, measured (npm run bench, labeling):
 * - a submit in one statement: the answer, the lease it ends, the count, and when the last answer
 *   is in, the consensus and what follows from it (the final label, one more rater, or review).
 *   It was eight round trips in a transaction; it is now one call in its own transaction, like
 *   the claim.
 * - the claim's queue index ends with the task id, the last key of its ORDER BY, so the scan stops
 *   at the first task it can lease instead of sorting every task of equal priority and age.
 * - annotations are indexed for the questions asked of them (a rater's answers in a project,
 *   the project's answers today) and not by rater alone, which a generic plan could pick for the
 *   claim's "not answered by this rater" probe.
 */
export class LabelingHotPath1764170000000 implements MigrationInterface {
  name = 'LabelingHotPath1764170000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX tasks_queue_idx`);
    await q.query(
      `CREATE INDEX tasks_claim_idx ON tasks (project_id, priority DESC, created_at, id) WHERE state IN ('queued', 'escalated') AND gold_item_id IS NULL`,
    );
    await q.query(`DROP INDEX tasks_review_idx`);
    await q.query(`CREATE INDEX tasks_review_idx ON tasks (project_id, priority DESC, created_at, id) WHERE state = 'review'`);
    await q.query(`DROP INDEX annotations_rater_idx`);
    await q.query(`CREATE INDEX annotations_rater_idx ON annotations (project_id, rater_id, created_at)`);
    await q.query(`CREATE INDEX annotations_day_idx ON annotations (project_id, created_at)`);

    /*
     * Majority vote with its agreement ratio (majority count / answers); a tie has no majority.
     * Below the threshold, or tied, one more rater while the task may have one, then review.
     * The TypeScript `decideConsensus` says the same, and a test holds the two equal.
     */
    await q.query(`
      CREATE FUNCTION backflow_consensus(p_labels text[], p_threshold float8, p_max integer)
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
      $fn$`);

    /*
     * Stores a rater's answer to a prediction's task, under the task's row lock, and returns what
     * happened. Outcomes that change nothing: not_found, gold (the caller takes the gold path),
     * duplicate (this annotation id was stored before: its label and lateness come back),
     * id_taken (the id belongs to another task or rater), already_answered, complete, not_claimed.
     * Outcomes that stored the answer: stored (more answers wanted), agreed (the final label is
     * written and supersedes any earlier one), escalated, review. A late answer (after its lease
     * expired) is accepted while the task wants it.
     */
    await q.query(`
      CREATE FUNCTION backflow_submit_annotation(
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
          FROM tasks tk LEFT JOIN predictions p ON p.project_id = tk.project_id AND p.id = tk.prediction_id
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
          -- (two statements: an INSERT beside the UPDATE in one WITH would still meet the old row in the unique index)
          UPDATE labels SET superseded_at = now() WHERE project_id = p_project AND prediction_id = t.prediction_id AND superseded_at IS NULL;
          INSERT INTO labels (project_id, prediction_id, value, source, agreement, task_id, contradicts_prediction)
          VALUES (p_project, t.prediction_id, v_decision.label, 'consensus', v_decision.agreement, p_task, t.predicted_label <> v_decision.label);
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
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS backflow_submit_annotation`);
    await q.query(`DROP FUNCTION IF EXISTS backflow_consensus`);
    await q.query(`DROP INDEX IF EXISTS annotations_day_idx`);
    await q.query(`DROP INDEX IF EXISTS annotations_rater_idx`);
    await q.query(`CREATE INDEX annotations_rater_idx ON annotations (rater_id, created_at)`);
    await q.query(`DROP INDEX IF EXISTS tasks_review_idx`);
    await q.query(`CREATE INDEX tasks_review_idx ON tasks (project_id, priority DESC, created_at) WHERE state = 'review'`);
    await q.query(`DROP INDEX IF EXISTS tasks_claim_idx`);
    await q.query(`CREATE INDEX tasks_queue_idx ON tasks (project_id, priority DESC, created_at) WHERE state IN ('queued', 'leased', 'escalated')`);
  }
}

-- The one writer of `labels`. Applied at boot, after the dated migrations, whenever this file changes.

/*
 * `backflow_record_labels` holds the rule "supersede the current label,
 * insert the new one, a human label beats a feedback label" and sets `contradicts_prediction`
 * for every source: the label is not the predicted one (its text), or, for a ranking (answers
 * that grade items), the model's first candidate is graded below another one. The submit (labeling.functions.sql), `LabelsService` (feedback rules, review, gold, imports)
 * and the Dawid-Skene relabel all call it.
 *
 * Two transactions may write a prediction's current label at once (a rater's answer completes
 * consensus while a feedback rule labels the prediction); under READ COMMITTED the second one's
 * plain INSERT failed on `labels_current_key`. The writer now inserts with `ON CONFLICT … DO
 * NOTHING`, which waits for the other transaction's label and then skips it, and decides again
 * against the label now committed: a human label supersedes it; a feedback label supersedes a
 * feedback one and is history next to a human one. Serialising the writers by a lock instead
 * would need a row every writer takes first: the task (most predictions have none) or the
 * prediction (the submit does not lock it, and would pay another lock on its hot path); an
 * advisory lock would cost the submit a call too. The retry costs nothing until two writers meet.
 *
 * The retry waits for the other writer's transaction, so waits must not form a cycle: every
 * writer takes the task's row, then the prediction's, then writes the label. The submit and review
 * hold the task when they write, and the label's foreign key then takes the prediction (KEY
 * SHARE). The feedback path locks its predictions (FOR UPDATE) and, after its labels, raises their
 * tasks' priority; it took the predictions first, and a submit holding the task waited for it on
 * the prediction while it waited for the task: a deadlock. It now takes the tasks first
 * (`LabelsService.lockTasksOf`). The Dawid-Skene relabel holds labels of completed tasks only.
 *
 * A batch is two statements (supersede, insert); only labels that met another writer's go round
 * again, with the rows left over.
 */
-- (the signatures before answers and before weights: a new argument list is another function, so the old ones go)
DROP FUNCTION IF EXISTS backflow_record_labels(uuid, text, uuid[], text[], text[], text[], float8[], uuid[], float8);
DROP FUNCTION IF EXISTS backflow_record_labels(uuid, text, uuid[], text[], text[], text[], float8[], uuid[], float8, jsonb[], text);

/*
 * Machine labels, weak (the label model's, from labeling functions) and propagated (from the
 * nearest human-labelled embeddings), rank below every other: one is written
 * only where a prediction has no current label at all, is never kept as history beside another,
 * and any other label supersedes it. A weak label supersedes the prediction's weak label of
 * another value (the same value again is not stored twice). `p_weights` is each label's weight
 * (a weak label's probability; 1 when absent).
 */

/*
 * `p_answers` holds each label's answers to every question (jsonb, by question name); a label
 * given only as a value (a feedback rule's) answers the routing question `p_answer_key` alone.
 */
CREATE OR REPLACE FUNCTION backflow_record_labels(
  p_project uuid, p_source text, p_predictions uuid[], p_values text[], p_rules text[], p_feedback_events text[],
  p_agreements float8[], p_tasks uuid[], p_contradiction_confidence float8, p_answers jsonb[] DEFAULT NULL, p_answer_key text DEFAULT 'label',
  p_weights float8[] DEFAULT NULL)
RETURNS TABLE (prediction_id uuid, outcome text, contradicts_prediction boolean)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
-- every lookup is by the batch's keys: an index, even in a plan made while labels was empty (see labeling.functions.sql)
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
DECLARE
  v_human boolean := p_source NOT IN ('feedback', 'weak', 'propagated');
  -- a machine's label: weak or propagated
  v_weak boolean := p_source IN ('weak', 'propagated');
  v_written uuid[];
  v_current boolean[];
  v_contradicts boolean[];
  v_left bigint[];
BEGIN
  -- one label, the submit's, reuses one plan (planning each call halved the rate of submits); a batch is planned
  -- for its length: a generic plan guesses it, and may loop over the whole batch for each of its rows
  IF cardinality(p_predictions) > 1 THEN
    PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
  END IF;
  -- (every lookup of labels and predictions names the batch's ids, so no plan scans a whole project's rows)
  LOOP
    -- (two statements: an INSERT beside the UPDATE in one WITH would still meet the old row in the unique index)
    UPDATE labels l SET superseded_at = now()
      FROM unnest(p_predictions, p_values, p_rules, p_feedback_events) AS b(prediction_id, value, rule, feedback_event_id)
     WHERE l.project_id = p_project AND l.prediction_id = ANY (p_predictions) AND l.prediction_id = b.prediction_id AND l.superseded_at IS NULL
       AND (v_human
            OR (NOT v_weak AND (l.source IN ('weak', 'propagated')
                                OR (l.source = 'feedback' AND (l.value, l.rule, l.feedback_event_id) IS DISTINCT FROM (b.value, b.rule, b.feedback_event_id))))
            OR (v_weak AND l.source = p_source AND l.value IS DISTINCT FROM b.value));
    -- a feedback label next to a human one is history; rows go in in the order the feedback path locks predictions
    WITH written AS (
      INSERT INTO labels (project_id, prediction_id, value, source, rule, feedback_event_id, agreement, task_id, contradicts_prediction, superseded_at, answers, weight,
                          prediction_occurred_on, prediction_occurred_at, predicted_label, prediction_confidence, prediction_model_version, prediction_slice)
      SELECT p_project, b.prediction_id, b.value, p_source, b.rule, b.feedback_event_id, b.agreement, b.task_id,
             coalesce(CASE WHEN jsonb_typeof(b.answers->p_answer_key->0) = 'object' AND (b.answers->p_answer_key->0) ? 'grade'
                           -- a ranking (its items graded): the model's first candidate graded below another one
                           THEN (SELECT max((g->>'grade')::numeric) FROM jsonb_array_elements(b.answers->p_answer_key) AS g)
                                > (SELECT (g->>'grade')::numeric FROM jsonb_array_elements(b.answers->p_answer_key) AS g
                                    WHERE g->>'item' = split_part(p.predicted_label, E'\n', 1))
                           ELSE p.predicted_label <> b.value END
                      AND (v_human OR p.confidence >= p_contradiction_confidence), false),
             CASE WHEN c.source IS NOT NULL AND c.source NOT IN ('weak', 'propagated') THEN now() END,
             coalesce(b.answers, jsonb_build_object(p_answer_key, b.value)),
             coalesce(b.weight, 1),
             -- the prediction's facts monitoring reads (ADR 0045): a prediction never changes once captured
             p.occurred_on, p.occurred_at, p.predicted_label, p.confidence, p.model_version, p.slice
        FROM unnest(p_predictions, p_values, p_rules, p_feedback_events, p_agreements, p_tasks, p_answers, p_weights)
               AS b(prediction_id, value, rule, feedback_event_id, agreement, task_id, answers, weight)
        JOIN predictions_read p ON p.project_id = p_project AND p.id = ANY (p_predictions) AND p.id = b.prediction_id
        LEFT JOIN labels c ON NOT v_human AND c.project_id = p_project AND c.prediction_id = ANY (p_predictions) AND c.prediction_id = b.prediction_id AND c.superseded_at IS NULL
       -- a weak label goes only where no label is current; a feedback one is history beside a human one, once (the
       -- same feedback label decided again, as re-applying the rules to past feedback does, is not kept twice)
       WHERE CASE WHEN v_weak THEN c.source IS NULL ELSE c.source IS DISTINCT FROM 'feedback' END
         AND NOT (NOT v_human AND NOT v_weak AND c.source IS NOT NULL
                  AND EXISTS (SELECT 1 FROM labels h
                               WHERE h.project_id = p_project AND h.prediction_id = b.prediction_id AND h.source = 'feedback'
                                 AND (h.value, h.rule, h.feedback_event_id) IS NOT DISTINCT FROM (b.value, b.rule, b.feedback_event_id)))
       ORDER BY b.prediction_id
      ON CONFLICT (project_id, prediction_id) WHERE superseded_at IS NULL DO NOTHING
      RETURNING prediction_id, superseded_at IS NULL AS is_current, contradicts_prediction)
    SELECT array_agg(w.prediction_id), array_agg(w.is_current), array_agg(w.contradicts_prediction) INTO v_written, v_current, v_contradicts FROM written w;
    RETURN QUERY SELECT w.prediction_id, CASE WHEN w.is_current THEN 'current' ELSE 'history' END, w.contradicts
      FROM unnest(v_written, v_current, v_contradicts) AS w(prediction_id, is_current, contradicts);
    EXIT WHEN coalesce(cardinality(v_written), 0) = cardinality(p_predictions);
    -- not written: the same feedback label again, current or as history beside a human one (nothing to do), or a label
    -- another transaction committed since the UPDATE began, which the INSERT waited for (decide again against it)
    SELECT array_agg(b.i) INTO v_left
      FROM unnest(p_predictions, p_values, p_rules, p_feedback_events) WITH ORDINALITY AS b(prediction_id, value, rule, feedback_event_id, i)
      JOIN predictions_read p ON p.project_id = p_project AND p.id = ANY (p_predictions) AND p.id = b.prediction_id
      LEFT JOIN unnest(v_written) AS w(prediction_id) ON w.prediction_id = b.prediction_id
     WHERE w.prediction_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM labels c
                        WHERE NOT v_human AND c.project_id = p_project AND c.prediction_id = ANY (p_predictions) AND c.prediction_id = b.prediction_id
                          AND c.superseded_at IS NULL
                          -- (a weak label is not written beside any current label)
                          AND (v_weak OR (c.source = 'feedback'
                                          AND (c.value, c.rule, c.feedback_event_id) IS NOT DISTINCT FROM (b.value, b.rule, b.feedback_event_id))
                               OR (c.source NOT IN ('feedback', 'weak', 'propagated')
                                   AND EXISTS (SELECT 1 FROM labels h
                                                WHERE h.project_id = p_project AND h.prediction_id = b.prediction_id AND h.source = 'feedback'
                                                  AND (h.value, h.rule, h.feedback_event_id) IS NOT DISTINCT FROM (b.value, b.rule, b.feedback_event_id)))));
    EXIT WHEN v_left IS NULL;
    p_predictions := ARRAY(SELECT p_predictions[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_values := ARRAY(SELECT p_values[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_rules := ARRAY(SELECT p_rules[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_feedback_events := ARRAY(SELECT p_feedback_events[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_agreements := ARRAY(SELECT p_agreements[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_tasks := ARRAY(SELECT p_tasks[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_answers := ARRAY(SELECT p_answers[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
    p_weights := ARRAY(SELECT p_weights[i] FROM unnest(v_left) WITH ORDINALITY AS x(i, n) ORDER BY n);
  END LOOP;
END
$fn$;

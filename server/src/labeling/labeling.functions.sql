-- The labeling rules the hot path runs in one round trip each: the claim, the consensus and the submit.
-- Applied at boot, after the dated migrations, whenever this file changes (see docs/architecture.md, "Database definitions").
--
-- The claim and the submit reach every row by a key, and run with sequential scans off
-- (`SET enable_seqscan = off`): a connection keeps a function's plans for its life, and a plan
-- made while a table was empty or small (a new installation's first minutes, the first answers
-- of a project) scanned the table for every claim and submit afterwards, slower with each answer
-- until the next ANALYZE invalidated it. With the setting, the planner takes the key's index
-- whatever it believes of the table's size.

/*
 * The claim, in one round trip. Each statement of a VOLATILE plpgsql function takes a new
 * snapshot under READ COMMITTED, so the lease insert, run after the candidate's row lock is
 * held, sees every lease committed before: a slot cannot go to two raters. Returns the
 * leased task (or the rater's oldest held one when they hold the most), or `paused`.
 */
CREATE OR REPLACE FUNCTION backflow_claim_task(p_project uuid, p_rater uuid, p_ttl_seconds integer, p_max_held integer, p_review boolean, p_gold boolean)
RETURNS TABLE (task_id uuid, expires_at timestamptz, paused boolean)
LANGUAGE plpgsql VOLATILE ROWS 1
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
DECLARE
  v_task uuid;
  v_expires timestamptz;
  v_tried uuid[] := '{}';
  v_paused boolean;
  v_held bigint;
BEGIN
  -- (one statement for both: each statement of a function costs its executor's start and end)
  SELECT NOT p_review AND EXISTS (SELECT 1 FROM rater_quality q WHERE q.project_id = p_project AND q.rater_id = p_rater AND q.paused_at IS NOT NULL),
         (SELECT count(*) FROM task_leases l JOIN tasks t ON t.id = l.task_id
           WHERE l.project_id = p_project AND l.rater_id = p_rater AND l.expires_at > now() AND t.state IN ('queued', 'escalated', 'review'))
    INTO v_paused, v_held;
  IF v_paused THEN
    RETURN QUERY SELECT NULL::uuid, NULL::timestamptz, true;
    RETURN;
  END IF;
  -- the task on screen and the pre-loaded next one: at the limit, the oldest held again
  IF v_held >= p_max_held THEN
    RETURN QUERY SELECT l.task_id, l.expires_at, false FROM task_leases l JOIN tasks t ON t.id = l.task_id
      WHERE l.project_id = p_project AND l.rater_id = p_rater AND l.expires_at > now() AND t.state IN ('queued', 'escalated', 'review')
      ORDER BY l.claimed_at LIMIT 1;
    RETURN;
  END IF;
  IF p_gold THEN
    -- gold has no slots: every rater answers each item once (the probes as below)
    SELECT t.id INTO v_task FROM tasks t
     WHERE t.project_id = p_project AND t.gold_item_id IS NOT NULL AND t.state = 'queued'
       AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.rater_id = p_rater OFFSET 0)
       AND NOT EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = p_rater OFFSET 0)
       AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.rater_id = p_rater AND l.expires_at > now() OFFSET 0)
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
    -- two static queries, so each plan matches its partial index. A candidate is tested by key
    -- probes, in this order (a CASE fixes it): its live leases first (a slot free, none of them
    -- this rater's), which pass over the tasks other raters hold at the head of the queue with
    -- one probe each; then this rater's answer and skip. OFFSET 0 keeps each test a probe: as an
    -- anti-join or a hashed subplan, a plan made while the tables were young read every
    -- annotation of the project for each claim, which slowed as answers came in until the next ANALYZE.
    IF p_review THEN
      SELECT t.id INTO v_task FROM tasks t
       WHERE t.project_id = p_project AND t.state = 'review' AND t.id <> ALL (v_tried)
         AND CASE WHEN NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.expires_at > now() OFFSET 0)
                  THEN NOT EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = p_rater OFFSET 0)
                  ELSE false END
       ORDER BY t.priority DESC, t.created_at, t.id
       LIMIT 1
       FOR UPDATE OF t SKIP LOCKED;
    ELSE
      SELECT t.id INTO v_task FROM tasks t
       WHERE t.project_id = p_project AND t.state IN ('queued', 'escalated')
         AND t.gold_item_id IS NULL AND t.id <> ALL (v_tried)
         AND CASE
               -- a free slot, none of the task's leases this rater's: with one slot left (the usual
               -- case) that is nobody holding the task, without counting
               WHEN CASE WHEN t.required_annotations - t.annotations_count = 1
                         THEN NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.expires_at > now() OFFSET 0)
                         ELSE t.required_annotations - t.annotations_count
                              > (SELECT CASE WHEN bool_or(l.rater_id = p_rater) THEN 2147483647 ELSE count(*) END
                                   FROM task_leases l WHERE l.task_id = t.id AND l.expires_at > now())
                    END
               -- then not answered nor skipped by this rater
               THEN NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.rater_id = p_rater OFFSET 0)
                AND NOT EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = p_rater OFFSET 0)
               ELSE false
             END
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
      -- (the result row by its columns and RETURN NEXT: a RETURN QUERY is one more statement to start and end)
      task_id := v_task;
      expires_at := v_expires;
      paused := false;
      RETURN NEXT;
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
 * One question's consensus over the answers it got (jsonb, as the kind checked them): the SQL
 * twin of each kind's `consensus` in libs/questions, held equal to it by a test
 * (test/e2e/question-consensus-sql.e2e-spec.ts). Kinds: label (plurality, untied),
 * multi_label (a majority per label; the agreement is the smallest per-label share), rating
 * (the lower median; the share within max_spread points of it), numeric (the lower median,
 * answers beyond the tolerance dropped as outliers, the lower median of the rest), text (the
 * most given text, ends trimmed, matched by another rater unless one was asked), spans (a
 * majority per code point and label; runs of kept points are the spans).
 */
CREATE OR REPLACE FUNCTION backflow_question_consensus(p_question jsonb, p_given jsonb[], p_threshold float8)
RETURNS TABLE (decided boolean, value jsonb, agreement float8)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  m integer := coalesce(cardinality(p_given), 0);
  v_kind text := p_question->>'kind';
  v_top integer;
  v_second integer;
  v_value jsonb;
  v_agreement float8;
  v_tied boolean;
  v_median float8;
  v_at bigint;
  v_tolerance float8;
  v_kept integer;
  v_marked integer;
BEGIN
  IF m = 0 THEN
    RETURN QUERY SELECT false, NULL::jsonb, 0::float8;
    RETURN;
  END IF;
  IF v_kind IN ('label', 'text', 'generation', 'preference') THEN
    WITH counted AS (
      SELECT CASE WHEN v_kind IN ('text', 'generation') THEN to_jsonb(btrim(a #>> '{}', E' \t\n\r')) ELSE a END AS v, count(*)::int AS n
        FROM unnest(p_given) AS a GROUP BY 1),
    ranked AS (SELECT v, n, row_number() OVER (ORDER BY n DESC) AS rank FROM counted)
    SELECT (SELECT r.v FROM ranked r WHERE r.rank = 1), (SELECT r.n FROM ranked r WHERE r.rank = 1), (SELECT r.n FROM ranked r WHERE r.rank = 2)
      INTO v_value, v_top, v_second;
    v_agreement := v_top::float8 / m;
    -- (a text given once, with two raters or more, ties another: only a matched text can win)
    IF v_top IS DISTINCT FROM v_second AND v_agreement >= p_threshold THEN
      RETURN QUERY SELECT true, v_value, v_agreement;
    ELSE
      RETURN QUERY SELECT false, NULL::jsonb, v_agreement;
    END IF;
  ELSIF v_kind = 'multi_label' THEN
    SELECT coalesce(min(greatest(c.n, m - c.n)::float8 / m), 1), coalesce(bool_or(2 * c.n = m), false),
           coalesce(jsonb_agg(to_jsonb(c.name) ORDER BY c.ord) FILTER (WHERE 2 * c.n > m), '[]'::jsonb)
      INTO v_agreement, v_tied, v_value
      FROM (SELECT l.value->>'name' AS name, l.ord, (SELECT count(*)::int FROM unnest(p_given) AS a WHERE a ? (l.value->>'name')) AS n
              FROM jsonb_array_elements(p_question->'labels') WITH ORDINALITY AS l(value, ord)) c;
    IF NOT v_tied AND v_agreement >= p_threshold THEN
      RETURN QUERY SELECT true, v_value, v_agreement;
    ELSE
      RETURN QUERY SELECT false, NULL::jsonb, v_agreement;
    END IF;
  ELSIF v_kind = 'rating' THEN
    SELECT a INTO v_value FROM unnest(p_given) AS a ORDER BY a::float8 OFFSET (m - 1) / 2 LIMIT 1;
    SELECT p.ord INTO v_at FROM jsonb_array_elements(p_question->'points') WITH ORDINALITY AS p(point, ord) WHERE (p.point->'value')::float8 = v_value::float8;
    SELECT count(*)::int INTO v_kept
      FROM unnest(p_given) AS a JOIN jsonb_array_elements(p_question->'points') WITH ORDINALITY AS p(point, ord) ON (p.point->'value')::float8 = a::float8
     WHERE abs(p.ord - v_at) <= coalesce((p_question->>'maxSpread')::int, 1);
    v_agreement := v_kept::float8 / m;
    IF v_agreement >= p_threshold THEN
      RETURN QUERY SELECT true, v_value, v_agreement;
    ELSE
      RETURN QUERY SELECT false, NULL::jsonb, v_agreement;
    END IF;
  ELSIF v_kind = 'numeric' THEN
    SELECT a::float8 INTO v_median FROM unnest(p_given) AS a ORDER BY a::float8 OFFSET (m - 1) / 2 LIMIT 1;
    v_tolerance := greatest(coalesce((p_question->>'tolerance')::float8, 0), coalesce((p_question->>'relativeTolerance')::float8, 0.05) * abs(v_median));
    SELECT count(*)::int INTO v_kept FROM unnest(p_given) AS a WHERE abs(a::float8 - v_median) <= v_tolerance;
    SELECT a INTO v_value FROM unnest(p_given) AS a WHERE abs(a::float8 - v_median) <= v_tolerance ORDER BY a::float8 OFFSET (v_kept - 1) / 2 LIMIT 1;
    v_agreement := v_kept::float8 / m;
    IF v_agreement >= p_threshold THEN
      RETURN QUERY SELECT true, v_value, v_agreement;
    ELSE
      RETURN QUERY SELECT false, NULL::jsonb, v_agreement;
    END IF;
  ELSIF v_kind = 'spans' THEN
    WITH marks AS (
      SELECT DISTINCT r.i, s->>'label' AS label, pos
        FROM unnest(p_given) WITH ORDINALITY AS r(a, i)
        CROSS JOIN LATERAL jsonb_array_elements(r.a) AS s
        CROSS JOIN LATERAL generate_series((s->>'start')::int, (s->>'end')::int - 1) AS pos),
    counted AS (SELECT label, pos, count(*)::int AS n FROM marks GROUP BY label, pos),
    kept AS (SELECT label, pos, pos - row_number() OVER (PARTITION BY label ORDER BY pos) AS run FROM counted WHERE 2 * n > m),
    spans AS (
      SELECT min(k.pos) AS start, max(k.pos) + 1 AS "end", k.label, l.ord
        FROM kept k JOIN jsonb_array_elements(p_question->'labels') WITH ORDINALITY AS l(value, ord) ON l.value->>'name' = k.label
       GROUP BY k.label, k.run, l.ord)
    SELECT (SELECT count(*)::int FROM counted), (SELECT count(*)::int FROM kept),
           coalesce((SELECT jsonb_agg(jsonb_build_object('start', s.start, 'end', s."end", 'label', s.label) ORDER BY s.start, s."end", s.ord) FROM spans s), '[]'::jsonb)
      INTO v_marked, v_kept, v_value;
    v_agreement := CASE WHEN v_marked = 0 THEN 1 ELSE v_kept::float8 / v_marked END;
    IF v_agreement >= p_threshold THEN
      RETURN QUERY SELECT true, v_value, v_agreement;
    ELSE
      RETURN QUERY SELECT false, NULL::jsonb, v_agreement;
    END IF;
  ELSIF v_kind = 'ranking' THEN
    -- per item graded by most raters: the lower median grade, and the share of its grades within maxSpread grades of it;
    -- the list agrees as far as its least agreed item (1 with no item); items in id order (ASCII ids: "C" orders them as the library does)
    WITH g AS (
      SELECT e->>'item' AS item, e->'grade' AS grade, p.ord
        FROM unnest(p_given) AS a
        CROSS JOIN LATERAL jsonb_array_elements(a) AS e
        JOIN jsonb_array_elements(p_question->'grades') WITH ORDINALITY AS p(point, ord) ON (p.point->'value')::float8 = (e->'grade')::float8),
    items AS (SELECT g.item, count(*)::int AS n FROM g GROUP BY g.item HAVING 2 * count(*) > m),
    medians AS (
      SELECT i.item, i.n, md.grade, md.ord
        FROM items i CROSS JOIN LATERAL (SELECT g.grade, g.ord FROM g WHERE g.item = i.item ORDER BY g.ord OFFSET (i.n - 1) / 2 LIMIT 1) md)
    SELECT coalesce(min((SELECT count(*) FROM g WHERE g.item = md.item AND abs(g.ord - md.ord) <= coalesce((p_question->>'maxSpread')::int, 1))::float8 / md.n), 1),
           coalesce(jsonb_agg(jsonb_build_object('item', md.item, 'grade', md.grade) ORDER BY md.item COLLATE "C"), '[]'::jsonb)
      INTO v_agreement, v_value
      FROM medians md;
    IF v_agreement >= p_threshold THEN
      RETURN QUERY SELECT true, v_value, v_agreement;
    ELSE
      RETURN QUERY SELECT false, NULL::jsonb, v_agreement;
    END IF;
  ELSE
    RAISE EXCEPTION 'unknown question kind %', v_kind;
  END IF;
END
$fn$;

/*
 * What several raters' answers to a task decide, question by question: agreed when every
 * question is; otherwise one more rater while fewer than p_max answered, then review. A question
 * that is not required keeps an answer when most raters gave one. The agreement is the smallest
 * of the questions'. The SQL twin of `decideAnswers` (libs/questions).
 */
CREATE OR REPLACE FUNCTION backflow_decide_answers(p_questions jsonb, p_answers jsonb[], p_threshold float8, p_max integer)
RETURNS TABLE (kind text, answers jsonb, agreement float8)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  n integer := coalesce(cardinality(p_answers), 0);
  q jsonb;
  v_name text;
  v_one jsonb;
  v_given jsonb[];
  v_decision record;
  v_answers jsonb := '{}';
  v_agreement float8 := 1;
  v_decided boolean := n > 0;
BEGIN
  -- (an integer loop, and one answer read without a query: each statement of a function costs an
  -- executor's start and end, and this runs in every submit of a project of questions)
  FOR i IN 0 .. jsonb_array_length(p_questions) - 1 LOOP
    q := p_questions->i;
    v_name := q->>'name';
    IF n = 1 THEN
      v_one := p_answers[1]->v_name;
      v_given := CASE WHEN v_one IS NULL OR jsonb_typeof(v_one) = 'null' THEN '{}'::jsonb[] ELSE ARRAY[v_one] END;
    ELSE
      v_given := ARRAY(SELECT a->v_name FROM unnest(p_answers) AS a WHERE jsonb_typeof(a->v_name) IS DISTINCT FROM 'null' AND a ? v_name);
    END IF;
    CONTINUE WHEN NOT coalesce((q->>'required')::boolean, true) AND 2 * cardinality(v_given) <= n;
    -- one answer of a kind whose consensus of one is that answer (the common overlap of one): no query to run
    IF cardinality(v_given) = 1 AND q->>'kind' IN ('label', 'multi_label', 'rating', 'numeric', 'text', 'generation', 'preference') THEN
      v_answers := v_answers || jsonb_build_object(v_name, CASE WHEN q->>'kind' IN ('text', 'generation') THEN to_jsonb(btrim(v_given[1] #>> '{}', E' \t\n\r')) ELSE v_given[1] END);
      CONTINUE;
    END IF;
    SELECT * INTO v_decision FROM backflow_question_consensus(q, v_given, p_threshold);
    v_agreement := least(v_agreement, v_decision.agreement);
    IF v_decision.decided THEN
      v_answers := v_answers || jsonb_build_object(v_name, v_decision.value);
    ELSE
      v_decided := false;
    END IF;
  END LOOP;
  IF n = 0 THEN
    v_agreement := 0;
  END IF;
  IF v_decided THEN
    RETURN QUERY SELECT 'agreed', v_answers, v_agreement;
  ELSE
    RETURN QUERY SELECT CASE WHEN n < p_max THEN 'escalate' ELSE 'review' END, NULL::jsonb, v_agreement;
  END IF;
END
$fn$;

/*
 * An answer as one text, what labels.value and predictions.predicted_label hold: the SQL twin of
 * `answerText` (libs/questions). A label or a text as itself, a number by its digits, a label set
 * one label per line, spans as start:end:label lines.
 */
CREATE OR REPLACE FUNCTION backflow_answer_text(p_kind text, p_answer jsonb)
RETURNS text
-- (plpgsql, compiled once per connection: as an SQL function with subqueries, which cannot be inlined, it was prepared again in each submit's transaction)
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  IF p_kind IN ('label', 'text', 'generation') THEN
    RETURN p_answer #>> '{}';
  ELSIF p_kind = 'preference' THEN
    RETURN p_answer->>'preferred';
  ELSIF p_kind IN ('rating', 'numeric') THEN
    RETURN p_answer::text;
  ELSIF p_kind = 'multi_label' THEN
    RETURN (SELECT coalesce(string_agg(e, E'\n' ORDER BY o), '') FROM jsonb_array_elements_text(p_answer) WITH ORDINALITY AS x(e, o));
  ELSIF p_kind = 'ranking' THEN
    RETURN (SELECT coalesce(string_agg((g->>'item') || ':' || (g->'grade')::text, E'\n' ORDER BY o), '') FROM jsonb_array_elements(p_answer) WITH ORDINALITY AS x(g, o));
  END IF;
  RETURN (SELECT coalesce(string_agg((s->>'start') || ':' || (s->>'end') || ':' || (s->>'label'), E'\n' ORDER BY o), '')
            FROM jsonb_array_elements(p_answer) WITH ORDINALITY AS x(s, o));
END
$fn$;

-- (the signature before answers: a new argument list is another function, so the old one goes)
DROP FUNCTION IF EXISTS backflow_submit_annotation(uuid, uuid, uuid, uuid, text, integer, float8, integer);

/*
 * Stores a rater's answer to a prediction's task, under the task's row lock, and returns what
 * happened. Outcomes that change nothing: not_found, gold (the caller takes the gold path),
 * duplicate (this annotation id was stored before: its answers and lateness come back),
 * id_taken (the id belongs to another task or rater), already_answered, complete, not_claimed,
 * span_out_of_range (a span ends past its field's text: `p_span_ends` maps a field to the
 * largest end the answer gives in it), items_mismatch (a ranking's grades are not of the list's
 * candidates, each once; the question comes back as `label`). Outcomes that stored the answer: stored (more answers
 * wanted), agreed (the final label is written through `backflow_record_labels` and supersedes
 * any earlier one), escalated, review. A late answer (after its lease expired) is accepted while
 * the task wants it.
 *
 * `p_label` is the routing question's answer as text, `p_answers` every answer. A project of one
 * label question passes no `p_alone`: its consensus is the plain majority over labels
 * (`backflow_consensus`). A project of questions passes in `p_alone` what this answer decides
 * when it is the task's only one (`decideAnswers` of libs/questions, the reference the SQL twin is
 * tested against: `{kind, answers, agreement, label}`, label the routing answer as text), which is
 * the common case of an overlap of one and then costs no consensus here; when others answered
 * before, every question decides over all the answers (`backflow_decide_answers`) by the
 * project's questions as stored.
 */
-- (p_questions, the project's questions sent with every submit, became p_alone; p_items came after: a new parameter list is another function)
DROP FUNCTION IF EXISTS backflow_submit_annotation(uuid, uuid, uuid, uuid, text, integer, float8, integer, jsonb, jsonb, text, jsonb);

CREATE OR REPLACE FUNCTION backflow_submit_annotation(
  p_project uuid, p_task uuid, p_rater uuid, p_annotation uuid, p_label text, p_time_spent integer,
  p_threshold float8, p_max_annotations integer, p_answers jsonb, p_alone jsonb, p_routing text, p_span_ends jsonb, p_items jsonb)
RETURNS TABLE (outcome text, task_state text, late boolean, label text, prediction_id uuid, agreement float8, answers jsonb)
LANGUAGE plpgsql VOLATILE ROWS 1
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
DECLARE
  t record;
  prev record;
  v_live boolean;
  v_late boolean;
  v_stored boolean;
  v_labels text[];
  v_all jsonb[];
  v_outcome text;
  v_agreement float8;
  v_decided jsonb;
  v_label text;
  v_questions jsonb;
BEGIN
  SELECT tk.id, tk.prediction_id, tk.gold_item_id, tk.state, tk.required_annotations, tk.annotations_count INTO t
    FROM tasks tk
   WHERE tk.project_id = p_project AND tk.id = p_task
     FOR UPDATE OF tk;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found', NULL::text, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
    RETURN;
  END IF;
  IF t.gold_item_id IS NOT NULL THEN
    RETURN QUERY SELECT 'gold', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
    RETURN;
  END IF;
  -- (nested: a condition without a query is evaluated without starting an executor; the
  -- prediction's input is read for spans only)
  IF p_span_ends IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM predictions_read p, jsonb_each_text(p_span_ends) AS e
                WHERE p.project_id = p_project AND p.id = t.prediction_id
                  AND (jsonb_typeof(p.input->e.key) IS DISTINCT FROM 'string' OR char_length(p.input->>e.key) < e.value::int)) THEN
      RETURN QUERY SELECT 'span_out_of_range', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
      RETURN;
    END IF;
  END IF;
  -- a ranking's answer grades the list's candidates, each once: `p_items` maps the question to the items graded, in id order
  IF p_items IS NOT NULL THEN
    SELECT e.key INTO v_label
      FROM predictions_read p, jsonb_each(p_items) AS e
     WHERE p.project_id = p_project AND p.id = t.prediction_id
       AND (SELECT coalesce(jsonb_agg(c->'item' ORDER BY c->>'item' COLLATE "C"), '[]'::jsonb)
              FROM jsonb_array_elements(CASE jsonb_typeof(p.suggestions->e.key->'candidates') WHEN 'array' THEN p.suggestions->e.key->'candidates' ELSE '[]'::jsonb END) AS c)
           IS DISTINCT FROM e.value
     LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT 'items_mismatch', t.state, NULL::boolean, v_label, NULL::uuid, NULL::float8, NULL::jsonb;
      RETURN;
    END IF;
  END IF;
  -- the common case first: the rater holds a lease (live, or expired: a late answer), so has not answered yet
  SELECT l.expires_at > now() INTO v_live FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
  v_stored := false;
  IF FOUND AND t.state IN ('queued', 'escalated') AND t.annotations_count < t.required_annotations THEN
    v_late := NOT v_live;
    INSERT INTO annotations (id, project_id, task_id, rater_id, label, answers, time_spent_ms, late)
    VALUES (p_annotation, p_project, p_task, p_rater, p_label, p_answers, p_time_spent, v_late)
    ON CONFLICT DO NOTHING;
    v_stored := FOUND;
  END IF;
  IF NOT v_stored THEN
    -- why not: a retry of a stored answer, an id already used, an answer given, a full task, or no lease
    SELECT a.task_id, a.rater_id, a.label, a.late, a.answers INTO prev FROM annotations a WHERE a.id = p_annotation;
    IF FOUND THEN
      IF prev.task_id <> p_task OR prev.rater_id <> p_rater THEN
        RETURN QUERY SELECT 'id_taken', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
      ELSE
        RETURN QUERY SELECT 'duplicate', t.state, prev.late, prev.label, t.prediction_id, NULL::float8, prev.answers;
      END IF;
    ELSIF EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = p_task AND a.rater_id = p_rater) THEN
      RETURN QUERY SELECT 'already_answered', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
    ELSIF t.state NOT IN ('queued', 'escalated') OR t.annotations_count >= t.required_annotations THEN
      RETURN QUERY SELECT 'complete', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
    ELSE
      RETURN QUERY SELECT 'not_claimed', t.state, NULL::boolean, NULL::text, NULL::uuid, NULL::float8, NULL::jsonb;
    END IF;
    RETURN;
  END IF;

  IF t.annotations_count + 1 < t.required_annotations THEN
    DELETE FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
    UPDATE tasks SET annotations_count = annotations_count + 1 WHERE id = p_task;
    -- (the outcome by its columns and RETURN NEXT, as in the claim)
    outcome := 'stored'; task_state := t.state; late := v_late; label := p_label; prediction_id := t.prediction_id; agreement := NULL; answers := p_answers;
    RETURN NEXT;
    RETURN;
  END IF;

  -- the last answer wanted: every answer (this one included) decides
  IF p_alone IS NULL THEN
    IF t.annotations_count = 0 THEN
      v_labels := ARRAY[p_label];
    ELSE
      SELECT array_agg(a.label) INTO v_labels FROM annotations a WHERE a.task_id = p_task;
    END IF;
    IF cardinality(v_labels) = 1 AND p_threshold <= 1 THEN
      -- a majority of one, as backflow_consensus has it, without a statement
      v_outcome := 'agreed';
      v_label := p_label;
      v_agreement := 1;
    ELSE
      SELECT c.kind, c.label, c.agreement INTO v_outcome, v_label, v_agreement FROM backflow_consensus(v_labels, p_threshold, p_max_annotations) c;
    END IF;
    v_decided := CASE WHEN v_outcome = 'agreed' THEN jsonb_build_object(p_routing, v_label) END;
  ELSIF t.annotations_count = 0 THEN
    -- this answer alone decides, as the caller worked out
    v_outcome := CASE p_alone->>'kind' WHEN 'escalate' THEN 'escalate' WHEN 'review' THEN 'review' ELSE 'agreed' END;
    v_agreement := (p_alone->>'agreement')::float8;
    v_decided := p_alone->'answers';
    v_label := p_alone->>'label';
  ELSE
    SELECT pr.questions INTO v_questions FROM projects_read pr WHERE pr.id = p_project;
    SELECT array_agg(a.answers ORDER BY a.created_at, a.id) INTO v_all FROM annotations a WHERE a.task_id = p_task;
    SELECT d.kind, d.answers, d.agreement INTO v_outcome, v_decided, v_agreement FROM backflow_decide_answers(v_questions, v_all, p_threshold, p_max_annotations) d;
    IF v_outcome = 'agreed' THEN
      v_label := backflow_answer_text(jsonb_path_query_first(v_questions, '$[*] ? (@.name == $name).kind', jsonb_build_object('name', p_routing)) #>> '{}',
                                      v_decided->p_routing);
    END IF;
  END IF;
  IF v_outcome = 'agreed' THEN
    -- the final label, superseding any earlier one; raters still holding the task are not needed any more
    DELETE FROM task_leases l WHERE l.task_id = p_task;
    UPDATE tasks SET state = 'completed', completed_at = now(), annotations_count = annotations_count + 1 WHERE id = p_task;
    PERFORM backflow_record_labels(p_project, 'consensus', ARRAY[t.prediction_id], ARRAY[v_label], NULL::text[], NULL::text[], ARRAY[v_agreement],
                                   ARRAY[p_task], NULL::float8, ARRAY[v_decided], p_routing);
    outcome := 'agreed'; task_state := 'completed'; late := v_late; label := v_label; prediction_id := t.prediction_id; agreement := v_agreement; answers := v_decided;
  ELSIF v_outcome = 'escalate' THEN
    DELETE FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
    UPDATE tasks SET state = 'escalated', required_annotations = t.annotations_count + 2, completed_at = NULL, annotations_count = annotations_count + 1 WHERE id = p_task;
    outcome := 'escalated'; task_state := 'escalated'; late := v_late; label := p_label; prediction_id := t.prediction_id; agreement := v_agreement; answers := p_answers;
  ELSE
    DELETE FROM task_leases l WHERE l.task_id = p_task AND l.rater_id = p_rater;
    UPDATE tasks SET state = 'review', completed_at = NULL, annotations_count = annotations_count + 1 WHERE id = p_task;
    outcome := 'review'; task_state := 'review'; late := v_late; label := p_label; prediction_id := t.prediction_id; agreement := v_agreement; answers := p_answers;
  END IF;
  RETURN NEXT;
END
$fn$;

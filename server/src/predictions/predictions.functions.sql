-- Partitions of predictions: a project's partitioned table (LIST by project), and its leaves (RANGE by occurred_on,
-- the UTC day of the prediction's timestamp). Applied at boot, after the dated migrations, whenever this file changes.

-- Makes sure a partition of predictions covers each of `p_days` for the project (`backflow_time_partitions`: a day a
-- partition with retention, a month without); returns how many partitions it made.
CREATE OR REPLACE FUNCTION backflow_prediction_partitions(p_project uuid, p_days date[], p_daily boolean)
RETURNS int
LANGUAGE sql VOLATILE AS $fn$
  SELECT backflow_time_partitions('predictions', 'prediction_partitions', p_project, p_days, p_daily)
$fn$;

-- Rollups (issue 22). The predictions of [p_from, p_to) aggregated per hour (UTC, of the timestamp), model version and
-- slice: the count, the confidence histogram (20 bins of 0.05; 1 in the last), the predicted labels, and per input
-- feature the inputs that have it (`present`) with either its histogram over the project's edges (`bins`: bin i holds
-- the values above edge i-1 and at or under edge i, the last the values above the last edge) when it is numeric, or
-- the counts of its 100 most frequent values (`values`, the rest in `other`). Lists count each element. The retention
-- job stores it once per hour; monitoring computes the hours not rolled yet with the same function.
CREATE OR REPLACE FUNCTION backflow_prediction_rollup(p_project uuid, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (hour timestamptz, model_version text, slice jsonb, predictions int, confidence jsonb, predicted jsonb, features jsonb)
LANGUAGE sql STABLE
-- the sorts and hashes of a day's feature values (a million rows for 84,000 predictions) stay in memory
SET work_mem = '64MB'
AS $fn$
  WITH p AS MATERIALIZED (
    SELECT date_trunc('hour', p.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS h, p.model_version AS mv, p.slice AS s,
           p.confidence, p.predicted_label, p.input
      FROM predictions p
     WHERE p.project_id = p_project AND p.occurred_at >= p_from AND p.occurred_at < p_to
       AND p.occurred_on BETWEEN (p_from AT TIME ZONE 'UTC')::date AND (p_to AT TIME ZONE 'UTC')::date
  ),
  -- each hour, model version and slice, numbered: the feature values group by the number, not by the slice's JSON
  base AS MATERIALIZED (SELECT h, mv, s, count(*)::int AS n, (row_number() OVER ())::int AS g FROM p GROUP BY h, mv, s),
  pg AS MATERIALIZED (SELECT b.g, p.confidence, p.predicted_label, p.input FROM p JOIN base b ON b.h = p.h AND b.mv = p.mv AND b.s = p.s),
  conf AS (
    SELECT g, jsonb_object_agg(bin, n) AS j
      FROM (SELECT g, least(floor(confidence * 20), 19)::int AS bin, count(*)::int AS n FROM pg WHERE confidence IS NOT NULL GROUP BY 1, 2) c
     GROUP BY g),
  pred AS (
    SELECT g, jsonb_object_agg(label, n) AS j
      FROM (SELECT g, predicted_label AS label, count(*)::int AS n FROM pg WHERE predicted_label IS NOT NULL GROUP BY 1, 2) c
     GROUP BY g),
  ke AS MATERIALIZED (
    SELECT pg.g, e.key AS k, e.value AS val, r.edges
      FROM pg
     CROSS JOIN LATERAL jsonb_each(pg.input) e
      LEFT JOIN prediction_rollup_edges r ON r.project_id = p_project AND r.feature = e.key
  ),
  kv AS MATERIALIZED (
    SELECT ke.g, ke.k, x.v, ke.edges
      FROM ke
     CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(ke.val) = 'array' THEN ke.val ELSE jsonb_build_array(ke.val) END) x(v)
     WHERE CASE WHEN ke.edges IS NULL THEN jsonb_typeof(x.v) IN ('string', 'boolean') ELSE jsonb_typeof(x.v) = 'number' END
  ),
  -- a prediction has a feature when one of its values has the feature's type: counted once per prediction and key
  present AS (
    SELECT g, k, edges IS NOT NULL AS numeric, count(*)::int AS n
      FROM ke
     WHERE CASE WHEN jsonb_typeof(val) = 'array'
                THEN EXISTS (SELECT 1 FROM jsonb_array_elements(val) x(v)
                              WHERE CASE WHEN edges IS NULL THEN jsonb_typeof(x.v) IN ('string', 'boolean') ELSE jsonb_typeof(x.v) = 'number' END)
                ELSE CASE WHEN edges IS NULL THEN jsonb_typeof(val) IN ('string', 'boolean') ELSE jsonb_typeof(val) = 'number' END END
     GROUP BY g, k, edges IS NOT NULL),
  num AS (
    SELECT g, k, jsonb_object_agg(bin, n) AS j
      FROM (SELECT g, k, width_bucket(v::float8, edges) - (v::float8 = ANY (edges))::int AS bin, count(*)::int AS n
              FROM kv WHERE edges IS NOT NULL GROUP BY 1, 2, 3) c
     GROUP BY g, k),
  cat AS (
    SELECT g, k, coalesce(jsonb_object_agg(value, n) FILTER (WHERE rank <= 100), '{}') AS j, coalesce(sum(n) FILTER (WHERE rank > 100), 0)::int AS other
      FROM (SELECT g, k, value, n, row_number() OVER (PARTITION BY g, k ORDER BY n DESC, value) AS rank
              FROM (SELECT g, k, v #>> '{}' AS value, count(*)::int AS n FROM kv WHERE edges IS NULL GROUP BY 1, 2, 3) c) r
     GROUP BY g, k),
  feat AS (
    SELECT f.g,
           jsonb_object_agg(f.k, CASE WHEN f.numeric THEN jsonb_build_object('present', f.n, 'bins', num.j)
                                      ELSE jsonb_build_object('present', f.n, 'values', cat.j, 'other', cat.other) END) AS j
      FROM present f
      LEFT JOIN num ON num.g = f.g AND num.k = f.k AND f.numeric
      LEFT JOIN cat ON cat.g = f.g AND cat.k = f.k AND NOT f.numeric
     GROUP BY f.g)
  SELECT b.h, b.mv, b.s, b.n, coalesce(conf.j, '{}'), coalesce(pred.j, '{}'), coalesce(feat.j, '{}')
    FROM base b
    LEFT JOIN conf ON conf.g = b.g
    LEFT JOIN pred ON pred.g = b.g
    LEFT JOIN feat ON feat.g = b.g
   ORDER BY b.h, b.mv, b.s
$fn$;

-- What came after the predictions of [p_from, p_to), per hour, model version and slice: their current labels by source,
-- and per feedback event type the predictions with one, the events, and the edits' distances (count, sum, sum of
-- squares). For a ranking (`p_ranking`: its question), its lists' clicks: `{lists, positions}`, per position the
-- candidates shown (`impressions`) and, by the set of event types that named each one (a JSON array, sorted), how many
-- were engaged with (`engaged`), so that any later choice of click types counts each candidate once. Retention stores it on the
-- hour's rollups when it settles them, just before the raw rows go.
CREATE OR REPLACE FUNCTION backflow_prediction_outcomes(p_project uuid, p_from timestamptz, p_to timestamptz, p_ranking text DEFAULT NULL)
RETURNS TABLE (hour timestamptz, model_version text, slice jsonb, labels jsonb, feedback jsonb, clicks jsonb)
LANGUAGE sql STABLE AS $fn$
  WITH p AS MATERIALIZED (
    SELECT date_trunc('hour', p.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS h, p.model_version AS mv, p.slice AS s, p.id,
           CASE WHEN p_ranking IS NOT NULL AND jsonb_typeof(p.suggestions->p_ranking->'candidates') = 'array'
                THEN p.suggestions->p_ranking->'candidates' END AS candidates
      FROM predictions p
     WHERE p.project_id = p_project AND p.occurred_at >= p_from AND p.occurred_at < p_to
       AND p.occurred_on BETWEEN (p_from AT TIME ZONE 'UTC')::date AND (p_to AT TIME ZONE 'UTC')::date
  ),
  base AS (SELECT DISTINCT h, mv, s FROM p),
  lab AS (
    SELECT h, mv, s, jsonb_object_agg(source, n) AS j
      FROM (SELECT p.h, p.mv, p.s, l.source, count(*)::int AS n
              FROM p JOIN labels_read l ON l.project_id = p_project AND l.prediction_id = p.id AND l.superseded_at IS NULL
             GROUP BY 1, 2, 3, 4) c
     GROUP BY h, mv, s),
  fb AS (
    SELECT h, mv, s, jsonb_object_agg(type, jsonb_build_object('predictions', predictions, 'events', events, 'edits', edits, 'editSum', edit_sum, 'editSumOfSquares', edit_squares)) AS j
      FROM (SELECT p.h, p.mv, p.s, f.type, count(DISTINCT f.prediction_id)::int AS predictions, count(*)::int AS events,
                   count(f.edit_distance)::int AS edits, coalesce(sum(f.edit_distance), 0) AS edit_sum, coalesce(sum(f.edit_distance ^ 2), 0) AS edit_squares
              FROM p JOIN feedback_events_read f ON f.project_id = p_project AND f.prediction_id = p.id
             GROUP BY 1, 2, 3, 4) c
     GROUP BY h, mv, s),
  shown AS (
    SELECT p.h, p.mv, p.s, c.value->>'position' AS position,
           (SELECT jsonb_agg(DISTINCT f.type ORDER BY f.type)::text FROM feedback_events_read f
             WHERE f.project_id = p_project AND f.prediction_id = p.id AND f.item = c.value->>'item') AS types
      FROM p CROSS JOIN LATERAL jsonb_array_elements(p.candidates) c
     WHERE p.candidates IS NOT NULL AND c.value ? 'position'),
  clk AS (
    SELECT h, mv, s, jsonb_object_agg(position, jsonb_build_object('impressions', impressions, 'engaged', engaged)) AS j
      FROM (SELECT h, mv, s, position, sum(n)::int AS impressions, coalesce(jsonb_object_agg(types, n) FILTER (WHERE types IS NOT NULL), '{}') AS engaged
              FROM (SELECT h, mv, s, position, types, count(*)::int AS n FROM shown GROUP BY 1, 2, 3, 4, 5) t
             GROUP BY h, mv, s, position) c
     GROUP BY h, mv, s),
  lists AS (SELECT h, mv, s, count(*)::int AS n FROM p WHERE p.candidates IS NOT NULL GROUP BY h, mv, s)
  SELECT b.h, b.mv, b.s, coalesce(lab.j, '{}'), coalesce(fb.j, '{}'),
         CASE WHEN p_ranking IS NOT NULL THEN jsonb_build_object('lists', coalesce(lists.n, 0), 'positions', coalesce(clk.j, '{}')) END
    FROM base b
    LEFT JOIN lab ON lab.h = b.h AND lab.mv = b.mv AND lab.s = b.s
    LEFT JOIN fb ON fb.h = b.h AND fb.mv = b.mv AND fb.s = b.s
    LEFT JOIN clk ON clk.h = b.h AND clk.mv = b.mv AND clk.s = b.s
    LEFT JOIN lists ON lists.h = b.h AND lists.mv = b.mv AND lists.s = b.s
$fn$;

-- Fixes the edges of the numeric features seen in [p_from, p_to) that have none yet (the deciles of their values in the
-- window's newest 20,000 predictions, repeats removed) and returns every edge of the project. Edges are never changed:
-- every rollup of the project bins a feature alike.
CREATE OR REPLACE FUNCTION backflow_prediction_rollup_edges(p_project uuid, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (feature text, edges double precision[])
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
  INSERT INTO prediction_rollup_edges (project_id, feature, edges)
  SELECT p_project, q.k, ARRAY(SELECT DISTINCT d FROM unnest(q.deciles) AS d ORDER BY d)
    FROM (SELECT e.key AS k, percentile_disc(ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) WITHIN GROUP (ORDER BY x.v::float8) AS deciles
            FROM (SELECT p.input FROM predictions p
                   WHERE p.project_id = p_project AND p.occurred_at >= p_from AND p.occurred_at < p_to
                     AND p.occurred_on BETWEEN (p_from AT TIME ZONE 'UTC')::date AND (p_to AT TIME ZONE 'UTC')::date
                   ORDER BY p.occurred_at DESC LIMIT 20000) p
           CROSS JOIN LATERAL jsonb_each(p.input) e
           CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(e.value) = 'array' THEN e.value ELSE jsonb_build_array(e.value) END) x(v)
           WHERE jsonb_typeof(x.v) = 'number'
           GROUP BY e.key) q
   WHERE NOT EXISTS (SELECT 1 FROM prediction_rollup_edges r WHERE r.project_id = p_project AND r.feature = q.k)
  ON CONFLICT DO NOTHING;
  RETURN QUERY SELECT r.feature, r.edges FROM prediction_rollup_edges r WHERE r.project_id = p_project ORDER BY r.feature;
END
$fn$;

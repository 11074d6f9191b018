-- Partitions of feedback events: a project's partitioned table (LIST by project), and its leaves (RANGE by occurred_on,
-- the UTC day of the event's timestamp). Applied at boot, after the dated migrations, whenever this file changes.

-- Makes sure a partition of feedback_events covers each of `p_days` for the project (`backflow_time_partitions`: a day a
-- partition with retention, a month without); returns how many partitions it made.
CREATE OR REPLACE FUNCTION backflow_feedback_partitions(p_project uuid, p_days date[], p_daily boolean)
RETURNS int
LANGUAGE sql VOLATILE AS $fn$
  SELECT backflow_time_partitions('feedback_events', 'feedback_partitions', p_project, p_days, p_daily)
$fn$;

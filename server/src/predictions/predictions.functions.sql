-- Partitions of predictions: a project's partitioned table (LIST by project), and its leaves (RANGE by occurred_on,
-- the UTC day of the prediction's timestamp). Applied at boot, after the dated migrations, whenever this file changes.

-- Makes sure a partition covers each of `p_days` for the project: a day of its own when the project has retention
-- (`p_daily`), else the day's calendar month (shrunk to the free days between existing partitions). Tables are made
-- standalone and then attached, which locks the parent in SHARE UPDATE EXCLUSIVE mode only: capture and reads go on.
-- One creator per project at a time (an advisory lock); returns how many partitions it made.
CREATE OR REPLACE FUNCTION backflow_prediction_partitions(p_project uuid, p_days date[], p_daily boolean)
RETURNS int
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_parent text := 'predictions_' || replace(p_project::text, '-', '');
  v_day date;
  v_from date;
  v_to date;
  v_leaf text;
  v_made int := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(1650524177, hashtext(p_project::text));
  IF to_regclass(v_parent) IS NULL THEN
    EXECUTE format('CREATE TABLE %I (LIKE predictions INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_on)', v_parent);
    EXECUTE format('ALTER TABLE predictions ATTACH PARTITION %I FOR VALUES IN (%L)', v_parent, p_project);
  END IF;
  FOREACH v_day IN ARRAY p_days LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM prediction_partitions WHERE project_id = p_project AND from_on <= v_day AND v_day < to_on);
    IF p_daily THEN
      v_from := v_day;
      v_to := v_day + 1;
    ELSE
      v_from := date_trunc('month', v_day)::date;
      v_to := (date_trunc('month', v_day) + interval '1 month')::date;
      SELECT greatest(v_from, coalesce(max(to_on), v_from)) INTO v_from FROM prediction_partitions WHERE project_id = p_project AND to_on <= v_day;
      SELECT least(v_to, coalesce(min(from_on), v_to)) INTO v_to FROM prediction_partitions WHERE project_id = p_project AND from_on > v_day;
    END IF;
    v_leaf := v_parent || '_' || to_char(v_from, 'YYYYMMDD');
    -- a name left by a rewrite of an earlier partition that started the same day
    WHILE to_regclass(v_leaf) IS NOT NULL LOOP
      v_leaf := v_leaf || 'n';
    END LOOP;
    EXECUTE format('CREATE TABLE %I (LIKE predictions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_leaf);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', v_parent, v_leaf, v_from, v_to);
    INSERT INTO prediction_partitions (project_id, from_on, to_on, name) VALUES (p_project, v_from, v_to, v_leaf);
    v_made := v_made + 1;
  END LOOP;
  RETURN v_made;
END
$fn$;

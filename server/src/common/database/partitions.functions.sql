-- Time partitions (issue 22): the tables that grow with traffic are partitioned by project (LIST, a table
-- `<table>_<project id>` each), then by the UTC day of their timestamp (RANGE over `occurred_on`). Applied at boot,
-- after the dated migrations, whenever this file changes.

-- Makes sure a partition of `p_table` covers each of `p_days` for the project: a day of its own when the project has
-- retention (`p_daily`), else the day's calendar month (shrunk to the free days between existing partitions). Tables
-- are made standalone and then attached, which locks the parent in SHARE UPDATE EXCLUSIVE mode only: writes and reads
-- go on. `p_registry` lists the partitions (project_id, from_on, to_on, name); the owner of `p_table` owns it and calls
-- this through a function of its own. One creator per table and project at a time (an advisory lock); returns how many
-- partitions it made.
CREATE OR REPLACE FUNCTION backflow_time_partitions(p_table text, p_registry text, p_project uuid, p_days date[], p_daily boolean)
RETURNS int
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_parent text := p_table || '_' || replace(p_project::text, '-', '');
  v_day date;
  v_from date;
  v_to date;
  v_leaf text;
  v_covered boolean;
  v_made int := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(1650524177, hashtext(p_table || ':' || p_project::text));
  IF to_regclass(v_parent) IS NULL THEN
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_on)', v_parent, p_table);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)', p_table, v_parent, p_project);
  END IF;
  FOREACH v_day IN ARRAY p_days LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE project_id = $1 AND from_on <= $2 AND $2 < to_on)', p_registry) INTO v_covered USING p_project, v_day;
    CONTINUE WHEN v_covered;
    IF p_daily THEN
      v_from := v_day;
      v_to := v_day + 1;
    ELSE
      v_from := date_trunc('month', v_day)::date;
      v_to := (date_trunc('month', v_day) + interval '1 month')::date;
      EXECUTE format('SELECT greatest($3, coalesce(max(to_on), $3)) FROM %I WHERE project_id = $1 AND to_on <= $2', p_registry) INTO v_from USING p_project, v_day, v_from;
      EXECUTE format('SELECT least($3, coalesce(min(from_on), $3)) FROM %I WHERE project_id = $1 AND from_on > $2', p_registry) INTO v_to USING p_project, v_day, v_to;
    END IF;
    v_leaf := v_parent || '_' || to_char(v_from, 'YYYYMMDD');
    -- a name left by a rewrite of an earlier partition that started the same day
    WHILE to_regclass(v_leaf) IS NOT NULL LOOP
      v_leaf := v_leaf || 'n';
    END LOOP;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_leaf, p_table);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', v_parent, v_leaf, v_from, v_to);
    EXECUTE format('INSERT INTO %I (project_id, from_on, to_on, name) VALUES ($1, $2, $3, $4)', p_registry) USING p_project, v_from, v_to, v_leaf;
    v_made := v_made + 1;
  END LOOP;
  RETURN v_made;
END
$fn$;

interface Database {
  sql(text: string, params?: unknown[]): Promise<unknown[]>;
}

/**
 * Moves a project's predictions back in time, as if made and received at `at` (a SQL expression
 * over the prediction's row, e.g. `now() - interval '2 days'`, evaluated once per row): their
 * timestamp, and so their partition (the last 60 days' partitions are made first), and their
 * arrival. `where` picks the rows; `params` fill `$2`, `$3`… in `at` and `where`.
 */
export async function backdatePredictions(db: Database, projectId: string, at: string, where = 'true', params: unknown[] = []): Promise<void> {
  await db.sql(
    `SELECT backflow_prediction_partitions($1,
              ARRAY(SELECT d::date FROM generate_series((now() AT TIME ZONE 'UTC')::date - 60, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d),
              EXISTS (SELECT 1 FROM projects WHERE id = $1 AND retention_settings IS NOT NULL))`,
    [projectId],
  );
  await db.sql(
    `UPDATE predictions p SET received_at = m.t, occurred_at = m.t, occurred_on = (m.t AT TIME ZONE 'UTC')::date
       FROM (SELECT id, occurred_on, ${at} AS t FROM predictions WHERE project_id = $1 AND (${where})) m
      WHERE p.project_id = $1 AND p.id = m.id AND p.occurred_on = m.occurred_on`,
    [projectId, ...params],
  );
  // a label keeps its prediction's day and timestamp (capture never moves a prediction; this helper does)
  await db.sql(
    `UPDATE labels l SET prediction_occurred_on = p.occurred_on, prediction_occurred_at = p.occurred_at FROM predictions p
      WHERE l.project_id = $1 AND p.project_id = $1 AND p.id = l.prediction_id
        AND (l.prediction_occurred_on, l.prediction_occurred_at) IS DISTINCT FROM (p.occurred_on, p.occurred_at)`,
    [projectId],
  );
}

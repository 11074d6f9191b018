import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

// tasks that still want answers
const OPEN = `('queued', 'escalated')`;

/** What the operations dashboard and the queue figures read, in SQL. */
@Injectable()
export class OperationsRepository {
  async queueStats(manager: EntityManager, projectId: string): Promise<{ depth: number; review: number; doneToday: number }> {
    const [row]: Array<{ depth: number; review: number; done_today: number }> = await manager.query(
      `SELECT (SELECT count(*)::int FROM tasks WHERE project_id = $1 AND state IN ${OPEN} AND gold_item_id IS NULL) AS depth,
              (SELECT count(*)::int FROM tasks WHERE project_id = $1 AND state = 'review') AS review,
              (SELECT count(*)::int FROM annotations WHERE project_id = $1 AND created_at >= date_trunc('day', now(), 'UTC')) AS done_today`,
      [projectId],
    );
    return { depth: row.depth, review: row.review, doneToday: row.done_today };
  }

  /**
   * Every open task of the project (gold left out, as in the depth) by the first reason it is not
   * for this rater: answered, skipped or held by them, held by others with no slot free; the rest
   * they may claim.
   */
  async raterQueue(
    manager: EntityManager,
    projectId: string,
    raterId: string,
  ): Promise<{ open: number; answeredByYou: number; skippedByYou: number; heldByYou: number; heldByOthers: number; forYou: number }> {
    const [row]: Array<{ open: number; answered: number; skipped: number; mine: number; others: number; free: number }> = await manager.query(
      `SELECT count(*)::int AS open, count(*) FILTER (WHERE why = 'answered')::int AS answered, count(*) FILTER (WHERE why = 'skipped')::int AS skipped,
              count(*) FILTER (WHERE why = 'mine')::int AS mine, count(*) FILTER (WHERE why = 'others')::int AS others, count(*) FILTER (WHERE why = 'free')::int AS free
         FROM (SELECT CASE
                 WHEN EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.rater_id = $2) THEN 'answered'
                 WHEN EXISTS (SELECT 1 FROM task_skips s WHERE s.task_id = t.id AND s.rater_id = $2) THEN 'skipped'
                 WHEN EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.rater_id = $2 AND l.expires_at > now()) THEN 'mine'
                 WHEN t.required_annotations - t.annotations_count <= (SELECT count(*) FROM task_leases l WHERE l.task_id = t.id AND l.expires_at > now()) THEN 'others'
                 ELSE 'free' END AS why
                 FROM tasks t
                WHERE t.project_id = $1 AND t.state IN ${OPEN} AND t.gold_item_id IS NULL) reasons`,
      [projectId, raterId],
    );
    return { open: row.open, answeredByYou: row.answered, skippedByYou: row.skipped, heldByYou: row.mine, heldByOthers: row.others, forYou: row.free };
  }

  /** Per minute over the last `minutes`: tasks made and done, tasks open, answers, raters answering, leases run out unanswered. */
  async operations(
    manager: EntityManager,
    projectId: string,
    minutes: number,
  ): Promise<{
    points: Array<{ at: Date; created: number; done: number; open: number; answers: number; raters: number; expired: number }>;
    activeRaters: number;
  }> {
    // the chart's first minute, written out where it is compared (not read from a CTE) so that the
    // planner sees its value and takes the indexes on creation, completion and answer times
    const start = `(date_trunc('minute', now()) - make_interval(mins => $2 - 1))`;
    const points: Array<{ at: Date; created: number; done: number; open: number; answers: number; raters: number; expired: number }> = await manager.query(
      `WITH buckets AS (SELECT generate_series(${start}, date_trunc('minute', now()), interval '1 minute') AS at),
       made AS (SELECT date_trunc('minute', created_at) AS at, count(*)::int AS n FROM tasks WHERE project_id = $1 AND gold_item_id IS NULL AND created_at >= ${start} GROUP BY 1),
       finished AS (SELECT date_trunc('minute', completed_at) AS at, count(*)::int AS n FROM tasks WHERE project_id = $1 AND gold_item_id IS NULL AND completed_at >= ${start} GROUP BY 1),
       answered AS (SELECT date_trunc('minute', created_at) AS at, count(*)::int AS n, count(DISTINCT rater_id)::int AS raters FROM annotations WHERE project_id = $1 AND created_at >= ${start} GROUP BY 1),
       lapsed AS (SELECT date_trunc('minute', expires_at) AS at, count(*)::int AS n FROM task_leases WHERE project_id = $1 AND expires_at >= ${start} AND expires_at <= now() GROUP BY 1),
       -- open when the chart begins: made before it and completed within it, or not completed yet (both few)
       before AS (
         SELECT ((SELECT count(*) FROM tasks
                   WHERE project_id = $1 AND gold_item_id IS NULL AND created_at < ${start} AND completed_at >= ${start} AND state <> 'cancelled')
               + (SELECT count(*) FROM tasks
                   WHERE project_id = $1 AND gold_item_id IS NULL AND created_at < ${start} AND completed_at IS NULL AND state <> 'cancelled'))::int AS n)
       SELECT b.at, coalesce(m.n, 0) AS created, coalesce(f.n, 0) AS done,
              ((SELECT n FROM before) + sum(coalesce(m.n, 0) - coalesce(f.n, 0)) OVER (ORDER BY b.at))::int AS open,
              coalesce(a.n, 0) AS answers, coalesce(a.raters, 0) AS raters, coalesce(l.n, 0) AS expired
         FROM buckets b
         LEFT JOIN made m USING (at) LEFT JOIN finished f USING (at) LEFT JOIN answered a USING (at) LEFT JOIN lapsed l USING (at)
        ORDER BY b.at`,
      [projectId, minutes],
    );
    const [{ active }]: Array<{ active: number }> = await manager.query(
      `SELECT count(DISTINCT rater_id)::int AS active FROM task_leases WHERE project_id = $1 AND expires_at > now()`,
      [projectId],
    );
    return { points, activeRaters: active };
  }
}

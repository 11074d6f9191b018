import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** Raters' standing in a project in SQL: paused and resumed on their gold record, and their reliability. */
@Injectable()
export class RaterQualityRepository {
  async pause(manager: EntityManager, projectId: string, raterId: string): Promise<void> {
    await manager.query(`UPDATE rater_quality SET paused_at = now() WHERE project_id = $1 AND rater_id = $2 AND paused_at IS NULL`, [projectId, raterId]);
    await manager.query(`DELETE FROM task_leases WHERE project_id = $1 AND rater_id = $2`, [projectId, raterId]);
  }

  /** Lifts a pause and starts the rater's gold record afresh; false when they were not paused. */
  async resume(manager: EntityManager, projectId: string, raterId: string): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE rater_quality SET paused_at = NULL, gold_answers = 0, gold_correct = 0 WHERE project_id = $1 AND rater_id = $2 AND paused_at IS NOT NULL`,
      [projectId, raterId],
    );
    return count > 0;
  }

  async raterQuality(
    manager: EntityManager,
    projectId: string,
  ): Promise<
    Array<{
      raterId: string;
      email: string;
      annotations: number;
      goldAnswers: number;
      goldCorrect: number;
      medianTimeMs: number | null;
      agreement: number | null;
      pausedAt: Date | null;
    }>
  > {
    const rows: Array<{
      id: string;
      email: string;
      annotations: number;
      gold_answers: number | null;
      gold_correct: number | null;
      median_ms: number | null;
      agreement: number | null;
      paused_at: Date | null;
    }> = await manager.query(
      `SELECT u.id, u.email, coalesce(a.n, 0) AS annotations, a.median_ms, a.agreement, q.gold_answers, q.gold_correct, q.paused_at
           FROM memberships_read m JOIN users_read u ON u.id = m.user_id
           LEFT JOIN rater_quality q ON q.project_id = m.project_id AND q.rater_id = u.id
           LEFT JOIN LATERAL (
             SELECT count(*)::int AS n,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY an.time_spent_ms)::float8 AS median_ms,
                    -- gold answers are scored on gold, not against final labels (gold tasks have none)
                    (avg(CASE WHEN l.value IS NULL THEN NULL WHEN l.value = an.label THEN 1.0 ELSE 0.0 END))::float8 AS agreement
               FROM annotations an
               LEFT JOIN labels_read l ON l.task_id = an.task_id AND l.superseded_at IS NULL
              WHERE an.project_id = m.project_id AND an.rater_id = u.id) a ON true
          WHERE m.project_id = $1
          ORDER BY u.email`,
      [projectId],
    );
    return rows.map((r) => ({
      raterId: r.id,
      email: r.email,
      annotations: r.annotations,
      goldAnswers: r.gold_answers ?? 0,
      goldCorrect: r.gold_correct ?? 0,
      medianTimeMs: r.median_ms,
      agreement: r.agreement,
      pausedAt: r.paused_at,
    }));
  }
}

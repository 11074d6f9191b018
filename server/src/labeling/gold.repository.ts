import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { LockedTask, StoredAnnotation } from './task-queue.repository';

/** Gold items in SQL: made by admins or promoted from finished labels, and answered by raters, who are scored on them. */
@Injectable()
export class GoldRepository {
  /** Stores an answer to a gold task and scores the rater; returns whether they were right and their record. */
  async answerGold(
    manager: EntityManager,
    task: LockedTask,
    annotation: StoredAnnotation & { timeSpentMs: number | null },
  ): Promise<{ correct: boolean; goldAnswers: number; goldCorrect: number; paused: boolean }> {
    await manager.query(
      `INSERT INTO annotations (id, project_id, task_id, rater_id, label, answers, time_spent_ms, late) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        annotation.id,
        task.projectId,
        task.id,
        annotation.raterId,
        annotation.label,
        JSON.stringify(annotation.answers),
        annotation.timeSpentMs,
        annotation.late,
      ],
    );
    await manager.query(`DELETE FROM task_leases WHERE task_id = $1 AND rater_id = $2`, [task.id, annotation.raterId]);
    const rows: Array<{ correct: boolean; gold_answers: number; gold_correct: number; paused: boolean }> = await manager.query(
      `WITH truth AS (SELECT label = $4 AS correct FROM gold_items WHERE id = $3)
       INSERT INTO rater_quality AS q (project_id, rater_id, gold_answers, gold_correct)
       SELECT $1, $2, 1, CASE WHEN truth.correct THEN 1 ELSE 0 END FROM truth
       ON CONFLICT (project_id, rater_id) DO UPDATE SET gold_answers = q.gold_answers + 1, gold_correct = q.gold_correct + EXCLUDED.gold_correct
       RETURNING (SELECT correct FROM truth) AS correct, gold_answers, gold_correct, paused_at IS NOT NULL AS paused`,
      [task.projectId, annotation.raterId, task.goldItemId, annotation.label],
    );
    const r = rows[0];
    return { correct: r.correct, goldAnswers: r.gold_answers, goldCorrect: r.gold_correct, paused: r.paused };
  }

  /** Creates gold items with one gold task each; items promoted from a prediction already gold are skipped. */
  async insertGold(
    manager: EntityManager,
    projectId: string,
    createdBy: string,
    items: Array<{ input: unknown; label: string; answers: Record<string, unknown>; scores: Record<string, number> | null; sourcePredictionId: string | null }>,
  ): Promise<number> {
    if (items.length === 0) return 0;
    const rows: Array<{ id: string }> = await manager.query(
      `WITH added AS (
         INSERT INTO gold_items (project_id, input, label, scores, source_prediction_id, created_by, answers)
         SELECT $1, i.input, i.label, i.scores, i.source, $2, i.answers
           FROM unnest($3::jsonb[], $4::text[], $5::jsonb[], $6::uuid[], $7::jsonb[]) AS i(input, label, scores, source, answers)
         ON CONFLICT (project_id, source_prediction_id) WHERE source_prediction_id IS NOT NULL DO NOTHING
         RETURNING id)
       INSERT INTO tasks (project_id, gold_item_id, reason, priority, inclusion_probability, required_annotations)
       SELECT $1, id, 'gold', 0, 1, 1 FROM added
       RETURNING id`,
      [
        projectId,
        createdBy,
        items.map((i) => JSON.stringify(i.input)),
        items.map((i) => i.label),
        items.map((i) => (i.scores ? JSON.stringify(i.scores) : null)),
        items.map((i) => i.sourcePredictionId),
        items.map((i) => JSON.stringify(i.answers)),
      ],
    );
    return rows.length;
  }

  /** Final human labels of these predictions, with what a gold item needs. */
  async finishedLabels(
    manager: EntityManager,
    projectId: string,
    predictionIds: string[],
  ): Promise<Array<{ predictionId: string; input: unknown; scores: Record<string, number>; label: string; answers: Record<string, unknown> }>> {
    const rows: Array<{ id: string; input: unknown; scores: Record<string, number>; value: string; answers: Record<string, unknown> }> = await manager.query(
      `SELECT p.id, p.input, p.scores, l.value, l.answers FROM predictions_read p
         JOIN labels_read l ON l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL AND l.source IN ('consensus', 'review', 'gold')
        WHERE p.project_id = $1 AND p.id = ANY($2::uuid[])`,
      [projectId, predictionIds],
    );
    return rows.map((r) => ({ predictionId: r.id, input: r.input, scores: r.scores, label: r.value, answers: r.answers }));
  }
}

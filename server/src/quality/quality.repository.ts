import { Injectable } from '@nestjs/common';
import type { Answers } from '@backflow/questions';
import { EntityManager } from 'typeorm';

export interface WindowAnswer {
  taskId: string;
  raterId: string;
  label: string;
  timeSpentMs: number | null;
  createdAt: Date;
  /** the task's current label, when it has one */
  finalLabel: string | null;
  /** every question's answer by name, a blank one absent */
  answers: Answers;
  /** the current label's answers by question, when the task has one */
  finalAnswers: Answers | null;
}

export interface ConsensusLabel {
  labelId: string;
  taskId: string;
  predictionId: string;
  value: string;
  exported: boolean;
}

export interface RaterRecord {
  raterId: string;
  email: string;
  goldAnswers: number;
  goldCorrect: number;
}

export interface Reestimate {
  at: Date;
  relabeled: number;
  keptExported: number;
}

// the most answers one reading takes (the newest): agreement and Dawid-Skene stay interactive
export const MAX_ANSWERS = 100_000;

/** What quality reads: answers on tasks that are not gold, with their final labels. */
@Injectable()
export class QualityRepository {
  async answersSince(manager: EntityManager, projectId: string, since: Date, until?: Date): Promise<WindowAnswer[]> {
    const rows: Array<{
      task_id: string;
      rater_id: string;
      label: string;
      time_spent_ms: number | null;
      created_at: Date;
      final_label: string | null;
      answers: Answers;
      final_answers: Answers | null;
    }> = await manager.query(
      `SELECT a.task_id, a.rater_id, a.label, a.time_spent_ms, a.created_at, l.value AS final_label, a.answers, l.answers AS final_answers
         FROM annotations_read a
         JOIN tasks_read t ON t.id = a.task_id AND t.gold_item_id IS NULL
         LEFT JOIN labels_read l ON l.project_id = a.project_id AND l.task_id = a.task_id AND l.superseded_at IS NULL
        WHERE a.project_id = $1 AND a.created_at >= $2 AND ($3::timestamptz IS NULL OR a.created_at < $3)
        ORDER BY a.created_at DESC
        LIMIT ${MAX_ANSWERS}`,
      [projectId, since, until ?? null],
    );
    return rows.map((r) => ({
      taskId: r.task_id,
      raterId: r.rater_id,
      label: r.label,
      timeSpentMs: r.time_spent_ms,
      createdAt: r.created_at,
      finalLabel: r.final_label,
      answers: r.answers,
      finalAnswers: r.final_answers,
    }));
  }

  async raters(manager: EntityManager, projectId: string): Promise<RaterRecord[]> {
    const rows: Array<{ id: string; email: string; gold_answers: number | null; gold_correct: number | null }> = await manager.query(
      `SELECT u.id, u.email, q.gold_answers, q.gold_correct
         FROM memberships_read m JOIN users_read u ON u.id = m.user_id
         LEFT JOIN rater_quality_read q ON q.project_id = m.project_id AND q.rater_id = u.id
        WHERE m.project_id = $1
        ORDER BY u.email`,
      [projectId],
    );
    return rows.map((r) => ({ raterId: r.id, email: r.email, goldAnswers: r.gold_answers ?? 0, goldCorrect: r.gold_correct ?? 0 }));
  }

  /** Current consensus labels of these tasks, locked, with whether a span holds them. */
  async lockConsensusLabels(manager: EntityManager, projectId: string, taskIds: string[]): Promise<ConsensusLabel[]> {
    if (taskIds.length === 0) return [];
    const rows: Array<{ id: string; task_id: string; prediction_id: string; value: string; exported: boolean }> = await manager.query(
      `SELECT l.id, l.task_id, l.prediction_id, l.value, EXISTS (SELECT 1 FROM span_labels_read s WHERE s.label_id = l.id) AS exported
         FROM labels_read l
        WHERE l.project_id = $1 AND l.task_id = ANY($2::uuid[]) AND l.superseded_at IS NULL AND l.source = 'consensus'
        ORDER BY l.id
        FOR UPDATE`,
      [projectId, taskIds],
    );
    return rows.map((r) => ({ labelId: String(r.id), taskId: r.task_id, predictionId: r.prediction_id, value: r.value, exported: r.exported }));
  }

  /** Replaces labels by new consensus values, through the one writer of labels: the old ones stay as history. */
  async relabel(
    manager: EntityManager,
    projectId: string,
    answerKey: string,
    changes: Array<{ labelId: string; value: string; agreement: number }>,
  ): Promise<void> {
    if (changes.length === 0) return;
    await manager.query(
      `SELECT count(*)
         FROM (SELECT array_agg(l.prediction_id ORDER BY l.id) AS predictions, array_agg(c.value ORDER BY l.id) AS vals,
                      array_agg('dawid_skene'::text ORDER BY l.id) AS rules, array_agg(c.agreement ORDER BY l.id) AS agreements, array_agg(l.task_id ORDER BY l.id) AS tasks,
                      array_agg(l.answers || jsonb_build_object($5::text, c.value) ORDER BY l.id) AS answers
                 FROM unnest($2::bigint[], $3::text[], $4::float8[]) AS c(label_id, value, agreement)
                 JOIN labels_read l ON l.id = c.label_id AND l.project_id = $1) a,
              backflow_record_labels($1, 'consensus', a.predictions, a.vals, a.rules, NULL, a.agreements, a.tasks, NULL, a.answers)`,
      [projectId, changes.map((c) => c.labelId), changes.map((c) => c.value), changes.map((c) => c.agreement), answerKey],
    );
  }

  async recordReestimate(manager: EntityManager, projectId: string, estimate: Reestimate & { iterations: number; converged: boolean }): Promise<void> {
    await manager.query(
      `INSERT INTO quality_reestimates (project_id, at, relabeled, kept_exported, iterations, converged) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (project_id) DO UPDATE SET at = EXCLUDED.at, relabeled = EXCLUDED.relabeled, kept_exported = EXCLUDED.kept_exported,
         iterations = EXCLUDED.iterations, converged = EXCLUDED.converged`,
      [projectId, estimate.at, estimate.relabeled, estimate.keptExported, estimate.iterations, estimate.converged],
    );
  }

  async lastReestimate(manager: EntityManager, projectId: string): Promise<Reestimate | null> {
    const [row]: Array<{ at: Date; relabeled: number; kept_exported: number }> = await manager.query(
      `SELECT at, relabeled, kept_exported FROM quality_reestimates WHERE project_id = $1`,
      [projectId],
    );
    return row ? { at: row.at, relabeled: row.relabeled, keptExported: row.kept_exported } : null;
  }

  async projectsUsingDawidSkene(manager: EntityManager): Promise<string[]> {
    const rows: Array<{ id: string }> = await manager.query(`SELECT id FROM projects_read WHERE labeling_settings->>'consensus' = 'dawid_skene'`);
    return rows.map((r) => r.id);
  }
}

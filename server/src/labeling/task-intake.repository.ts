import { Injectable } from '@nestjs/common';
import type { TaskReason } from '@backflow/contracts';
import { EntityManager } from 'typeorm';

export interface NewTask {
  predictionId: string;
  reason: TaskReason;
  priority: number;
  inclusionProbability: number;
  uncertainty: number | null;
}

export interface ImportedTask {
  predictionId: string;
  state: 'completed' | 'review';
  /** each answer: the routing question's as text (`label`), and every question's (`answers`; absent: the routing question's alone) */
  answers: Array<{ id: string; raterId: string; label: string; answers?: Record<string, unknown>; timeSpentMs: number | null; createdAt: Date }>;
}

export interface CreatedTask {
  id: string;
  predictionId: string;
  reason: TaskReason;
  priority: number;
}

/** Tasks coming in, in SQL: made by routing, answered in another tool, or raised in priority. */
@Injectable()
export class TaskIntakeRepository {
  /** Creates tasks; a prediction that already has one keeps it (the statement skips it). */
  async insertTasks(manager: EntityManager, projectId: string, requiredAnnotations: number, tasks: NewTask[]): Promise<CreatedTask[]> {
    if (tasks.length === 0) return [];
    const rows: Array<{ id: string; prediction_id: string; reason: TaskReason; priority: number }> = await manager.query(
      `INSERT INTO tasks (project_id, prediction_id, reason, priority, inclusion_probability, uncertainty, required_annotations)
       SELECT $1, t.prediction_id, t.reason, t.priority, t.inclusion_probability, t.uncertainty, $2
         FROM unnest($3::uuid[], $4::text[], $5::float8[], $6::float8[], $7::float8[]) AS t(prediction_id, reason, priority, inclusion_probability, uncertainty)
       ON CONFLICT (project_id, prediction_id) DO NOTHING
       RETURNING id, prediction_id, reason, priority`,
      [
        projectId,
        requiredAnnotations,
        tasks.map((t) => t.predictionId),
        tasks.map((t) => t.reason),
        tasks.map((t) => t.priority),
        tasks.map((t) => t.inclusionProbability),
        tasks.map((t) => t.uncertainty),
      ],
    );
    return rows.map((r) => ({ id: r.id, predictionId: r.prediction_id, reason: r.reason, priority: r.priority }));
  }

  /**
   * Tasks answered in another labeling tool, with their answers: a prediction's task (the one
   * routing made, or a new one of reason `imported`) takes the answers, none twice, and the
   * state given (`completed`, or `review` when the answers did not agree). Returns the task id by prediction.
   */
  async importAnswered(
    manager: EntityManager,
    projectId: string,
    answerKey: string,
    tasks: ImportedTask[],
  ): Promise<{ taskOf: Map<string, string>; answersStored: number }> {
    if (tasks.length === 0) return { taskOf: new Map(), answersStored: 0 };
    const predictionIds = tasks.map((t) => t.predictionId);
    await manager.query(
      `INSERT INTO tasks (project_id, prediction_id, reason, priority, inclusion_probability, required_annotations)
       SELECT $1, prediction_id, 'imported', 0, 1, greatest(answers, 1) FROM unnest($2::uuid[], $3::int[]) AS t(prediction_id, answers)
       ON CONFLICT (project_id, prediction_id) DO NOTHING`,
      [projectId, predictionIds, tasks.map((t) => t.answers.length)],
    );
    const rows: Array<{ id: string; prediction_id: string }> = await manager.query(
      `SELECT id, prediction_id FROM tasks WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [projectId, predictionIds],
    );
    const taskOf = new Map(rows.map((r) => [r.prediction_id, r.id]));
    const answers = tasks.flatMap((t) => t.answers.map((a) => ({ ...a, taskId: taskOf.get(t.predictionId)! })));
    let answersStored = 0;
    if (answers.length) {
      const stored: unknown[] = await manager.query(
        `INSERT INTO annotations (id, project_id, task_id, rater_id, label, time_spent_ms, created_at, answers)
         SELECT id, $1, task_id, rater_id, label, time_spent_ms, created_at, coalesce(answers, jsonb_build_object($8::text, label))
           FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::int[], $7::timestamptz[], $9::jsonb[])
           AS a(id, task_id, rater_id, label, time_spent_ms, created_at, answers)
         ON CONFLICT DO NOTHING RETURNING id`,
        [
          projectId,
          answers.map((a) => a.id),
          answers.map((a) => a.taskId),
          answers.map((a) => a.raterId),
          answers.map((a) => a.label),
          answers.map((a) => a.timeSpentMs),
          answers.map((a) => a.createdAt.toISOString()),
          answerKey,
          answers.map((a) => (a.answers ? JSON.stringify(a.answers) : null)),
        ],
      );
      answersStored = stored.length;
    }
    // an open task takes the imported state; one already decided here keeps its own
    await manager.query(
      `UPDATE tasks t SET annotations_count = (SELECT count(*) FROM annotations a WHERE a.task_id = t.id),
              required_annotations = greatest(t.required_annotations, (SELECT count(*) FROM annotations a WHERE a.task_id = t.id)),
              state = CASE WHEN t.state IN ('queued', 'leased', 'escalated') THEN s.state ELSE t.state END,
              completed_at = CASE WHEN t.state IN ('queued', 'leased', 'escalated') AND s.state = 'completed' THEN now() ELSE t.completed_at END
         FROM unnest($2::uuid[], $3::text[]) AS s(prediction_id, state)
        WHERE t.project_id = $1 AND t.prediction_id = s.prediction_id`,
      [projectId, predictionIds, tasks.map((t) => t.state)],
    );
    await manager.query(`DELETE FROM task_leases WHERE task_id = ANY($1::uuid[])`, [[...taskOf.values()]]);
    return { taskOf, answersStored };
  }

  /** Raises the priority of the open tasks these predictions already have; returns the predictions that have a task (open or not). */
  async raisePriority(manager: EntityManager, projectId: string, raises: Array<{ predictionId: string; priority: number }>): Promise<Set<string>> {
    if (raises.length === 0) return new Set();
    const rows: Array<{ prediction_id: string }> = await manager.query(
      `WITH wanted AS (SELECT * FROM unnest($2::uuid[], $3::float8[]) AS w(prediction_id, priority)),
       raised AS (
         UPDATE tasks t SET priority = GREATEST(t.priority, w.priority)
           FROM wanted w WHERE t.project_id = $1 AND t.prediction_id = w.prediction_id AND t.state IN ('queued', 'leased', 'escalated'))
       SELECT t.prediction_id FROM tasks t JOIN wanted w USING (prediction_id) WHERE t.project_id = $1`,
      [projectId, raises.map((r) => r.predictionId), raises.map((r) => r.priority)],
    );
    return new Set(rows.map((r) => r.prediction_id));
  }
}

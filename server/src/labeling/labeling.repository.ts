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

export interface CreatedTask {
  id: string;
  predictionId: string;
  reason: TaskReason;
  priority: number;
}

/** Tasks in SQL: created a batch at a time, in the transaction that routed them. */
@Injectable()
export class LabelingRepository {
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

  /** Raises the priority of the open tasks these predictions already have; returns the predictions that have a task (open or not). */
  async raisePriority(manager: EntityManager, projectId: string, raises: Array<{ predictionId: string; priority: number }>): Promise<Set<string>> {
    if (raises.length === 0) return new Set();
    const rows: Array<{ prediction_id: string }> = await manager.query(
      `WITH wanted AS (SELECT * FROM unnest($2::uuid[], $3::float8[]) AS w(prediction_id, priority)),
       raised AS (
         UPDATE tasks t SET priority = GREATEST(t.priority, w.priority)
           FROM wanted w WHERE t.project_id = $1 AND t.prediction_id = w.prediction_id AND t.state = 'open')
       SELECT t.prediction_id FROM tasks t JOIN wanted w USING (prediction_id) WHERE t.project_id = $1`,
      [projectId, raises.map((r) => r.predictionId), raises.map((r) => r.priority)],
    );
    return new Set(rows.map((r) => r.prediction_id));
  }
}

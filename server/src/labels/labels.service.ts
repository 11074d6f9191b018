import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { ProjectEntity } from '../projects/project.entity';

export type LabelSource = 'feedback' | 'consensus' | 'review' | 'gold' | 'weak' | 'propagated';

export interface NewMachineLabel {
  predictionId: string;
  /** the label question's label a machine chose (the label model, or the nearest labelled neighbours) */
  value: string;
  /** its probability (the label model's) or share (the neighbours'): the label's weight */
  probability: number;
}

export interface CurrentLabel {
  id: string;
  predictionId: string;
  value: string;
  source: LabelSource;
  rule: string | null;
  feedbackEventId: string | null;
}

export interface NewFeedbackLabel {
  predictionId: string;
  /** the routing question's answer as text */
  value: string;
  /** the routing question's answer, by its name (a feedback label answers no other question) */
  answers?: Record<string, unknown>;
  rule: string;
  feedbackEventId: string | null;
}

export interface RecordedFeedbackLabel extends NewFeedbackLabel {
  /** it disagrees with a prediction made with at least the project's `routing.contradictionConfidence` */
  contradictsPrediction: boolean;
}

export interface NewHumanLabel {
  predictionId: string;
  /** the routing question's answer as text */
  value: string;
  /** every question's answer, by name */
  answers: Record<string, unknown>;
  source: Exclude<LabelSource, 'feedback' | 'weak' | 'propagated'>;
  agreement: number;
  /** null: a label decided outside a task (a relabel from the data explorer) */
  taskId: string | null;
}

/**
 * The labels table: one current label per prediction, and the superseded ones as history.
 * Every write goes through `backflow_record_labels` (labels.functions.sql),
 * which the submit and the Dawid-Skene relabel call too. Callers pass the transaction they own.
 */
@Injectable()
export class LabelsService {
  async currentFor(manager: EntityManager, projectId: string, predictionIds: string[]): Promise<Map<string, CurrentLabel>> {
    if (predictionIds.length === 0) return new Map();
    const rows: Array<{ id: string; prediction_id: string; value: string; source: LabelSource; rule: string | null; feedback_event_id: string | null }> =
      await manager.query(
        `SELECT id, prediction_id, value, source, rule, feedback_event_id FROM labels
          WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) AND superseded_at IS NULL`,
        [projectId, predictionIds],
      );
    return new Map(
      rows.map((r) => [
        r.prediction_id,
        { id: r.id, predictionId: r.prediction_id, value: r.value, source: r.source, rule: r.rule, feedbackEventId: r.feedback_event_id },
      ]),
    );
  }

  /**
   * The first lock of a transaction that will write feedback labels: the tasks of these
   * predictions, before the predictions' rows. Every label writer goes task, prediction, label
   * (a rater's answer holds its task when it writes), so none waits for a label while holding
   * what that label's writer needs.
   */
  async lockTasksOf(manager: EntityManager, projectId: string, predictionIds: string[]): Promise<void> {
    if (predictionIds.length === 0) return;
    await manager.query(`SELECT 1 FROM tasks_read WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE`, [
      projectId,
      predictionIds,
    ]);
  }

  /**
   * Records feedback labels in one call. One replaces a current feedback label (the same one
   * again is not stored twice); next to a human label (consensus, review, gold) it is kept as
   * history only: a human label wins, whichever transaction commits first.
   * Returns the labels that became current.
   */
  async recordFeedbackLabels(
    manager: EntityManager,
    project: Pick<ProjectEntity, 'id' | 'routing' | 'routingQuestion'>,
    labels: NewFeedbackLabel[],
  ): Promise<RecordedFeedbackLabel[]> {
    if (labels.length === 0) return [];
    const rows: Array<{ prediction_id: string; outcome: 'current' | 'history'; contradicts_prediction: boolean }> = await manager.query(
      `SELECT prediction_id, outcome, contradicts_prediction
         FROM backflow_record_labels($1, 'feedback', $2::uuid[], $3::text[], $4::text[], $5::text[], NULL, NULL, $6, $8::jsonb[], $7)`,
      [
        project.id,
        labels.map((l) => l.predictionId),
        labels.map((l) => l.value),
        labels.map((l) => l.rule),
        labels.map((l) => l.feedbackEventId),
        project.routing.contradictionConfidence,
        project.routingQuestion,
        labels.map((l) => (l.answers ? JSON.stringify(l.answers) : null)),
      ],
    );
    const current = new Map(rows.filter((r) => r.outcome === 'current').map((r) => [r.prediction_id, r.contradicts_prediction]));
    return labels.filter((l) => current.has(l.predictionId)).map((l) => ({ ...l, contradictsPrediction: current.get(l.predictionId)! }));
  }

  /**
   * Records a machine's labels: the label model's (source `weak`) or the nearest human-labelled
   * embeddings' (`propagated`), weighted by their probability, where a
   * prediction has no current label at all: any other label supersedes one, and none is kept as
   * history beside another. Returns how many became current.
   */
  async recordMachineLabels(
    manager: EntityManager,
    project: Pick<ProjectEntity, 'id' | 'routing' | 'routingQuestion'>,
    labels: NewMachineLabel[],
    source: 'weak' | 'propagated' = 'weak',
  ): Promise<number> {
    if (labels.length === 0) return 0;
    const rows: Array<{ outcome: string }> = await manager.query(
      `SELECT outcome FROM backflow_record_labels($1, $7, $2::uuid[], $3::text[], NULL, NULL, $4::float8[], NULL, $5, NULL, $6, $4::float8[])`,
      [
        project.id,
        labels.map((l) => l.predictionId),
        labels.map((l) => l.value),
        labels.map((l) => l.probability),
        project.routing.contradictionConfidence,
        project.routingQuestion,
        source,
      ],
    );
    return rows.filter((r) => r.outcome === 'current').length;
  }

  /**
   * Records the label people decided (consensus, review, gold) as the prediction's current
   * one; whatever was current before, feedback or human, stays as history.
   */
  async recordHumanLabel(manager: EntityManager, projectId: string, label: NewHumanLabel): Promise<void> {
    await manager.query(
      `SELECT count(*) FROM backflow_record_labels($1, $2, ARRAY[$3::uuid], ARRAY[$4::text], NULL, NULL, ARRAY[$5::float8], ARRAY[$6::uuid], NULL, ARRAY[$7::jsonb])`,
      [projectId, label.source, label.predictionId, label.value, label.agreement, label.taskId, JSON.stringify(label.answers)],
    );
  }
}

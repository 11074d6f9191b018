import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export type LabelSource = 'feedback' | 'consensus' | 'review' | 'gold';

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
  value: string;
  rule: string;
  feedbackEventId: string | null;
  contradictsPrediction: boolean;
}

export interface NewHumanLabel {
  predictionId: string;
  value: string;
  source: Exclude<LabelSource, 'feedback'>;
  agreement: number;
  taskId: string;
}

/**
 * The labels table: one current label per prediction, and the superseded ones as history.
 * Callers pass the transaction they own.
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
    return new Map(rows.map((r) => [r.prediction_id, { id: r.id, predictionId: r.prediction_id, value: r.value, source: r.source, rule: r.rule, feedbackEventId: r.feedback_event_id }]));
  }

  /**
   * Records feedback labels. One replaces a current feedback label; next to a human label
   * (consensus, review, gold) it is kept as history only: a human label wins.
   * Returns the labels that became current.
   */
  async recordFeedbackLabels(manager: EntityManager, projectId: string, labels: NewFeedbackLabel[], current: Map<string, CurrentLabel>): Promise<NewFeedbackLabel[]> {
    const becameCurrent: NewFeedbackLabel[] = [];
    const historyOnly: NewFeedbackLabel[] = [];
    const replaced: string[] = [];
    for (const label of labels) {
      const existing = current.get(label.predictionId);
      if (existing && existing.source === 'feedback' && existing.value === label.value && existing.rule === label.rule && existing.feedbackEventId === label.feedbackEventId) continue;
      if (existing && existing.source !== 'feedback') {
        historyOnly.push(label);
        continue;
      }
      if (existing) replaced.push(existing.id);
      becameCurrent.push(label);
    }
    if (replaced.length) await manager.query(`UPDATE labels SET superseded_at = now() WHERE id = ANY($1::bigint[])`, [replaced]);
    await this.insert(manager, projectId, becameCurrent, false);
    await this.insert(manager, projectId, historyOnly, true);
    return becameCurrent;
  }

  /**
   * Records the label people decided (consensus, review, gold) as the prediction's current
   * one; whatever was current before, feedback or human, stays as history.
   */
  async recordHumanLabel(manager: EntityManager, projectId: string, label: NewHumanLabel): Promise<void> {
    await manager.query(`UPDATE labels SET superseded_at = now() WHERE project_id = $1 AND prediction_id = $2 AND superseded_at IS NULL`, [projectId, label.predictionId]);
    await manager.query(
      `INSERT INTO labels (project_id, prediction_id, value, source, agreement, task_id, contradicts_prediction)
       SELECT $1, $2, $3, $4, $5, $6, p.predicted_label <> $3 FROM predictions p WHERE p.project_id = $1 AND p.id = $2`,
      [projectId, label.predictionId, label.value, label.source, label.agreement, label.taskId],
    );
  }

  private async insert(manager: EntityManager, projectId: string, labels: NewFeedbackLabel[], superseded: boolean): Promise<void> {
    if (labels.length === 0) return;
    await manager.query(
      `INSERT INTO labels (project_id, prediction_id, value, source, rule, feedback_event_id, contradicts_prediction, superseded_at)
       SELECT $1, prediction_id, value, 'feedback', rule, event_id, contradicts, CASE WHEN $7 THEN now() END
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[]) AS t(prediction_id, value, rule, event_id, contradicts)`,
      [projectId, labels.map((l) => l.predictionId), labels.map((l) => l.value), labels.map((l) => l.rule), labels.map((l) => l.feedbackEventId), labels.map((l) => l.contradictsPrediction), superseded],
    );
  }
}

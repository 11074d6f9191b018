import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Votable } from '@backflow/weak';

export interface ExaminedPrediction extends Votable {
  id: string;
  /** the current human label (consensus, review, gold), if any */
  humanLabel: string | undefined;
  /** what each feedback rule labelled it (`rules[0]`, `absence`, …), current or superseded by a human label since */
  feedback: Map<string, string>;
}

/** Weak supervision's reads: the newest predictions of a project with their human and feedback labels, through the read models. */
@Injectable()
export class WeakRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async newest(projectId: string, limit: number): Promise<ExaminedPrediction[]> {
    const predictions: Array<{ id: string; input: unknown; slice: Record<string, string> | null; scores: Record<string, number> | null }> =
      await this.dataSource.query(`SELECT id, input, slice, scores FROM predictions_read WHERE project_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2`, [
        projectId,
        limit,
      ]);
    if (predictions.length === 0) return [];
    const labels: Array<{ prediction_id: string; value: string; source: string; rule: string | null; current: boolean }> = await this.dataSource.query(
      `SELECT prediction_id, value, source, rule, superseded_at IS NULL AS current FROM labels_read
        WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) AND (superseded_at IS NULL OR source = 'feedback')
        ORDER BY created_at`,
      [projectId, predictions.map((p) => p.id)],
    );
    const byId = new Map<string, ExaminedPrediction>(
      predictions.map((p) => [p.id, { id: p.id, input: p.input, slice: p.slice, scores: p.scores, humanLabel: undefined, feedback: new Map() }]),
    );
    for (const label of labels) {
      const prediction = byId.get(label.prediction_id)!;
      if (label.source === 'feedback') prediction.feedback.set(label.rule ?? 'feedback', label.value);
      else if (label.current && label.source !== 'weak') prediction.humanLabel = label.value;
    }
    return [...byId.values()];
  }
}

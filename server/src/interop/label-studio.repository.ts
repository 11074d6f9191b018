import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Answers } from '@backflow/questions';
import type { ExportedPrediction } from './label-studio-format';

export interface ExportCursor {
  receivedAt: string;
  id: string;
}

/** The read behind the Label Studio export: predictions with their answers and final label, a page at a time. */
@Injectable()
export class LabelStudioRepository {
  async page(
    manager: EntityManager,
    projectId: string,
    after: ExportCursor | null,
    limit: number,
    labeledOnly: boolean,
  ): Promise<{ rows: ExportedPrediction[]; next: ExportCursor | null }> {
    const rows: Array<{
      id: string;
      external_id: string | null;
      model_name: string;
      model_version: string;
      input: Record<string, unknown>;
      scores: Record<string, number>;
      suggestions: Record<string, unknown> | null;
      predicted_label: string;
      confidence: number;
      slice: Record<string, string>;
      occurred_at: Date;
      received_at: string;
      label: string | null;
      label_source: string | null;
      agreement: number | null;
      label_answers: Answers | null;
      annotations: ExportedPrediction['annotations'];
    }> = await manager.query(
      `SELECT p.id, p.external_id, p.model_name, p.model_version, p.input, p.scores, p.suggestions, p.predicted_label, p.confidence, p.slice, p.occurred_at,
              to_char(p.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at,
              l.value AS label, l.source AS label_source, l.agreement, l.answers AS label_answers, coalesce(a.annotations, '[]') AS annotations
         FROM predictions_read p
         LEFT JOIN labels_read l ON l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL
         LEFT JOIN LATERAL (
           SELECT json_agg(json_build_object('id', an.id, 'email', u.email, 'label', an.label, 'timeSpentMs', an.time_spent_ms, 'createdAt', an.created_at, 'answers', an.answers) ORDER BY an.created_at, u.email, an.id) AS annotations
             FROM tasks_read t JOIN annotations_read an ON an.task_id = t.id JOIN users_read u ON u.id = an.rater_id
            WHERE t.project_id = p.project_id AND t.prediction_id = p.id) a ON true
        WHERE p.project_id = $1
          AND ($2::timestamptz IS NULL OR (p.received_at, p.id) > ($2::timestamptz, $3::uuid))
          AND (NOT $5 OR l.id IS NOT NULL OR a.annotations IS NOT NULL)
        ORDER BY p.received_at, p.id
        LIMIT $4`,
      [projectId, after?.receivedAt ?? null, after?.id ?? null, limit, labeledOnly],
    );
    const last = rows.at(-1);
    return {
      rows: rows.map((r) => ({
        id: r.id,
        externalId: r.external_id,
        modelName: r.model_name,
        modelVersion: r.model_version,
        input: r.input,
        scores: r.scores,
        suggestions: r.suggestions,
        predictedLabel: r.predicted_label,
        confidence: r.confidence,
        slice: r.slice,
        occurredAt: r.occurred_at,
        label: r.label === null ? null : { value: r.label, source: r.label_source!, agreement: r.agreement, answers: r.label_answers ?? undefined },
        annotations: r.annotations,
      })),
      next: rows.length === limit && last ? { receivedAt: last.received_at, id: last.id } : null,
    };
  }
}

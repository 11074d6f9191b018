import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { PredictionRow } from './prediction-validation';

export interface PredictionFacts {
  id: string;
  occurredAt: Date;
  predictedLabel: string;
  confidence: number;
}

/** The hot paths of predictions, in SQL: one statement per batch, never a row at a time. */
@Injectable()
export class PredictionsRepository {
  /** Inserts a batch; ids already stored are skipped. Returns the ids inserted now. */
  async insertBatch(manager: EntityManager, projectId: string, rows: PredictionRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at)
       SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::float8[], $9::jsonb[], $10::jsonb[], $11::timestamptz[])
       ON CONFLICT (project_id, id) DO NOTHING
       RETURNING id`,
      [
        projectId,
        rows.map((r) => r.id),
        rows.map((r) => r.modelName),
        rows.map((r) => r.modelVersion),
        rows.map((r) => JSON.stringify(r.input)),
        rows.map((r) => JSON.stringify(r.scores)),
        rows.map((r) => r.predictedLabel),
        rows.map((r) => r.confidence),
        rows.map((r) => JSON.stringify(r.slice)),
        rows.map((r) => (r.metadata === null ? null : JSON.stringify(r.metadata))),
        rows.map((r) => r.occurredAt.toISOString()),
      ],
    );
    return new Set(inserted.map((r) => r.id));
  }

  /** Locks the predictions that exist among `ids` (in id order, so concurrent callers cannot deadlock). */
  async lockFacts(manager: EntityManager, projectId: string, ids: string[]): Promise<PredictionFacts[]> {
    if (ids.length === 0) return [];
    const rows: Array<{ id: string; occurred_at: Date; predicted_label: string; confidence: number }> = await manager.query(
      `SELECT id, occurred_at, predicted_label, confidence FROM predictions
        WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [projectId, ids],
    );
    return rows.map((r) => ({ id: r.id, occurredAt: r.occurred_at, predictedLabel: r.predicted_label, confidence: r.confidence }));
  }

  async count(manager: EntityManager, projectId: string): Promise<number> {
    const [row] = await manager.query(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [projectId]);
    return row.n;
  }
}

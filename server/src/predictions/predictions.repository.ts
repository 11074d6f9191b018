import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EntityManager } from 'typeorm';
import { encodeCopyRows } from './prediction-copy-text';
import type { PredictionRow } from './prediction-validation';
import { isoInstant, storedTheDayBefore, utcDay } from '../common/database/time-partitions';

/** A COPY that met an id already stored. */
export const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/** A validated prediction with the routing strategy's uncertainty score: what is stored. */
export type ScoredPrediction = PredictionRow & { uncertainty: number };

const COLUMNS =
  'project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at, uncertainty, suggestions, occurred_on, committee, embedding, external_id';
// below this a multi-row INSERT is cheaper than the extra round trips of the COPY path
const COPY_THRESHOLD = 64;

export interface PredictionFacts {
  id: string;
  occurredAt: Date;
  predictedLabel: string;
  confidence: number;
  uncertainty: number;
  slice: Record<string, string>;
}

/** The hot paths of predictions, in SQL: one statement per batch, never a row at a time. */
@Injectable()
export class PredictionsRepository {
  /**
   * The rows of a batch not stored yet as far as one read can tell: each id once, and not one
   * sent without a timestamp and stored the day before (a retry across midnight).
   */
  async fresh(manager: EntityManager, projectId: string, rows: ScoredPrediction[]): Promise<ScoredPrediction[]> {
    const distinct = [...new Map(rows.map((row) => [row.id, row])).values()];
    const seen = await storedTheDayBefore(manager, 'predictions', 'uuid', projectId, distinct);
    return seen.size ? distinct.filter((row) => !seen.has(row.id)) : distinct;
  }

  /**
   * Inserts fresh rows (`fresh`) and returns the ids inserted. Large batches go by COPY,
   * PostgreSQL's bulk path: new ids are the common case, and an id stored meanwhile (a retry, a
   * concurrent writer) makes the COPY fail with a unique violation (`isUniqueViolation`), after
   * which the caller rolls back and takes `insertOnConflict`. Small ones take it at once.
   */
  async insertBatch(manager: EntityManager, projectId: string, rows: ScoredPrediction[]): Promise<Set<string>> {
    if (rows.length < COPY_THRESHOLD) return this.insertOnConflict(manager, projectId, rows);
    await this.copy(manager, projectId, rows);
    return new Set(rows.map((row) => row.id));
  }

  private async copy(manager: EntityManager, projectId: string, rows: ScoredPrediction[]): Promise<void> {
    const client = (await manager.queryRunner!.connect()) as PoolClient;
    // one buffer, so one CopyData message (the stream writes each piece it is given as two socket writes)
    const text = encodeCopyRows(projectId, rows);
    await pipeline(Readable.from([text.bytes]), client.query(copyFrom(`COPY predictions (${COLUMNS}) FROM STDIN`)));
    // PostgreSQL has read it all; after a failure a write may still hold it, so it is not reused
    text.release();
  }

  /**
   * One prediction in one statement (so one round trip, atomic without a transaction): the
   * row, and whether feedback that arrived before it is waiting to be joined.
   */
  async insertOne(pool: Pool, projectId: string, r: ScoredPrediction): Promise<{ inserted: boolean; feedbackWaiting: boolean }> {
    // a named statement: each connection parses and plans it once, then only binds values
    const { rows } = await pool.query<{ feedback_waiting: boolean }>({
      name: 'predictions.insert_one',
      text: `WITH inserted AS (
         INSERT INTO predictions (${COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $17::real[], $18
          WHERE $15 OR NOT EXISTS (SELECT 1 FROM predictions WHERE project_id = $1 AND id = $2 AND occurred_on = $14::date - 1)
         ON CONFLICT (project_id, id, occurred_on) DO NOTHING RETURNING id)
       SELECT EXISTS (SELECT 1 FROM feedback_events_read f WHERE f.project_id = $1 AND f.prediction_id = inserted.id AND f.applied_at IS NULL) AS feedback_waiting
         FROM inserted`,
      values: [
        projectId,
        r.id,
        r.modelName,
        r.modelVersion,
        JSON.stringify(r.input),
        JSON.stringify(r.scores),
        r.predictedLabel,
        r.confidence,
        JSON.stringify(r.slice),
        r.metadata === null ? null : JSON.stringify(r.metadata),
        isoInstant(r.occurredAt),
        r.uncertainty,
        r.suggestions === null ? null : JSON.stringify(r.suggestions),
        utcDay(r.occurredAt),
        r.timestamped !== false,
        r.committee === null ? null : JSON.stringify(r.committee),
        r.embedding ?? null,
        r.externalId,
      ],
    });
    return { inserted: rows.length === 1, feedbackWaiting: rows[0]?.feedback_waiting ?? false };
  }

  /**
   * Which of these predictions have feedback events that arrived before them. Most batches
   * have none waiting in their project: one probe of a small partial index says so, before
   * looking each id up.
   */
  async withWaitingFeedback(manager: EntityManager, projectId: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: Array<{ prediction_id: string }> = await manager.query(
      `SELECT DISTINCT prediction_id FROM feedback_events_read
        WHERE project_id = $1 AND prediction_id = ANY(string_to_array($2, ',')::uuid[]) AND applied_at IS NULL
          AND EXISTS (SELECT 1 FROM feedback_events_read w WHERE w.project_id = $1 AND w.applied_at IS NULL)`,
      // the ids as one text (keys, so UUIDs: no comma in them), not an array pg quotes and escapes id by id
      [projectId, ids.join(',')],
    );
    return rows.map((r) => r.prediction_id);
  }

  /** Inserts rows; ids already stored (or repeated) are skipped. Returns the ids inserted now. */
  async insertOnConflict(manager: EntityManager, projectId: string, rows: ScoredPrediction[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO predictions (${COLUMNS})
       SELECT $1, u.id, u.model_name, u.model_version, u.input, u.scores, u.predicted_label, u.confidence, u.slice, u.metadata, u.occurred_at, u.uncertainty,
              u.suggestions, u.occurred_on, u.committee, u.embedding::real[], u.external_id
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::float8[], $9::jsonb[], $10::jsonb[], $11::timestamptz[], $12::float8[], $13::jsonb[], $14::date[], $15::jsonb[], $16::text[], $17::text[])
           AS u(id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at, uncertainty, suggestions, occurred_on, committee, embedding, external_id)
       ON CONFLICT (project_id, id, occurred_on) DO NOTHING
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
        rows.map((r) => isoInstant(r.occurredAt)),
        rows.map((r) => r.uncertainty),
        rows.map((r) => (r.suggestions === null ? null : JSON.stringify(r.suggestions))),
        rows.map((r) => utcDay(r.occurredAt)),
        rows.map((r) => (r.committee === null ? null : JSON.stringify(r.committee))),
        // (an array of arrays does not unnest row by row: each embedding goes as its array literal)
        rows.map((r) => (r.embedding ? `{${r.embedding.join(',')}}` : null)),
        rows.map((r) => r.externalId),
      ],
    );
    return new Set(inserted.map((r) => r.id));
  }

  /** Locks the predictions that exist among `ids` (in id order, so concurrent callers cannot deadlock). */
  async lockFacts(manager: EntityManager, projectId: string, ids: string[]): Promise<PredictionFacts[]> {
    if (ids.length === 0) return [];
    const rows: Array<{
      id: string;
      occurred_at: Date;
      predicted_label: string;
      confidence: number;
      uncertainty: number | null;
      slice: Record<string, string>;
    }> = await manager.query(
      `SELECT id, occurred_at, predicted_label, confidence, uncertainty, slice FROM predictions
        WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [projectId, ids],
    );
    // rows stored before routing existed have no score: least confidence is the one the confidence gives
    return rows.map((r) => ({
      id: r.id,
      occurredAt: r.occurred_at,
      predictedLabel: r.predicted_label,
      confidence: r.confidence,
      uncertainty: r.uncertainty ?? 1 - r.confidence,
      slice: r.slice,
    }));
  }

  async count(manager: EntityManager, projectId: string): Promise<number> {
    const [row] = await manager.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [projectId]);
    return row.n;
  }
}

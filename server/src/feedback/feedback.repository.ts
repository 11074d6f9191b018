import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { storedTheDayBefore, utcDay } from '../common/database/time-partitions';
import type { FeedbackFact } from './feedback-rules';
import type { FeedbackRow } from './feedback-validation';

export interface PredictionRef {
  projectId: string;
  predictionId: string;
}

/** Feedback events and absence windows, in SQL; every method runs in the caller's transaction. */
@Injectable()
export class FeedbackRepository {
  /**
   * Stores new events; ids seen before are skipped (an event is its id and the day of its
   * timestamp; one sent without a timestamp is also looked up on the day before its arrival).
   * Returns the ids stored now.
   */
  async insertEvents(manager: EntityManager, projectId: string, events: FeedbackRow[]): Promise<Set<string>> {
    const seen = await storedTheDayBefore(manager, 'feedback_events', 'text', projectId, events);
    const rows = seen.size ? events.filter((row) => !seen.has(row.id)) : events;
    if (rows.length === 0) return new Set();
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO feedback_events (project_id, id, prediction_id, type, value, occurred_at, item, occurred_on)
       SELECT $1, * FROM unnest($2::text[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::date[])
       ON CONFLICT (project_id, id, occurred_on) DO NOTHING RETURNING id`,
      [
        projectId,
        rows.map((r) => r.id),
        rows.map((r) => r.predictionId),
        rows.map((r) => r.type),
        rows.map((r) => (r.value === null ? null : JSON.stringify(r.value))),
        rows.map((r) => r.occurredAt.toISOString()),
        rows.map((r) => r.item),
        rows.map((r) => utcDay(r.occurredAt)),
      ],
    );
    return new Set(inserted.map((r) => r.id));
  }

  async eventsOf(manager: EntityManager, projectId: string, predictionIds: string[]): Promise<Array<FeedbackFact & { predictionId: string }>> {
    const rows: Array<{
      id: string;
      prediction_id: string;
      type: string;
      value: unknown;
      occurred_at: Date;
      item: string | null;
      edit_distance: number | null;
    }> = await manager.query(
      `SELECT id, prediction_id, type, value, occurred_at, item, edit_distance FROM feedback_events WHERE project_id = $1 AND prediction_id = ANY($2::uuid[])`,
      [projectId, predictionIds],
    );
    return rows.map((r) => ({
      id: r.id,
      predictionId: r.prediction_id,
      type: r.type,
      value: r.value,
      occurredAt: r.occurred_at,
      item: r.item,
      editDistance: r.edit_distance,
    }));
  }

  /** Stores edit events' distances to the response they edit (once: a distance already written stays). */
  async recordEditDistances(manager: EntityManager, projectId: string, distances: Array<{ eventId: string; distance: number }>): Promise<void> {
    if (distances.length === 0) return;
    await manager.query(
      `UPDATE feedback_events f SET edit_distance = d.distance
         FROM unnest($2::text[], $3::float8[]) AS d(id, distance)
        WHERE f.project_id = $1 AND f.id = d.id AND f.edit_distance IS NULL`,
      [projectId, distances.map((d) => d.eventId), distances.map((d) => d.distance)],
    );
  }

  async markApplied(manager: EntityManager, projectId: string, predictionIds: string[]): Promise<void> {
    await manager.query(`UPDATE feedback_events SET applied_at = now() WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) AND applied_at IS NULL`, [
      projectId,
      predictionIds,
    ]);
  }

  /** Negative-by-absence windows of new predictions. */
  async openWindows(manager: EntityManager, projectId: string, windows: Array<{ predictionId: string; closesAt: Date }>): Promise<void> {
    if (windows.length === 0) return;
    await manager.query(
      `INSERT INTO feedback_windows (project_id, prediction_id, closes_at) SELECT $1, * FROM unnest($2::uuid[], $3::timestamptz[]) ON CONFLICT DO NOTHING`,
      [projectId, windows.map((w) => w.predictionId), windows.map((w) => w.closesAt.toISOString())],
    );
  }

  /** An event-made label settles a prediction: its absence window has nothing left to decide. */
  async closeWindows(manager: EntityManager, projectId: string, predictionIds: string[]): Promise<void> {
    await manager.query(`DELETE FROM feedback_windows WHERE project_id = $1 AND prediction_id = ANY($2::uuid[])`, [projectId, predictionIds]);
  }

  /** Removes and returns up to `limit` windows closed by `now`; rows another process holds are skipped. */
  async takeDueWindows(manager: EntityManager, now: Date, limit: number): Promise<PredictionRef[]> {
    const rows: Array<{ project_id: string; prediction_id: string }> = await manager.query(
      `WITH due AS (
         DELETE FROM feedback_windows WHERE (project_id, prediction_id) IN (
           SELECT project_id, prediction_id FROM feedback_windows WHERE closes_at <= $1 ORDER BY closes_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING project_id, prediction_id)
       SELECT project_id, prediction_id FROM due`,
      [now.toISOString(), limit],
    );
    return rows.map((r) => ({ projectId: r.project_id, predictionId: r.prediction_id }));
  }

  /**
   * The next `limit` predictions of the project that have feedback events, in key order after
   * `after` (a page of "apply the rules to past feedback"; the events' prediction index serves it).
   */
  async predictionsWithEvents(manager: EntityManager, projectId: string, after: string | null, limit: number): Promise<string[]> {
    const rows: Array<{ prediction_id: string }> = await manager.query(
      `SELECT DISTINCT prediction_id FROM feedback_events
        WHERE project_id = $1 AND ($2::uuid IS NULL OR prediction_id > $2::uuid)
        ORDER BY prediction_id LIMIT $3`,
      [projectId, after, limit],
    );
    return rows.map((r) => r.prediction_id);
  }

  /** How many predictions of the project have feedback events. */
  async countPredictionsWithEvents(manager: EntityManager, projectId: string): Promise<number> {
    const [row]: Array<{ n: number }> = await manager.query(`SELECT count(DISTINCT prediction_id)::int AS n FROM feedback_events WHERE project_id = $1`, [
      projectId,
    ]);
    return row.n;
  }

  /** Predictions with events not yet applied although the prediction is stored (they committed concurrently). */
  async joinableEvents(manager: EntityManager, limit: number): Promise<PredictionRef[]> {
    const rows: Array<{ project_id: string; prediction_id: string }> = await manager.query(
      `SELECT DISTINCT f.project_id, f.prediction_id FROM feedback_events f
         JOIN predictions_read p ON p.project_id = f.project_id AND p.id = f.prediction_id
        WHERE f.applied_at IS NULL LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ projectId: r.project_id, predictionId: r.prediction_id }));
  }
}

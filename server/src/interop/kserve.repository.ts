import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { LoggedHalf } from './kserve-payload';

export type Half = 'request' | 'response';

export interface LoggedEvent {
  request: LoggedHalf | null;
  response: LoggedHalf | null;
  pairedAt: Date | null;
  predictions: number | null;
}

// a paired id is remembered this long, so a late duplicate is recognised rather than kept as a new half
const PAIRED_RETENTION_HOURS = 24;
const EXPIRE_CHUNK = 1_000;

/** The halves of inference logger events, and the integrations' counters, in SQL. */
@Injectable()
export class KserveRepository {
  /**
   * The event's row, created when it is the first half, and locked: two halves arriving at
   * once are handled one after the other (the second waits on the first's insert or lock).
   */
  async lock(manager: EntityManager, projectId: string, eventId: string, expiresAt: Date): Promise<LoggedEvent> {
    await manager.query(`INSERT INTO kserve_events (project_id, event_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (project_id, event_id) DO NOTHING`, [projectId, eventId, expiresAt.toISOString()]);
    const [row]: Array<{ request: LoggedHalf | null; response: LoggedHalf | null; paired_at: Date | null; predictions: number | null }> = await manager.query(
      `SELECT request, response, paired_at, predictions FROM kserve_events WHERE project_id = $1 AND event_id = $2 FOR UPDATE`,
      [projectId, eventId],
    );
    return { request: row.request, response: row.response, pairedAt: row.paired_at, predictions: row.predictions };
  }

  async keepHalf(manager: EntityManager, projectId: string, eventId: string, half: Half, logged: LoggedHalf): Promise<void> {
    await manager.query(`UPDATE kserve_events SET ${half === 'request' ? 'request' : 'response'} = $3 WHERE project_id = $1 AND event_id = $2`, [projectId, eventId, JSON.stringify(logged)]);
  }

  /** Both halves are in and their predictions stored: the bodies are dropped, the id is kept to recognise duplicates. */
  async markPaired(manager: EntityManager, projectId: string, eventId: string, predictions: number): Promise<void> {
    await manager.query(`UPDATE kserve_events SET request = NULL, response = NULL, paired_at = now(), predictions = $3 WHERE project_id = $1 AND event_id = $2`, [projectId, eventId, predictions]);
  }

  /** Removes up to a chunk of halves whose window closed unpaired, counting them per project; returns how many. */
  async expire(manager: EntityManager, now: Date): Promise<number> {
    const [row]: Array<{ n: number }> = await manager.query(
      `WITH gone AS (
         DELETE FROM kserve_events WHERE (project_id, event_id) IN (
           SELECT project_id, event_id FROM kserve_events WHERE paired_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING project_id, request IS NOT NULL AS had_request, response IS NOT NULL AS had_response),
       counted AS (
         INSERT INTO integration_counters (project_id, counter, value)
         SELECT project_id, counter, count(*) FROM (
           SELECT project_id, 'kserve.expired_requests' AS counter FROM gone WHERE had_request
           UNION ALL SELECT project_id, 'kserve.expired_responses' FROM gone WHERE had_response) halves
         GROUP BY project_id, counter
         ON CONFLICT (project_id, counter) DO UPDATE SET value = integration_counters.value + excluded.value, updated_at = now())
       SELECT count(*)::int AS n FROM gone`,
      [now.toISOString(), EXPIRE_CHUNK],
    );
    return row.n;
  }

  async prunePaired(manager: EntityManager, now: Date): Promise<number> {
    const rows: unknown[] = await manager.query(
      `DELETE FROM kserve_events WHERE paired_at IS NOT NULL AND paired_at < $1::timestamptz - make_interval(hours => $2) RETURNING 1`,
      [now.toISOString(), PAIRED_RETENTION_HOURS],
    );
    return rows.length;
  }

  async count(manager: EntityManager, projectId: string, counter: string): Promise<void> {
    await manager.query(
      `INSERT INTO integration_counters (project_id, counter, value) VALUES ($1, $2, 1)
       ON CONFLICT (project_id, counter) DO UPDATE SET value = integration_counters.value + 1, updated_at = now()`,
      [projectId, counter],
    );
  }

  async status(manager: EntityManager, projectId: string): Promise<{ counters: Record<string, number>; pendingRequests: number; pendingResponses: number; oldest: Date | null; paired: number; predictions: number }> {
    const counters: Array<{ counter: string; value: string }> = await manager.query(`SELECT counter, value FROM integration_counters WHERE project_id = $1`, [projectId]);
    const [events] = await manager.query(
      `SELECT count(*) FILTER (WHERE paired_at IS NULL AND request IS NOT NULL)::int AS requests,
              count(*) FILTER (WHERE paired_at IS NULL AND response IS NOT NULL)::int AS responses,
              min(received_at) FILTER (WHERE paired_at IS NULL) AS oldest,
              count(*) FILTER (WHERE paired_at > now() - interval '1 day')::int AS paired,
              coalesce(sum(predictions) FILTER (WHERE paired_at > now() - interval '1 day'), 0)::int AS predictions
         FROM kserve_events WHERE project_id = $1`,
      [projectId],
    );
    return {
      counters: Object.fromEntries(counters.map((c) => [c.counter, Number(c.value)])),
      pendingRequests: events.requests,
      pendingResponses: events.responses,
      oldest: events.oldest,
      paired: events.paired,
      predictions: events.predictions,
    };
  }
}

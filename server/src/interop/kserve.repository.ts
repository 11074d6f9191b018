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
   * once are handled one after the other. One statement, so the expiry job cannot delete the
   * row between finding and locking it.
   */
  async lock(manager: EntityManager, projectId: string, eventId: string, expiresAt: Date): Promise<LoggedEvent> {
    const [row]: Array<{ request: LoggedHalf | null; response: LoggedHalf | null; paired_at: Date | null; predictions: number | null }> = await manager.query(
      `INSERT INTO kserve_events (project_id, event_id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (project_id, event_id) DO UPDATE SET expires_at = kserve_events.expires_at
       RETURNING request, response, paired_at, predictions`,
      [projectId, eventId, expiresAt.toISOString()],
    );
    return { request: row.request, response: row.response, pairedAt: row.paired_at, predictions: row.predictions };
  }

  /** Drops the row a first half just made, when that half turns out to be a late duplicate of a pair already pruned. */
  async forget(manager: EntityManager, projectId: string, eventId: string): Promise<void> {
    await manager.query(`DELETE FROM kserve_events WHERE project_id = $1 AND event_id = $2 AND paired_at IS NULL AND request IS NULL AND response IS NULL`, [
      projectId,
      eventId,
    ]);
  }

  async keepHalf(manager: EntityManager, projectId: string, eventId: string, half: Half, logged: LoggedHalf): Promise<void> {
    await manager.query(`UPDATE kserve_events SET ${half === 'request' ? 'request' : 'response'} = $3 WHERE project_id = $1 AND event_id = $2`, [
      projectId,
      eventId,
      JSON.stringify(logged),
    ]);
  }

  /** Both halves are in and their predictions stored: the bodies are dropped, the id is kept to recognise duplicates. */
  async markPaired(manager: EntityManager, projectId: string, eventId: string, predictions: number): Promise<void> {
    await manager.query(
      `UPDATE kserve_events SET request = NULL, response = NULL, paired_at = now(), predictions = $3 WHERE project_id = $1 AND event_id = $2`,
      [projectId, eventId, predictions],
    );
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

  /** Forgets up to a chunk of ids paired longer ago than the retention; returns how many. */
  async prunePaired(manager: EntityManager, now: Date): Promise<number> {
    // counted in SQL: a bare DELETE … RETURNING comes back from TypeORM as [rows, count], not as the rows
    const [row]: Array<{ n: number }> = await manager.query(
      `WITH gone AS (
         DELETE FROM kserve_events WHERE (project_id, event_id) IN (
           SELECT project_id, event_id FROM kserve_events WHERE paired_at IS NOT NULL AND paired_at < $1::timestamptz - make_interval(hours => $2) LIMIT $3)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [now.toISOString(), PAIRED_RETENTION_HOURS, EXPIRE_CHUNK],
    );
    return row.n;
  }

  async count(manager: EntityManager, projectId: string, counter: string): Promise<void> {
    await manager.query(
      `INSERT INTO integration_counters (project_id, counter, value) VALUES ($1, $2, 1)
       ON CONFLICT (project_id, counter) DO UPDATE SET value = integration_counters.value + 1, updated_at = now()`,
      [projectId, counter],
    );
  }

  async status(
    manager: EntityManager,
    projectId: string,
  ): Promise<{
    counters: Record<string, number>;
    pendingRequests: number;
    pendingResponses: number;
    oldest: Date | null;
    paired: number;
    predictions: number;
  }> {
    const counters: Array<{ counter: string; value: string }> = await manager.query(`SELECT counter, value FROM integration_counters WHERE project_id = $1`, [
      projectId,
    ]);
    // two reads, each on its own partial index: the halves still waiting, and the pairs of the last day
    const [pending]: Array<{ requests: number; responses: number; oldest: Date | null }> = await manager.query(
      `SELECT count(*) FILTER (WHERE request IS NOT NULL)::int AS requests, count(*) FILTER (WHERE response IS NOT NULL)::int AS responses, min(received_at) AS oldest
         FROM kserve_events WHERE project_id = $1 AND paired_at IS NULL`,
      [projectId],
    );
    const [paired]: Array<{ pairs: number; predictions: number }> = await manager.query(
      `SELECT count(*)::int AS pairs, coalesce(sum(predictions), 0)::int AS predictions
         FROM kserve_events WHERE project_id = $1 AND paired_at IS NOT NULL AND paired_at > now() - interval '1 day'`,
      [projectId],
    );
    return {
      counters: Object.fromEntries(counters.map((c) => [c.counter, Number(c.value)])),
      pendingRequests: pending.requests,
      pendingResponses: pending.responses,
      oldest: pending.oldest,
      paired: paired.pairs,
      predictions: paired.predictions,
    };
  }
}

import { Injectable } from '@nestjs/common';
import { isWindowThreshold, WARM_SCORES, warmStartOf, type WindowThresholdState } from '@backflow/sampling';
import { DataSource, EntityManager } from 'typeorm';
import { InjectDataSource } from '@nestjs/typeorm';
import type { LabelModelParameters } from '@backflow/weak';
import { budgetKey, windowScope, type BudgetPeriod } from './routing-policy';
import type { StoredPrediction } from './routing-preview';

export interface EstimatorKey {
  projectId: string;
  modelName: string;
  modelVersion: string;
  strategy: string;
  targetRate: number;
}

interface PredictionRecord {
  id: string;
  model_name: string;
  model_version: string;
  scores: Record<string, number>;
  suggestions: Record<string, unknown> | null;
  committee: Record<string, Record<string, number>> | null;
  embedding: number[] | null;
  predicted_label: string;
  confidence: number;
  slice: Record<string, string>;
  input: unknown;
  uncertainty: number | null;
  received_at: Date;
  feedback_label?: string | null;
}

export type BacklogPrediction = Omit<StoredPrediction, 'feedbackLabel'> & { uncertainty: number | null };

/** Where a backfill stopped: the oldest prediction it examined, to the microsecond. */
export interface BacklogCursor {
  receivedAt: string;
  id: string;
}

function toStored(r: PredictionRecord): BacklogPrediction & { feedbackLabel: string | null } {
  return {
    id: r.id,
    modelName: r.model_name,
    modelVersion: r.model_version,
    scores: r.scores,
    suggestions: r.suggestions,
    committee: r.committee,
    embedding: r.embedding,
    predictedLabel: r.predicted_label,
    confidence: r.confidence,
    slice: r.slice,
    input: r.input,
    uncertainty: r.uncertainty,
    receivedAt: r.received_at,
    feedbackLabel: r.feedback_label ?? null,
  };
}

/** A project's window of predictions as routing locked it: its size, the count received, the index of the window that count is in, and the tasks made there. */
export interface PredictionWindow {
  size: number;
  received: number;
  index: number;
  used: number;
}

// the period a budget line counts in, on the database's clock, in UTC
const PERIOD_START = `date_trunc(k.period, now(), 'UTC')`;

/**
 * Routing's SQL: budget counters, dedupe fingerprints, persisted thresholds. It also reads
 * stored predictions (for preview and backfill): capture calls routing, so routing cannot
 * call capture's service without closing a loop.
 */
@Injectable()
export class RoutingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Locks the budget counters of the current periods (creating them at zero) and returns
   * what each has used. Rows are locked in key order, so concurrent routers cannot deadlock;
   * the lock is held until the caller's transaction ends, which is what makes the cap exact.
   */
  async lockBudget(manager: EntityManager, projectId: string, lines: Array<{ period: BudgetPeriod; scope: string }>): Promise<Map<string, number>> {
    const sorted = [...lines].sort((a, b) => a.period.localeCompare(b.period) || a.scope.localeCompare(b.scope));
    const params = [projectId, sorted.map((l) => l.period), sorted.map((l) => l.scope)];
    await manager.query(
      `INSERT INTO routing_budget_usage (project_id, period, scope, period_start)
       SELECT $1, k.period, k.scope, ${PERIOD_START} FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(period, scope, n) ORDER BY k.n
       ON CONFLICT DO NOTHING`,
      params,
    );
    const rows: Array<{ period: BudgetPeriod; scope: string; used: number }> = await manager.query(
      `SELECT u.period, u.scope, u.used FROM routing_budget_usage u
         JOIN unnest($2::text[], $3::text[]) AS k(period, scope) ON u.period = k.period AND u.scope = k.scope AND u.period_start = ${PERIOD_START}
        WHERE u.project_id = $1
        ORDER BY u.period, u.scope
        FOR UPDATE OF u`,
      params,
    );
    return new Map(rows.map((r) => [`${r.period}|${r.scope}`, r.used]));
  }

  async addBudgetUsage(manager: EntityManager, projectId: string, usage: Array<{ period: BudgetPeriod; scope: string; count: number }>): Promise<void> {
    if (usage.length === 0) return;
    await manager.query(
      `UPDATE routing_budget_usage u SET used = u.used + k.count
         FROM unnest($2::text[], $3::text[], $4::int[]) AS k(period, scope, count)
        WHERE u.project_id = $1 AND u.period = k.period AND u.scope = k.scope AND u.period_start = ${PERIOD_START}`,
      [projectId, usage.map((u) => u.period), usage.map((u) => u.scope), usage.map((u) => u.count)],
    );
  }

  /**
   * Locks the project's window of predictions (made at zero the first time) for the rest of the
   * caller's transaction: the count received so far, and the tasks made in the window it is in
   * (none when the window size has changed since they were counted).
   */
  async lockWindow(manager: EntityManager, projectId: string, size: number): Promise<PredictionWindow> {
    await manager.query(`INSERT INTO routing_prediction_windows (project_id, window_size) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [projectId, size]);
    const [row]: Array<{ received: string; window_size: number; window_index: string; used: number }> = await manager.query(
      `SELECT received, window_size, window_index, used FROM routing_prediction_windows WHERE project_id = $1 FOR UPDATE`,
      [projectId],
    );
    const received = Number(row.received);
    const index = Math.floor(received / size);
    return { size, received, index, used: row.window_size === size && Number(row.window_index) === index ? row.used : 0 };
  }

  /** Writes the window back: `received` moved past this pass's predictions, and what the window of the next one has used (`used`, by budget key). */
  async saveWindow(manager: EntityManager, projectId: string, window: PredictionWindow, used: ReadonlyMap<string, number>): Promise<void> {
    const next = Math.floor(window.received / window.size);
    const usedNext = used.get(budgetKey({ period: 'predictions', scope: windowScope(next) })) ?? (next === window.index ? window.used : 0);
    await manager.query(`UPDATE routing_prediction_windows SET received = $2, window_size = $3, window_index = $4, used = $5 WHERE project_id = $1`, [
      projectId,
      window.received,
      window.size,
      next,
      usedNext,
    ]);
  }

  /** Claims fingerprints not routed within the window; returns the ones claimed now. A concurrent claimer of the same one waits for this transaction. */
  async claimFingerprints(manager: EntityManager, projectId: string, fingerprints: string[], windowMinutes: number): Promise<Set<string>> {
    if (fingerprints.length === 0) return new Set();
    const rows: Array<{ fingerprint: string }> = await manager.query(
      `INSERT INTO routing_fingerprints (project_id, fingerprint, routed_until)
       SELECT $1, f, now() + make_interval(mins => $3) FROM unnest($2::text[]) WITH ORDINALITY AS t(f, n) ORDER BY t.n
       ON CONFLICT (project_id, fingerprint) DO UPDATE SET routed_until = EXCLUDED.routed_until
         WHERE routing_fingerprints.routed_until <= now()
       RETURNING fingerprint`,
      [projectId, [...fingerprints].sort(), windowMinutes],
    );
    return new Set(rows.map((r) => r.fingerprint));
  }

  /** Gives back fingerprints claimed for candidates the budget then refused. */
  async releaseFingerprints(manager: EntityManager, projectId: string, fingerprints: string[]): Promise<void> {
    if (fingerprints.length === 0) return;
    await manager.query(`DELETE FROM routing_fingerprints WHERE project_id = $1 AND fingerprint = ANY($2::text[])`, [projectId, fingerprints]);
  }

  /** A saved estimate: a window (or, saved before issue 24, a streaming P² state, which is not resumed). */
  async loadEstimator(key: EstimatorKey, manager: EntityManager = this.dataSource.manager): Promise<unknown> {
    const rows: Array<{ estimator: unknown }> = await manager.query(
      `SELECT estimator FROM routing_thresholds WHERE project_id = $1 AND model_name = $2 AND model_version = $3 AND strategy = $4 AND target_rate = $5`,
      [key.projectId, key.modelName, key.modelVersion, key.strategy, key.targetRate],
    );
    return rows[0]?.estimator;
  }

  /**
   * The scores a new estimate starts warm with, oldest first: the latest window of another model
   * version under the same strategy and rate, else the project's latest predictions' scores.
   */
  async warmScores(key: EstimatorKey, manager: EntityManager = this.dataSource.manager): Promise<number[]> {
    const [previous]: Array<{ estimator: unknown }> = await manager.query(
      `SELECT estimator FROM routing_thresholds
        WHERE project_id = $1 AND strategy = $2 AND target_rate = $3 AND estimator->>'kind' = 'window'
          AND NOT (model_name = $4 AND model_version = $5) AND jsonb_array_length(estimator->'own') > 0
        ORDER BY updated_at DESC LIMIT 1`,
      [key.projectId, key.strategy, key.targetRate, key.modelName, key.modelVersion],
    );
    if (isWindowThreshold(previous?.estimator)) return warmStartOf(previous.estimator);
    const recent: Array<{ uncertainty: number }> = await manager.query(
      `SELECT uncertainty FROM predictions_read WHERE project_id = $1 AND uncertainty IS NOT NULL ORDER BY received_at DESC LIMIT $2`,
      [key.projectId, WARM_SCORES],
    );
    return recent.map((r) => r.uncertainty).reverse();
  }

  async saveEstimators(entries: Array<{ key: EstimatorKey; state: WindowThresholdState }>): Promise<void> {
    if (entries.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO routing_thresholds (project_id, model_name, model_version, strategy, target_rate, estimator)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::jsonb[])
       ON CONFLICT (project_id, model_name, model_version, strategy, target_rate)
         DO UPDATE SET estimator = EXCLUDED.estimator, updated_at = now()`,
      [
        entries.map((e) => e.key.projectId),
        entries.map((e) => e.key.modelName),
        entries.map((e) => e.key.modelVersion),
        entries.map((e) => e.key.strategy),
        entries.map((e) => e.key.targetRate),
        entries.map((e) => JSON.stringify(e.state)),
      ],
    );
  }

  /** The latest stored predictions, oldest first, each with its current feedback label. */
  async latestPredictions(projectId: string, limit: number): Promise<StoredPrediction[]> {
    const rows: PredictionRecord[] = await this.dataSource.query(
      `SELECT p.id, p.model_name, p.model_version, p.scores, p.suggestions, p.committee, p.embedding, p.predicted_label, p.confidence, p.slice, p.input, p.uncertainty, p.received_at,
              (SELECT l.value FROM labels_read l WHERE l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL AND l.source = 'feedback') AS feedback_label
         FROM (SELECT * FROM predictions_read WHERE project_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2) p
        ORDER BY p.received_at, p.id`,
      [projectId, limit],
    );
    return rows.map(toStored);
  }

  /** The latest predictions that have no task, oldest first: what a backfill examines. */
  async untasked(
    manager: EntityManager,
    projectId: string,
    since: Date | undefined,
    before: BacklogCursor | undefined,
    limit: number,
  ): Promise<{ predictions: BacklogPrediction[]; oldest?: BacklogCursor }> {
    const rows: Array<PredictionRecord & { cursor_at: string }> = await manager.query(
      `SELECT * FROM (
         SELECT p.id, p.model_name, p.model_version, p.scores, p.suggestions, p.committee, p.embedding, p.predicted_label, p.confidence, p.slice, p.input, p.uncertainty, p.received_at,
                to_char(p.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
           FROM predictions_read p
          WHERE p.project_id = $1 AND ($2::timestamptz IS NULL OR p.received_at >= $2)
            AND ($4::timestamptz IS NULL OR (p.received_at, p.id) < ($4::timestamptz, $5::uuid))
            AND NOT EXISTS (SELECT 1 FROM tasks_read t WHERE t.project_id = p.project_id AND t.prediction_id = p.id)
          ORDER BY p.received_at DESC, p.id DESC LIMIT $3) latest
        ORDER BY received_at, id`,
      [projectId, since?.toISOString() ?? null, limit, before?.receivedAt ?? null, before?.id ?? null],
    );
    return { predictions: rows.map(toStored), oldest: rows[0] && { receivedAt: rows[0].cursor_at, id: rows[0].id } };
  }

  /** The label model the weak module fitted last for the project (its parameters and the functions they are for), if any. */
  async labelModel(manager: EntityManager, projectId: string): Promise<(LabelModelParameters & { functions: Array<{ name: string }> }) | undefined> {
    const [row]: Array<{ model: (LabelModelParameters & { functions: Array<{ name: string }> }) | null }> = await manager.query(
      `SELECT model FROM weak_label_models_read WHERE project_id = $1`,
      [projectId],
    );
    return row?.model && Array.isArray(row.model.confusions) ? row.model : undefined;
  }

  /** The embeddings of the predictions routed within the last `minutes`, the newest first, at most `limit`. */
  async recentEmbeddings(manager: EntityManager, projectId: string, minutes: number, limit: number): Promise<number[][]> {
    if (minutes <= 0) return [];
    const rows: Array<{ embedding: number[] }> = await manager.query(
      `SELECT p.embedding FROM tasks_read t JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id
        WHERE t.project_id = $1 AND t.created_at > now() - make_interval(mins => $2) AND p.embedding IS NOT NULL
        ORDER BY t.created_at DESC LIMIT $3`,
      [projectId, minutes, limit],
    );
    return rows.map((r) => r.embedding);
  }

  async activeBoosts(manager: EntityManager, projectId: string): Promise<Array<{ slice: string; factor: number; until: Date }>> {
    return manager.query(`SELECT slice, factor, until FROM routing_boosts WHERE project_id = $1 AND until > now() ORDER BY until`, [projectId]);
  }

  async addBoosts(manager: EntityManager, projectId: string, boosts: Array<{ alertId: string; slice: string; factor: number; until: Date }>): Promise<void> {
    await manager.query(
      `INSERT INTO routing_boosts (alert_id, project_id, slice, factor, until)
       SELECT a, $1, s, f, u FROM unnest($2::uuid[], $3::text[], $4::float8[], $5::timestamptz[]) AS b(a, s, f, u)
       ON CONFLICT (alert_id) DO NOTHING`,
      [projectId, boosts.map((b) => b.alertId), boosts.map((b) => b.slice), boosts.map((b) => b.factor), boosts.map((b) => b.until.toISOString())],
    );
  }

  /** Forgets budget periods and fingerprints that can no longer matter. */
  async prune(): Promise<{ budgetRows: number; fingerprints: number }> {
    // a DELETE through TypeORM's query answers [rows, affected count]
    const [, budgetRows] = await this.dataSource.query<[unknown, number]>(`DELETE FROM routing_budget_usage WHERE period_start < now() - interval '2 days'`);
    const [, fingerprints] = await this.dataSource.query<[unknown, number]>(`DELETE FROM routing_fingerprints WHERE routed_until < now()`);
    await this.dataSource.query(`DELETE FROM routing_boosts WHERE until < now() - interval '7 days'`);
    return { budgetRows, fingerprints };
  }
}

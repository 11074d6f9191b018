import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { type BaselineFeature, type FeatureSkewReport, PREDICTION_ID_PATTERN } from '@backflow/contracts';
import type { Schema } from '@backflow/drift';
import { predictionKeyOf } from '../common/ids/prediction-key';
import { parseExactJson } from '../common/json/exact-json';
import { type Question, routingOutput, takesScores } from '@backflow/questions';
import type { Engagement, RolledClicks, ShownList } from './clicks';
import type { SignalCounts } from './feedback-signals';
import type { PreferenceRow } from './preferences';
import type { RolledFeature } from './monitoring-figures';

export interface RolledHours {
  hours: Array<{ slice: Record<string, string>; features: Record<string, RolledFeature> }>;
  edges: Map<string, number[]>;
}

const hourOf = (column: string) => `date_trunc('hour', ${column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

export interface LabeledPrediction {
  label: string;
  predictedLabel: string;
  /** the routing question's output (`routingOutput`) and the label's answer to it: read only for a question other than a label */
  measured?: { output: unknown; answer: unknown };
  confidence: number;
  modelVersion: string;
  slice: Record<string, string>;
  /** the prediction's timestamp: windows and chart buckets go by it, as drift's and the rollups' do */
  occurredAt: Date;
  /** of the task that got the label routed; null when no task did (taken with certainty) */
  inclusionProbability: number | null;
}

export interface ObservedInput {
  input: Record<string, unknown>;
  slice: Record<string, string>;
  /** the prediction's timestamp */
  occurredAt: Date;
}

/** A prediction of a window as monitoring reads it: its inputs, and what the estimate without labels needs. */
export interface WindowPrediction extends ObservedInput {
  modelVersion: string;
  /** the model's confidence in its predicted label */
  confidence: number;
}

export interface StoredAlert {
  id: string;
  kind: 'accuracy' | 'drift' | 'anomaly' | 'ctr' | 'skew';
  /** what a model-quality alert watches (`details.metric`; accuracy when absent); null for drift and anomalies */
  metric: string | null;
  /** TFDV's anomaly type name (`details.anomalyType`) */
  anomalyType: string | null;
  subject: string;
  slice: string | null;
  feature: string | null;
  message: string;
  value: number;
  baseline: number | null;
  threshold: number;
  createdAt: Date;
  resolvedAt: Date | null;
}

export type NewAlert = Omit<StoredAlert, 'id' | 'metric' | 'anomalyType' | 'createdAt' | 'resolvedAt'> & { details: Record<string, unknown> };

// the most labels and inputs one reading takes (the newest): figures stay interactive on large projects
export const MAX_LABELS = 200_000;
// a click report reads at most this many lists of its window (the newest: older ones are left out)
export const MAX_LISTS = 200_000;

const ALERT_COLUMNS = `id, kind, CASE WHEN kind = 'accuracy' THEN coalesce(details->>'metric', 'accuracy') END AS metric, details->>'anomalyType' AS anomaly_type,
  subject, slice, feature, message, value, baseline, threshold, created_at, resolved_at`;

type AlertRow = Parameters<typeof toAlert>[0];

function toAlert(r: {
  id: string;
  kind: StoredAlert['kind'];
  metric: string | null;
  anomaly_type: string | null;
  subject: string;
  slice: string | null;
  feature: string | null;
  message: string;
  value: number;
  baseline: number | null;
  threshold: number;
  created_at: Date;
  resolved_at: Date | null;
}): StoredAlert {
  return {
    id: r.id,
    kind: r.kind,
    metric: r.metric,
    anomalyType: r.anomaly_type,
    subject: r.subject,
    slice: r.slice,
    feature: r.feature,
    message: r.message,
    value: r.value,
    baseline: r.baseline,
    threshold: r.threshold,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
  };
}

@Injectable()
export class MonitoringRepository {
  /**
   * Current human labels (consensus, review) of predictions made (by their timestamp) since `since`,
   * with the inclusion probability of the task that got them labelled: read from the labels, which
   * keep their prediction's facts (ADR 0045), so the cost follows the window's labels, not its
   * predictions (reading the window's predictions for their labels took 10.7 s at 1.6 million;
   * looking each labelled prediction up, 0.8 s at 667,000 a day). With `measured` (a routing
   * question of another kind than label), also the label's answer to it and the model's output for
   * it, each prediction looked up in its own day's partition for its output.
   */
  async humanLabelsSince(manager: EntityManager, projectId: string, since: Date, measured?: Question): Promise<LabeledPrediction[]> {
    const rows: Array<{
      value: string;
      predicted_label: string;
      confidence: number;
      model_version: string;
      slice: Record<string, string>;
      occurred_at: Date;
      inclusion_probability: number | null;
      answer?: unknown;
      suggestion?: unknown;
      scores?: Record<string, number> | null;
    }> = await manager.query(
      `SELECT l.value, l.predicted_label, l.prediction_confidence AS confidence, l.prediction_model_version AS model_version, l.prediction_slice AS slice,
              l.prediction_occurred_at AS occurred_at, t.inclusion_probability
              ${measured ? `, l.answers -> $3::text AS answer, p.suggestions -> $3::text AS suggestion${takesScores(measured) ? ', p.scores' : ''}` : ''}
         FROM labels_read l
         LEFT JOIN tasks_read t ON t.id = l.task_id
         ${
           measured
             ? // (OFFSET 0 keeps the lookup a lookup: pulled up, the planner hashes every prediction of the window instead)
               `CROSS JOIN LATERAL (
                  SELECT p.suggestions, p.scores FROM predictions_read p
                   WHERE p.project_id = l.project_id AND p.id = l.prediction_id AND p.occurred_on = l.prediction_occurred_on
                  OFFSET 0) p`
             : ''
         }
        WHERE l.project_id = $1 AND l.superseded_at IS NULL AND l.source IN ('consensus', 'review')
          AND l.prediction_occurred_on >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND l.prediction_occurred_at >= $2
        ORDER BY l.prediction_occurred_at DESC
        LIMIT ${MAX_LABELS}`,
      measured ? [projectId, since, measured.name] : [projectId, since],
    );
    return rows.map((r) => ({
      label: r.value,
      predictedLabel: r.predicted_label,
      ...(measured && {
        measured: { output: routingOutput(measured, r.scores ?? null, { [measured.name]: r.suggestion ?? undefined }), answer: r.answer ?? undefined },
      }),
      confidence: r.confidence,
      modelVersion: r.model_version,
      slice: r.slice,
      occurredAt: r.occurred_at,
      inclusionProbability: r.inclusion_probability,
    }));
  }

  /** Feedback labels of predictions made since `since`: how many, and how many agree with the prediction. */
  async feedbackAgreement(manager: EntityManager, projectId: string, since: Date): Promise<{ labels: number; agreeing: number }> {
    const [row]: Array<{ labels: number; agreeing: number }> = await manager.query(
      `SELECT count(*)::int AS labels, count(*) FILTER (WHERE l.value = l.predicted_label)::int AS agreeing
         FROM labels_read l
        WHERE l.project_id = $1 AND l.superseded_at IS NULL AND l.source = 'feedback'
          AND l.prediction_occurred_on >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND l.prediction_occurred_at >= $2`,
      [projectId, since],
    );
    return row;
  }

  /**
   * Inputs of predictions made (by their timestamp) in [from, to), at most `limit`, the latest to
   * arrive: only the partitions of those days are read, each backwards along its arrival index
   * (a prediction's timestamp and arrival are close, so the walk stops after about `limit` rows).
   */
  async inputsBetween(manager: EntityManager, projectId: string, from: Date, to: Date, limit: number): Promise<WindowPrediction[]> {
    const rows: Array<{ input: Record<string, unknown>; slice: Record<string, string>; occurred_at: Date; model_version: string; confidence: number }> =
      await manager.query(
        `SELECT input, slice, occurred_at, model_version, confidence FROM predictions_read
        WHERE project_id = $1 AND occurred_at >= $2 AND occurred_at < $3
          AND occurred_on BETWEEN ($2::timestamptz AT TIME ZONE 'UTC')::date AND ($3::timestamptz AT TIME ZONE 'UTC')::date
        ORDER BY received_at DESC
        LIMIT $4`,
        [projectId, from, to, limit],
      );
    return rows.map((r) => ({ input: r.input, slice: r.slice, occurredAt: r.occurred_at, modelVersion: r.model_version, confidence: r.confidence }));
  }

  /** How many predictions were made (by their timestamp) in [from, to). */
  async countBetween(manager: EntityManager, projectId: string, from: Date, to: Date): Promise<number> {
    const [row]: Array<{ n: string }> = await manager.query(
      `SELECT count(*) AS n FROM predictions_read
        WHERE project_id = $1 AND occurred_at >= $2 AND occurred_at < $3
          AND occurred_on BETWEEN ($2::timestamptz AT TIME ZONE 'UTC')::date AND ($3::timestamptz AT TIME ZONE 'UTC')::date`,
      [projectId, from, to],
    );
    return Number(row.n);
  }

  /**
   * The hourly rollups of [from, to) (hour-aligned): the stored ones for the hours rolled, and the
   * rest computed from the raw rows with the same function; with the edges of every numeric
   * feature (fixed now for a feature first seen in the computed hours).
   */
  async rolledHours(manager: EntityManager, projectId: string, from: Date, to: Date): Promise<RolledHours> {
    const [state]: Array<{ rolled_through: Date }> = await manager.query(`SELECT rolled_through FROM prediction_rollup_state_read WHERE project_id = $1`, [
      projectId,
    ]);
    const boundary = new Date(Math.min(Math.max(state?.rolled_through.getTime() ?? from.getTime(), from.getTime()), to.getTime()));
    const stored: RolledHours['hours'] =
      boundary > from
        ? await manager.query(`SELECT slice, features FROM prediction_rollups_read WHERE project_id = $1 AND hour >= $2 AND hour < $3`, [
            projectId,
            from,
            boundary,
          ])
        : [];
    const edges: Array<{ feature: string; edges: number[] }> = await manager.query(`SELECT feature, edges FROM backflow_prediction_rollup_edges($1, $2, $3)`, [
      projectId,
      boundary,
      to,
    ]);
    const computed: RolledHours['hours'] =
      to > boundary ? await manager.query(`SELECT slice, features FROM backflow_prediction_rollup($1, $2, $3)`, [projectId, boundary, to]) : [];
    return { hours: [...stored, ...computed], edges: new Map(edges.map((e) => [e.feature, e.edges])) };
  }

  async schema(manager: EntityManager, projectId: string): Promise<{ schema: Schema; source: 'inferred' | 'uploaded'; updatedAt: Date } | undefined> {
    const [row]: Array<{ schema: Schema; source: 'inferred' | 'uploaded'; updated_at: Date }> = await manager.query(
      `SELECT schema, source, updated_at FROM feature_schemas WHERE project_id = $1`,
      [projectId],
    );
    return row && { schema: row.schema, source: row.source, updatedAt: row.updated_at };
  }

  /** Stores a schema; an inferred one never replaces an uploaded one. */
  async saveSchema(manager: EntityManager, projectId: string, schema: Schema, source: 'inferred' | 'uploaded'): Promise<void> {
    await manager.query(
      `INSERT INTO feature_schemas (project_id, schema, source) VALUES ($1, $2, $3)
       ON CONFLICT (project_id) DO UPDATE SET schema = EXCLUDED.schema, source = EXCLUDED.source, updated_at = now(),
         -- a schema uploaded as JSON replaces an uploaded TFDV schema too
         tfdv_schema = CASE WHEN EXCLUDED.source = 'uploaded' THEN NULL ELSE feature_schemas.tfdv_schema END
        WHERE feature_schemas.source = 'inferred' OR EXCLUDED.source = 'uploaded'`,
      [projectId, JSON.stringify(schema), source],
    );
  }

  async baselineStatistics(manager: EntityManager, projectId: string): Promise<Record<string, BaselineFeature>> {
    const [row]: Array<{ baseline: { features: Record<string, BaselineFeature> } | null }> = await manager.query(
      `SELECT baseline FROM feature_schemas WHERE project_id = $1`,
      [projectId],
    );
    return row?.baseline?.features ?? {};
  }

  /** An uploaded TFDV schema (a tensorflow_metadata Schema as JSON) with the monitoring schema derived from it. */
  async saveTfdvSchema(manager: EntityManager, projectId: string, schema: Schema, tfdv: object): Promise<void> {
    await manager.query(
      `INSERT INTO feature_schemas (project_id, schema, source, tfdv_schema) VALUES ($1, $2, 'uploaded', $3)
       ON CONFLICT (project_id) DO UPDATE SET schema = EXCLUDED.schema, source = 'uploaded', tfdv_schema = EXCLUDED.tfdv_schema, updated_at = now()`,
      [projectId, JSON.stringify(schema), JSON.stringify(tfdv)],
    );
  }

  /** The uploaded TFDV schema and statistics, as their messages' JSON (none: not uploaded). */
  async tfdvArtifacts(manager: EntityManager, projectId: string): Promise<{ schema?: Record<string, unknown>; statistics?: Record<string, unknown> }> {
    const [row]: Array<{ tfdv_schema: Record<string, unknown> | null; tfdv_statistics: Record<string, unknown> | null }> = await manager.query(
      `SELECT tfdv_schema, tfdv_statistics FROM feature_schemas WHERE project_id = $1`,
      [projectId],
    );
    return { ...(row?.tfdv_schema && { schema: row.tfdv_schema }), ...(row?.tfdv_statistics && { statistics: row.tfdv_statistics }) };
  }

  /** The last feature skew report (uploaded training examples against the predictions of their ids). */
  async featureSkew(manager: EntityManager, projectId: string): Promise<FeatureSkewReport | undefined> {
    const [row]: Array<{ feature_skew: FeatureSkewReport | null }> = await manager.query(`SELECT feature_skew FROM feature_schemas WHERE project_id = $1`, [
      projectId,
    ]);
    return row?.feature_skew ?? undefined;
  }

  async saveFeatureSkew(manager: EntityManager, projectId: string, report: FeatureSkewReport): Promise<void> {
    await manager.query(
      `INSERT INTO feature_schemas (project_id, schema, source, feature_skew) VALUES ($1, '{"features": []}', 'inferred', $2)
       ON CONFLICT (project_id) DO UPDATE SET feature_skew = EXCLUDED.feature_skew, updated_at = now()`,
      [projectId, JSON.stringify(report)],
    );
  }

  /**
   * The predictions of these ids as their callers sent them (any time; keyed as capture keys
   * them, ADR 0043; an id no prediction could have matches none): their inputs and slices, by id.
   */
  async predictionsByIds(
    manager: EntityManager,
    projectId: string,
    ids: readonly string[],
  ): Promise<Map<string, { input: Record<string, unknown>; slice: Record<string, string> }>> {
    const found = new Map<string, { input: Record<string, unknown>; slice: Record<string, string> }>();
    const idOf = new Map(ids.filter((id) => PREDICTION_ID_PATTERN.test(id)).map((id) => [predictionKeyOf(projectId, id), id]));
    const keys = [...idOf.keys()];
    for (let i = 0; i < keys.length; i += 5_000) {
      // the input as text, parsed with its integers past 2^53 exact (a training int64 is compared digit for digit)
      const rows: Array<{ id: string; input: string; slice: Record<string, string> | null }> = await manager.query(
        `SELECT id::text AS id, input::text AS input, slice FROM predictions_read WHERE project_id = $1 AND id = ANY($2::uuid[])`,
        [projectId, keys.slice(i, i + 5_000)],
      );
      for (const r of rows) found.set(idOf.get(r.id)!, { input: parseExactJson(r.input) as Record<string, unknown>, slice: r.slice ?? {} });
    }
    return found;
  }

  /** Uploaded statistics to measure drift against (kept beside the schema; a project without a schema row gets an empty uploaded schema). */
  async saveBaselineStatistics(
    manager: EntityManager,
    projectId: string,
    features: Record<string, BaselineFeature>,
    tfdvStatistics: object | null = null,
  ): Promise<void> {
    // statistics as JSON replace a TFDV file's too: the two are one baseline
    await manager.query(
      `INSERT INTO feature_schemas (project_id, schema, source, baseline, tfdv_statistics) VALUES ($1, '{"features": []}', 'inferred', $2, $3)
       ON CONFLICT (project_id) DO UPDATE SET baseline = EXCLUDED.baseline, tfdv_statistics = EXCLUDED.tfdv_statistics, updated_at = now()`,
      [projectId, JSON.stringify({ features }), tfdvStatistics === null ? null : JSON.stringify(tfdvStatistics)],
    );
  }

  async openAlerts(manager: EntityManager, projectId: string): Promise<StoredAlert[]> {
    const rows: AlertRow[] = await manager.query(
      `SELECT ${ALERT_COLUMNS} FROM monitoring_alerts WHERE project_id = $1 AND resolved_at IS NULL ORDER BY created_at`,
      [projectId],
    );
    return rows.map(toAlert);
  }

  async recentAlerts(manager: EntityManager, projectId: string, limit = 100): Promise<StoredAlert[]> {
    const rows: AlertRow[] = await manager.query(`SELECT ${ALERT_COLUMNS} FROM monitoring_alerts WHERE project_id = $1 ORDER BY created_at DESC LIMIT $2`, [
      projectId,
      limit,
    ]);
    return rows.map(toAlert);
  }

  /** Raises alerts whose subject has none open (the partial unique index decides); returns those raised now. */
  async raise(manager: EntityManager, projectId: string, alerts: NewAlert[]): Promise<StoredAlert[]> {
    const raised: StoredAlert[] = [];
    for (const a of alerts) {
      const rows: AlertRow[] = await manager.query(
        `INSERT INTO monitoring_alerts (project_id, kind, subject, slice, feature, message, value, baseline, threshold, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (project_id, subject) WHERE resolved_at IS NULL DO NOTHING
         RETURNING ${ALERT_COLUMNS}`,
        [projectId, a.kind, a.subject, a.slice, a.feature, a.message, a.value, a.baseline, a.threshold, JSON.stringify(a.details)],
      );
      if (rows[0]) raised.push(toAlert(rows[0]));
    }
    return raised;
  }

  async resolve(manager: EntityManager, projectId: string, alertIds: string[]): Promise<number> {
    if (alertIds.length === 0) return 0;
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE monitoring_alerts SET resolved_at = now() WHERE project_id = $1 AND id = ANY($2::uuid[]) AND resolved_at IS NULL`,
      [projectId, alertIds],
    );
    return count;
  }

  async alertsById(manager: EntityManager, projectId: string, ids: string[]): Promise<StoredAlert[]> {
    const rows: AlertRow[] = await manager.query(
      `SELECT ${ALERT_COLUMNS} FROM monitoring_alerts WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY created_at`,
      [projectId, ids],
    );
    return rows.map(toAlert);
  }

  async projectIds(manager: EntityManager): Promise<string[]> {
    const rows: Array<{ id: string }> = await manager.query(`SELECT id FROM projects_read ORDER BY created_at`);
    return rows.map((r) => r.id);
  }

  /** The ranked lists shown in a window: their candidates' items and positions (the routing question's suggestion). */
  async shownLists(manager: EntityManager, projectId: string, question: string, from: Date, to: Date, settled: readonly Date[] = []): Promise<ShownList[]> {
    const rows: Array<{
      id: string;
      occurred_at: Date;
      slice: Record<string, string>;
      model_version: string;
      candidates: Array<{ item: string; position: number }> | null;
    }> = await manager.query(
      `SELECT p.id, p.occurred_at, p.slice, p.model_version,
                (SELECT jsonb_agg(jsonb_build_object('item', c->'item', 'position', c->'position')) FROM jsonb_array_elements(p.suggestions->$2->'candidates') AS c) AS candidates
           FROM predictions_read p
          WHERE p.project_id = $1 AND p.occurred_at >= $3 AND p.occurred_at < $4 AND jsonb_typeof(p.suggestions->$2->'candidates') = 'array'
            AND NOT (${hourOf('p.occurred_at')} = ANY ($5::timestamptz[]))
          ORDER BY p.occurred_at DESC
          LIMIT ${MAX_LISTS}`,
      [projectId, question, from, to, settled],
    );
    return rows.map((r) => ({ id: r.id, at: r.occurred_at, slice: r.slice, modelVersion: r.model_version, candidates: r.candidates ?? [] }));
  }

  /**
   * The settled hours of a window (their raw rows are gone, or about to go), and a ranking's
   * clicks kept in their rollups: per position, the candidates shown and those engaged with by
   * an event of one of `clickTypes` (each once, whatever else engaged it). An hour is counted whole.
   */
  async rolledClicks(
    manager: EntityManager,
    projectId: string,
    clickTypes: readonly string[],
    from: Date,
    to: Date,
  ): Promise<{ settled: Date[]; rolled: RolledClicks[] }> {
    // every settled group of the window: its hour is left out of the raw reads, and its clicks count when it kept them
    const rows: Array<{
      hour: Date;
      model_version: string;
      slice: Record<string, string>;
      lists: number | null;
      positions: Array<{ position: number; impressions: number; clicks: number }>;
    }> = await manager.query(
      `SELECT r.hour, r.model_version, r.slice, (r.clicks->>'lists')::int AS lists,
                coalesce((SELECT jsonb_agg(jsonb_build_object('position', pos.key::int, 'impressions', (pos.value->>'impressions')::int,
                                   'clicks', (SELECT coalesce(sum(e.value::int), 0) FROM jsonb_each_text(pos.value->'engaged') e
                                               WHERE e.key::jsonb ?| $4::text[]))) FROM jsonb_each(r.clicks->'positions') pos), '[]') AS positions
           FROM prediction_rollups_read r
          WHERE r.project_id = $1 AND r.hour > $2::timestamptz - interval '1 hour' AND r.hour < $3 AND r.settled_at IS NOT NULL`,
      [projectId, from, to, clickTypes],
    );
    const settled = new Map(rows.map((r) => [r.hour.getTime(), r.hour]));
    return {
      settled: [...settled.values()],
      rolled: rows.flatMap((r) =>
        r.lists === null ? [] : [{ hour: r.hour, modelVersion: r.model_version, slice: r.slice, lists: r.lists, positions: r.positions }],
      ),
    };
  }

  /**
   * The decided preferences of a window (current labels, raters'): the answer, the model versions
   * of the two responses compared (the generation question's first and second), and when the
   * prediction was made. Optionally of one slice.
   */
  async preferences(
    manager: EntityManager,
    projectId: string,
    question: { name: string; of: string },
    from: Date,
    slice?: { key: string; value: string },
  ): Promise<PreferenceRow[]> {
    const rows: PreferenceRow[] = await manager.query(
      `SELECT l.answers->$2->>'preferred' AS preferred,
              p.suggestions->$3->'responses'->0->'model'->>'version' AS first,
              p.suggestions->$3->'responses'->1->'model'->>'version' AS second,
              p.occurred_at AS at, p.slice
         FROM labels_read l
         JOIN predictions_read p ON p.project_id = l.project_id AND p.id = l.prediction_id
        WHERE l.project_id = $1 AND l.superseded_at IS NULL AND l.created_at >= $4 AND l.answers ? $2
          AND ($5::text IS NULL OR p.slice->>$5 = $6)
        ORDER BY p.occurred_at
        LIMIT ${MAX_LABELS}`,
      [projectId, question.name, question.of, from, slice?.key ?? null, slice?.value ?? null],
    );
    return rows;
  }

  /**
   * Per model version: the predictions made since `from` (on the hour), and per event type the
   * predictions with one and the events, with the edits' distances (count, mean, sample
   * deviation) where stored. Hours retention settled are read from their rollups, the others
   * from the raw rows; the edits are pooled from sums either way.
   */
  async feedbackSignals(manager: EntityManager, projectId: string, from: Date): Promise<SignalCounts> {
    const settled: Array<{ hour: Date }> = await manager.query(
      `SELECT DISTINCT hour FROM prediction_rollups_read WHERE project_id = $1 AND hour >= $2 AND settled_at IS NOT NULL`,
      [projectId, from],
    );
    const hours = settled.map((r) => r.hour);
    const rawPredictions: Array<{ model_version: string; n: number }> = await manager.query(
      `SELECT model_version, count(*)::int AS n FROM predictions_read
        WHERE project_id = $1 AND occurred_at >= $2 AND NOT (${hourOf('occurred_at')} = ANY ($3::timestamptz[])) GROUP BY model_version`,
      [projectId, from, hours],
    );
    const rolledPredictions: Array<{ model_version: string; n: number }> = hours.length
      ? await manager.query(
          `SELECT model_version, sum(predictions)::int AS n FROM prediction_rollups_read WHERE project_id = $1 AND hour >= $2 AND settled_at IS NOT NULL GROUP BY model_version`,
          [projectId, from],
        )
      : [];
    type EventRow = { model_version: string; type: string; predictions: number; events: number; edits: number; sum: number; squares: number };
    const rawEvents: EventRow[] = await manager.query(
      `SELECT p.model_version, f.type, count(DISTINCT f.prediction_id)::int AS predictions, count(*)::int AS events,
              count(f.edit_distance)::int AS edits, coalesce(sum(f.edit_distance), 0) AS sum, coalesce(sum(f.edit_distance ^ 2), 0) AS squares
         FROM feedback_events_read f
         JOIN predictions_read p ON p.project_id = f.project_id AND p.id = f.prediction_id
        WHERE f.project_id = $1 AND p.occurred_at >= $2 AND NOT (${hourOf('p.occurred_at')} = ANY ($3::timestamptz[]))
        GROUP BY p.model_version, f.type`,
      [projectId, from, hours],
    );
    const rolledEvents: EventRow[] = hours.length
      ? await manager.query(
          `SELECT r.model_version, e.key AS type, sum((e.value->>'predictions')::int)::int AS predictions, sum((e.value->>'events')::int)::int AS events,
                  sum((e.value->>'edits')::int)::int AS edits, sum((e.value->>'editSum')::float8) AS sum, sum((e.value->>'editSumOfSquares')::float8) AS squares
             FROM prediction_rollups_read r CROSS JOIN LATERAL jsonb_each(r.feedback) e
            WHERE r.project_id = $1 AND r.hour >= $2 AND r.settled_at IS NOT NULL
            GROUP BY r.model_version, e.key`,
          [projectId, from],
        )
      : [];
    const predictions = new Map<string, number>();
    for (const r of [...rawPredictions, ...rolledPredictions]) predictions.set(r.model_version, (predictions.get(r.model_version) ?? 0) + r.n);
    const events = new Map<string, EventRow>();
    for (const r of [...rawEvents, ...rolledEvents]) {
      const key = JSON.stringify([r.model_version, r.type]);
      const seen = events.get(key);
      events.set(
        key,
        seen
          ? {
              ...seen,
              predictions: seen.predictions + r.predictions,
              events: seen.events + r.events,
              edits: seen.edits + r.edits,
              sum: seen.sum + r.sum,
              squares: seen.squares + r.squares,
            }
          : r,
      );
    }
    const byKey =
      <T>(key: (item: T) => string) =>
      (a: T, b: T) =>
        key(a).localeCompare(key(b));
    return {
      predictions: [...predictions].map(([modelVersion, n]) => ({ modelVersion, predictions: n })).sort(byKey((r) => r.modelVersion)),
      events: [...events.values()]
        .map((r) => ({
          modelVersion: r.model_version,
          type: r.type,
          predictions: r.predictions,
          events: r.events,
          edits: r.edits,
          meanDistance: r.edits ? r.sum / r.edits : null,
          sdDistance: r.edits > 1 ? Math.sqrt(Math.max(0, (r.squares - (r.sum * r.sum) / r.edits) / (r.edits - 1))) : null,
        }))
        .sort(byKey((r) => `${r.modelVersion}\u0000${r.type}`)),
    };
  }

  /** Replaces a ranking question's examination estimate with the click model's latest one (exports weight clicks by it). */
  async saveExamination(
    manager: EntityManager,
    projectId: string,
    question: string,
    estimate: { method: string; at: Date; positions: Array<{ position: number; value: number; low: number; high: number; impressions: number }> },
  ): Promise<void> {
    await manager.transaction(async (inner) => {
      await inner.query(`DELETE FROM click_examination WHERE project_id = $1 AND question = $2`, [projectId, question]);
      // a position never clicked has no examination to divide by: left out (exports then weight it as unknown)
      const positions = estimate.positions.filter((p) => p.value > 0);
      if (positions.length === 0) return;
      await inner.query(
        `INSERT INTO click_examination (project_id, question, position, value, low, high, impressions, method, estimated_at)
         SELECT $1, $2, e.position, e.value, e.low, e.high, e.impressions, $4, $5
           FROM jsonb_to_recordset($3::jsonb) AS e(position int, value float8, low float8, high float8, impressions int)`,
        [projectId, question, JSON.stringify(positions.map((p) => ({ ...p, value: Math.min(1, p.value) }))), estimate.method, estimate.at],
      );
    });
  }

  /** When a ranking question's examination was last estimated (undefined: never). */
  async examinationEstimatedAt(manager: EntityManager, projectId: string, question: string): Promise<Date | undefined> {
    const [row]: Array<{ at: Date | null }> = await manager.query(
      `SELECT max(estimated_at) AS at FROM click_examination WHERE project_id = $1 AND question = $2`,
      [projectId, question],
    );
    return row?.at ?? undefined;
  }

  /** The candidates engaged with in a window's lists: events of the click types that name an item. */
  async engagements(
    manager: EntityManager,
    projectId: string,
    types: readonly string[],
    from: Date,
    to: Date,
    settled: readonly Date[] = [],
  ): Promise<Engagement[]> {
    if (types.length === 0) return [];
    const rows: Array<{ prediction_id: string; item: string }> = await manager.query(
      `SELECT DISTINCT f.prediction_id, f.item
         FROM feedback_events_read f
         JOIN predictions_read p ON p.project_id = f.project_id AND p.id = f.prediction_id
        WHERE f.project_id = $1 AND f.type = ANY($2::text[]) AND f.item IS NOT NULL AND p.occurred_at >= $3 AND p.occurred_at < $4
          AND NOT (${hourOf('p.occurred_at')} = ANY ($5::timestamptz[]))`,
      [projectId, types, from, to, settled],
    );
    return rows.map((r) => ({ predictionId: r.prediction_id, item: r.item }));
  }
}

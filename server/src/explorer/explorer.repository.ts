import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ExplorerFilters, SavedView } from '@backflow/contracts';
import { containsPattern, type CursorKey, sliceContaining, type Walk } from './explorer-walk';

/** A prediction as a page lists it, with its current label and task, and the walk's key where it was found. */
export interface FoundRow {
  /** its key (what labels and tasks refer to) */
  key: string;
  /** the id the model server sent (its own request id, or the key) */
  id: string;
  occurred_at: Date;
  received_at: Date;
  model_name: string;
  model_version: string;
  predicted_label: string | null;
  confidence: number | null;
  slice: Record<string, string> | null;
  input: Record<string, unknown>;
  label_value: string | null;
  label_source: string | null;
  label_at: Date | null;
  task_id: string | null;
  task_state: string | null;
  task_reason: string | null;
  sort_key: string | number;
  key_id: string;
}

export interface WalkResult {
  rows: FoundRow[];
  /** rows the walk read */
  walked: number;
  /** the last row the walk read: where a next page starts when this one is short */
  edge: { sortKey: string | number; id: string } | null;
}

const OPEN_TASK_STATES = `('queued', 'leased', 'escalated', 'review')`;

/** Parameters as they are added, each named by its place. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The read side of the explorer: every query over other modules' tables goes through the views they publish. */
@Injectable()
export class ExplorerRepository {
  /**
   * One page: the walk reads up to `walk.budget` rows of its table in its order from `after`, the
   * filters keep some, and the first `limit + 1` kept are joined to their label and task.
   */
  async walk(
    manager: EntityManager,
    projectId: string,
    filters: ExplorerFilters,
    walk: Walk,
    after: CursorKey | undefined,
    limit: number,
    unsearched: readonly string[] = [],
  ): Promise<WalkResult> {
    const direction = walk.ascending ? 'ASC' : 'DESC';
    const compare = walk.ascending ? '>' : '<';
    // the walk: its rows in order (a prediction's columns come with it on a walk along predictions) and each one's key;
    // built for each statement, which numbers its own parameters
    const walkOf = (params: Params, project: string): string => {
      const budget = params.add(walk.budget);
      if (walk.order === 'arrival' || walk.order === 'confidence') {
        const column = walk.order === 'arrival' ? 'received_at' : 'confidence';
        const window = windowSql(params, filters, 'p');
        const keyed = after
          ? `AND (p.${column}, p.id) ${compare} (${params.add(after[0])}::${walk.order === 'arrival' ? 'timestamptz' : 'float8'}, ${params.add(after[1])}::uuid)`
          : '';
        return `SELECT p.*, p.id AS prediction_id, p.${column}${walk.order === 'arrival' ? '::text' : ''} AS sort_key, p.id::text AS key_id
                  FROM predictions_read p
                 WHERE p.project_id = ${project} ${window} ${keyed}
                 ORDER BY p.${column} ${direction}, p.id ${direction}
                 LIMIT ${budget}`;
      }
      if (walk.order === 'label') {
        const keyed = after ? `AND l.id ${compare} ${params.add(after[1])}::bigint` : '';
        return `SELECT l.prediction_id, l.prediction_occurred_on, l.created_at::text AS sort_key, l.id::text AS key_id
                  FROM labels_read l
                 WHERE l.project_id = ${project} AND l.superseded_at IS NULL ${labelFiltersSql(params, filters, 'l')} ${keyed}
                 ORDER BY l.id ${direction}
                 LIMIT ${budget}`;
      }
      const keyed = after ? `AND (t.created_at, t.id) ${compare} (${params.add(after[0])}::timestamptz, ${params.add(after[1])}::uuid)` : '';
      return `SELECT t.prediction_id, t.created_at::text AS sort_key, t.id::text AS key_id
                FROM tasks_read t
               WHERE t.project_id = ${project} AND t.gold_item_id IS NULL ${taskFiltersSql(params, filters, 't')} ${keyed}
               ORDER BY t.created_at ${direction}, t.id ${direction}
               LIMIT ${budget}`;
    };
    const params = new Params();
    const project = params.add(projectId);
    const walkSql = walkOf(params, project);
    const window = walk.order === 'arrival' || walk.order === 'confidence' ? '' : windowSql(params, filters, 'p');
    const predictionFilters = predictionFiltersSql(params, filters, unsearched);
    // a walk along labels or tasks still applies the other table's filters, and the prediction's own
    const crossFilters = [
      walk.order !== 'label' ? labelExistsSql(params, filters, project) : '',
      walk.order !== 'task' ? taskExistsSql(params, filters, project) : '',
    ].join(' ');
    // a walk along labels or tasks looks each prediction up as it goes (OFFSET 0: a lookup, not a hash of the window), in its
    // day's partition when the label knows it
    const lookup =
      walk.order === 'arrival' || walk.order === 'confidence'
        ? ''
        : `CROSS JOIN LATERAL (SELECT * FROM predictions_read p
                                WHERE p.project_id = ${project} AND p.id = w.prediction_id
                                      ${walk.order === 'label' ? 'AND p.occurred_on = w.prediction_occurred_on' : ''} ${window}
                               OFFSET 0) p`;
    const source = walk.order === 'arrival' || walk.order === 'confidence' ? 'w' : 'p';
    // the rows stream in the walk's order (a numbered subquery, filtered, cut at the page), so a page that fills early stops
    // the walk there: only a page the filters leave short reads the walk's whole budget
    const sql = `
      WITH found AS (
        SELECT ${source}.id::text AS key, coalesce(${source}.external_id, ${source}.id::text) AS id, ${source}.occurred_at, ${source}.received_at, ${source}.model_name, ${source}.model_version,
               ${source}.predicted_label, ${source}.confidence, ${source}.slice, ${source}.input, w.sort_key, w.key_id, w.n
          FROM (SELECT x.*, row_number() OVER () AS n FROM (${walkSql}) x) w
          ${lookup}
         WHERE true ${predictionFilters.replace(/\bp\./g, `${source}.`)} ${crossFilters.replace(/\bp\.id\b/g, `${source}.id`)}
         LIMIT ${params.add(limit + 1)})
      SELECT f.*, l.value AS label_value, l.source AS label_source, l.created_at AS label_at,
             t.id::text AS task_id, t.state AS task_state, t.reason AS task_reason
        FROM found f
        LEFT JOIN labels_read l ON l.project_id = ${project} AND l.prediction_id = f.key::uuid AND l.superseded_at IS NULL
        LEFT JOIN tasks_read t ON t.project_id = ${project} AND t.prediction_id = f.key::uuid AND t.gold_item_id IS NULL
       ORDER BY f.n`;
    const rows: Array<FoundRow & { n: string }> = await manager.query(sql, params.values);
    if (rows.length > limit) return { rows, walked: Number(rows[limit - 1].n), edge: null };
    // a short page read the walk to its end or its budget: how far it got, for the next page to go on from
    const edgeParams = new Params();
    const [edge]: Array<{ walked: number; sort_key: string | number | null; key_id: string | null }> = await manager.query(
      `SELECT count(*)::int AS walked, (array_agg(sort_key ORDER BY n DESC))[1] AS sort_key, (array_agg(key_id ORDER BY n DESC))[1] AS key_id
         FROM (SELECT x.sort_key, x.key_id, row_number() OVER () AS n FROM (${walkOf(edgeParams, edgeParams.add(projectId))}) x) w`,
      edgeParams.values,
    );
    return { rows, walked: edge.walked, edge: edge.key_id !== null ? { sortKey: edge.sort_key!, id: edge.key_id } : null };
  }

  async prediction(manager: EntityManager, projectId: string, id: string) {
    const [row]: Array<{
      key: string;
      id: string;
      occurred_at: Date;
      received_at: Date;
      model_name: string;
      model_version: string;
      input: Record<string, unknown>;
      scores: Record<string, number> | null;
      predicted_label: string | null;
      confidence: number | null;
      uncertainty: number | null;
      slice: Record<string, string> | null;
      metadata: Record<string, unknown> | null;
      suggestions: Record<string, unknown> | null;
    }> = await manager.query(
      `SELECT id::text AS key, coalesce(external_id, id::text) AS id, occurred_at, received_at, model_name, model_version, input, scores, predicted_label,
              confidence, uncertainty, slice, metadata, suggestions
         FROM predictions_read WHERE project_id = $1 AND id = $2`,
      [projectId, id],
    );
    return row;
  }

  async feedback(manager: EntityManager, projectId: string, predictionId: string) {
    const rows: Array<{ id: string; type: string; value: unknown; occurred_at: Date; received_at: Date; applied_at: Date | null }> = await manager.query(
      `SELECT id::text, type, value, occurred_at, received_at, applied_at FROM feedback_events_read
        WHERE project_id = $1 AND prediction_id = $2 ORDER BY occurred_at, id LIMIT 500`,
      [projectId, predictionId],
    );
    return rows;
  }

  async task(manager: EntityManager, projectId: string, predictionId: string) {
    const [row]: Array<{
      id: string;
      state: string;
      reason: string;
      priority: number;
      inclusion_probability: number | null;
      required_annotations: number;
      created_at: Date;
      completed_at: Date | null;
    }> = await manager.query(
      `SELECT id::text, state, reason, priority, inclusion_probability, required_annotations, created_at, completed_at
         FROM tasks_read WHERE project_id = $1 AND prediction_id = $2 AND gold_item_id IS NULL`,
      [projectId, predictionId],
    );
    return row;
  }

  async answers(manager: EntityManager, projectId: string, taskId: string) {
    const rows: Array<{
      id: string;
      rater: string | null;
      label: string | null;
      answers: Record<string, unknown> | null;
      time_spent_ms: number | null;
      late: boolean;
      created_at: Date;
    }> = await manager.query(
      `SELECT a.id::text, u.email AS rater, a.label, a.answers, a.time_spent_ms, a.late, a.created_at
         FROM annotations_read a LEFT JOIN users_read u ON u.id = a.rater_id
        WHERE a.project_id = $1 AND a.task_id = $2 ORDER BY a.created_at, a.id`,
      [projectId, taskId],
    );
    return rows;
  }

  /** Every label the prediction has had, newest first, each with the spans that exported it. */
  async labels(manager: EntityManager, projectId: string, predictionId: string) {
    const rows: Array<{
      id: string;
      value: string;
      answers: Record<string, unknown> | null;
      source: string;
      rule: string | null;
      agreement: number | null;
      weight: number;
      created_at: Date;
      superseded_at: Date | null;
      exported: Array<{ span: number; at: string }>;
    }> = await manager.query(
      `SELECT l.id::text, l.value, l.answers, l.source, l.rule, l.agreement, l.weight, l.created_at, l.superseded_at,
              coalesce((SELECT json_agg(json_build_object('span', s.span, 'at', s.created_at) ORDER BY s.span)
                          FROM span_labels_read sl JOIN export_spans_read s ON s.id = sl.span_id WHERE sl.label_id = l.id), '[]') AS exported
         FROM labels_read l WHERE l.project_id = $1 AND l.prediction_id = $2 ORDER BY l.id DESC`,
      [projectId, predictionId],
    );
    return rows;
  }

  /** The prediction's relabels by hand, newest first: who, when, from what to what, and why. */
  async relabels(manager: EntityManager, projectId: string, predictionId: string) {
    const rows: Array<{ created_at: Date; actor: string | null; previous: string | null; label: string; reason: string }> = await manager.query(
      `SELECT r.created_at, u.email AS actor, r.previous, r.label, r.reason
         FROM relabels r LEFT JOIN users_read u ON u.id = r.actor_user_id
        WHERE r.project_id = $1 AND r.prediction_id = $2 ORDER BY r.id DESC LIMIT 200`,
      [projectId, predictionId],
    );
    return rows;
  }

  async recordRelabel(
    manager: EntityManager,
    relabel: { projectId: string; predictionId: string; actorUserId: string; previous: string | null; label: string; reason: string },
  ): Promise<void> {
    await manager.query(`INSERT INTO relabels (project_id, prediction_id, actor_user_id, previous, label, reason) VALUES ($1, $2, $3, $4, $5, $6)`, [
      relabel.projectId,
      relabel.predictionId,
      relabel.actorUserId,
      relabel.previous,
      relabel.label,
      relabel.reason,
    ]);
  }

  async views(manager: EntityManager, projectId: string): Promise<SavedView[]> {
    const rows: Array<{ id: string; name: string; filters: Record<string, unknown>; created_by: string | null; created_at: Date }> = await manager.query(
      `SELECT v.id::text, v.name, v.filters, u.email AS created_by, v.created_at
         FROM explorer_views v LEFT JOIN users_read u ON u.id = v.created_by WHERE v.project_id = $1 ORDER BY lower(v.name), v.id`,
      [projectId],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, filters: r.filters, createdBy: r.created_by, createdAt: r.created_at.toISOString() }));
  }

  async saveView(manager: EntityManager, projectId: string, userId: string, name: string, filters: Record<string, unknown>): Promise<string> {
    const [row]: Array<{ id: string }> = await manager.query(
      `INSERT INTO explorer_views (project_id, name, filters, created_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, lower(name)) DO UPDATE SET filters = EXCLUDED.filters, created_by = EXCLUDED.created_by, created_at = now()
       RETURNING id::text`,
      [projectId, name, filters, userId],
    );
    return row.id;
  }

  async deleteView(manager: EntityManager, projectId: string, id: string): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(`DELETE FROM explorer_views WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return count > 0;
  }
}

/** The window on the prediction's timestamp, pruned to the days' partitions. */
function windowSql(params: Params, filters: ExplorerFilters, p: string): string {
  const parts: string[] = [];
  if (filters.from) {
    const from = params.add(filters.from);
    parts.push(`AND ${p}.occurred_at >= ${from}::timestamptz AND ${p}.occurred_on >= (${from}::timestamptz AT TIME ZONE 'UTC')::date`);
  }
  if (filters.to) {
    const to = params.add(filters.to);
    parts.push(`AND ${p}.occurred_at < ${to}::timestamptz AND ${p}.occurred_on <= (${to}::timestamptz AT TIME ZONE 'UTC')::date`);
  }
  return parts.join(' ');
}

/** `unsearched`: input fields the text search leaves out (the masked ones, for a reader who may not see them). */
function predictionFiltersSql(params: Params, filters: ExplorerFilters, unsearched: readonly string[]): string {
  const parts: string[] = [];
  const slice = sliceContaining(filters.slice);
  if (slice) parts.push(`AND p.slice @> ${params.add(JSON.stringify(slice))}::jsonb`);
  if (filters.modelVersion !== undefined) parts.push(`AND p.model_version = ${params.add(filters.modelVersion)}`);
  if (filters.predictedLabel !== undefined) parts.push(`AND p.predicted_label = ${params.add(filters.predictedLabel)}`);
  if (filters.minConfidence !== undefined) parts.push(`AND p.confidence >= ${params.add(filters.minConfidence)}`);
  if (filters.maxConfidence !== undefined) parts.push(`AND p.confidence <= ${params.add(filters.maxConfidence)}`);
  if (filters.q !== undefined) {
    // a masked value must not be found by guessing it a character at a time
    const input = unsearched.length ? `(p.input - ${params.add([...unsearched])}::text[])` : 'p.input';
    parts.push(`AND ${input}::text ILIKE ${params.add(containsPattern(filters.q))}`);
  }
  return parts.join(' ');
}

function labelFiltersSql(params: Params, filters: ExplorerFilters, l: string): string {
  const parts: string[] = [];
  if (filters.label !== undefined) parts.push(`AND ${l}.value = ${params.add(filters.label)}`);
  if (filters.source !== undefined && filters.source !== 'none') parts.push(`AND ${l}.source = ${params.add(filters.source)}`);
  return parts.join(' ');
}

function taskFiltersSql(params: Params, filters: ExplorerFilters, t: string): string {
  const parts: string[] = [];
  if (filters.reason !== undefined) parts.push(`AND ${t}.reason = ${params.add(filters.reason)}`);
  if (filters.task === 'open') parts.push(`AND ${t}.state IN ${OPEN_TASK_STATES}`);
  if (filters.task === 'completed') parts.push(`AND ${t}.completed_at IS NOT NULL`);
  return parts.join(' ');
}

/**
 * Whether a row of `from` matching `where` exists for the found prediction, looked up as the walk goes: a scalar subquery,
 * which PostgreSQL never turns into a join. An `EXISTS` it may plan as a hash (anti) join instead, which reads every
 * label or task of the project and the walk's whole budget to build, and hands the rows on in the hash's order, so a
 * page would be any of the matches rather than the first ones (seen at 20 million predictions: 70 ms a page).
 */
function lookedUp(exists: boolean, from: string, where: string): string {
  return `AND (SELECT true FROM ${from} WHERE ${where} LIMIT 1) IS ${exists ? 'NOT NULL' : 'NULL'}`;
}

/** The label filters as a condition on the found prediction (a walk not along labels). */
function labelExistsSql(params: Params, filters: ExplorerFilters, project: string): string {
  const current = `x.project_id = ${project} AND x.prediction_id = p.id AND x.superseded_at IS NULL`;
  if (filters.source === 'none') return lookedUp(false, 'labels_read x', current);
  const inner = labelFiltersSql(params, filters, 'x');
  return inner ? lookedUp(true, 'labels_read x', `${current} ${inner}`) : '';
}

/** The task filters as a condition on the found prediction (a walk not along tasks). */
function taskExistsSql(params: Params, filters: ExplorerFilters, project: string): string {
  const routed = `y.project_id = ${project} AND y.prediction_id = p.id AND y.gold_item_id IS NULL`;
  if (filters.task === 'none') return lookedUp(false, 'tasks_read y', routed);
  const inner = taskFiltersSql(params, filters, 'y');
  return inner || filters.task === 'any' ? lookedUp(true, 'tasks_read y', `${routed} ${inner}`) : '';
}

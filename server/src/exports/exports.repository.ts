import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import type { EntityManager } from 'typeorm';
import type { ExportSettings } from '@backflow/contracts';
import type { ExportRow, FeatureSpec } from './example-row';
import { BUCKET_SQL } from './split';

export interface ClaimedSpan {
  spanId: string;
  span: number;
  versionId: string;
  version: number;
  rows: number;
}

export interface VersionRow {
  id: string;
  version: number;
  state: 'writing' | 'completed' | 'failed';
  rowsWritten: number;
  error: string | null;
  files: Array<{ path: string; format: string; split: 'train' | 'eval'; rows: number; bytes: number; sha256: string }>;
  createdAt: Date | string;
  completedAt: Date | string | null;
}

export interface VersionToWrite {
  versionId: string;
  spanId: string;
  span: number;
  version: number;
  rows: number;
  settings: ExportSettings;
  state: 'writing' | 'completed' | 'failed';
  labelFrom: Date | null;
  labelTo: Date | null;
}

// rows read to infer the features when the project does not declare them
export const INFERENCE_SAMPLE = 20_000;

const ROWS = `
  SELECT l.prediction_id, l.value, l.source, l.agreement,
         l.weight / coalesce(t.inclusion_probability, 1) AS weight,
         p.input, p.model_name, p.model_version, ${BUCKET_SQL('l.prediction_id')} AS bucket
    FROM span_labels sl
    JOIN labels l ON l.id = sl.label_id
    JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
    LEFT JOIN tasks t ON t.project_id = l.project_id AND t.prediction_id = l.prediction_id
   WHERE sl.span_id = $1`;

/** Spans, their versions, and the rows of a span, in SQL. */
@Injectable()
export class ExportsRepository {
  /**
   * The next span with every label not yet exported that the settings take, in one
   * transaction under the project's row lock: a label committed before it is claimed now, one
   * committed after waits for the next span. Undefined when there is nothing to export.
   */
  async claimSpan(manager: EntityManager, projectId: string, settings: ExportSettings): Promise<ClaimedSpan | undefined> {
    await manager.query(`SELECT 1 FROM projects WHERE id = $1 FOR UPDATE`, [projectId]);
    const [span]: Array<{ id: string; span: number }> = await manager.query(
      `INSERT INTO export_spans (project_id, span, rows)
       SELECT $1, coalesce(max(span), 0) + 1, 0 FROM export_spans WHERE project_id = $1
       RETURNING id, span`,
      [projectId],
    );
    // the labels first, then the claim: an INSERT whose NOT EXISTS probes the table it is filling
    // would scan its own new rows (measured: quadratic)
    await manager.query(
      `CREATE TEMP TABLE span_claim ON COMMIT DROP AS
       SELECT l.id, l.created_at FROM labels l
        WHERE l.project_id = $1 AND l.superseded_at IS NULL AND l.source = ANY($2::text[])
          AND ($3::float8 IS NULL OR l.agreement IS NULL OR l.agreement >= $3)
          AND NOT EXISTS (SELECT 1 FROM span_labels s WHERE s.label_id = l.id)`,
      [projectId, settings.sources, settings.minAgreement ?? null],
    );
    const [claimed]: Array<{ rows: number; label_from: Date | null; label_to: Date | null }> = await manager.query(
      `SELECT count(*)::int AS rows, min(created_at) AS label_from, max(created_at) AS label_to FROM span_claim`,
    );
    if (claimed.rows === 0) {
      // nothing to export: no span (an empty one would hold a span number with no version)
      await manager.query(`DELETE FROM export_spans WHERE id = $1`, [span.id]);
      return undefined;
    }
    await manager.query(`INSERT INTO span_labels (label_id, span_id) SELECT id, $1 FROM span_claim`, [span.id]);
    await manager.query(`UPDATE export_spans SET rows = $2, label_from = $3, label_to = $4 WHERE id = $1`, [span.id, claimed.rows, claimed.label_from, claimed.label_to]);
    const [version]: Array<{ id: string }> = await manager.query(`INSERT INTO export_versions (span_id, version, settings) VALUES ($1, 1, $2) RETURNING id`, [span.id, settings]);
    return { spanId: span.id, span: span.span, versionId: version.id, version: 1, rows: claimed.rows };
  }

  /** A new version of an exported span (another format, corrected settings): its labels stay the span's. */
  async newVersion(manager: EntityManager, projectId: string, span: number, settings: ExportSettings): Promise<string | undefined> {
    const [row]: Array<{ id: string }> = await manager.query(
      `INSERT INTO export_versions (span_id, version, settings)
       SELECT s.id, coalesce((SELECT max(version) FROM export_versions v WHERE v.span_id = s.id), 0) + 1, $3
         FROM export_spans s WHERE s.project_id = $1 AND s.span = $2
       RETURNING id`,
      [projectId, span, settings],
    );
    return row?.id;
  }

  async version(manager: EntityManager, versionId: string): Promise<VersionToWrite | undefined> {
    const [row]: Array<{ id: string; span_id: string; span: number; version: number; rows: number; settings: ExportSettings; state: VersionToWrite['state']; label_from: Date | null; label_to: Date | null }> =
      await manager.query(
        `SELECT v.id, v.span_id, s.span, v.version, s.rows, v.settings, v.state, s.label_from, s.label_to
           FROM export_versions v JOIN export_spans s ON s.id = v.span_id WHERE v.id = $1`,
        [versionId],
      );
    return row && { versionId: row.id, spanId: row.span_id, span: row.span, version: row.version, rows: row.rows, settings: row.settings, state: row.state, labelFrom: row.label_from, labelTo: row.label_to };
  }

  /**
   * The input features of a span and the type their values share, read from its first
   * `sample` rows in prediction order (the same rows on every run, so a re-run infers the same).
   * A feature seen only in later rows is left out: declare `export.features` to be exact.
   */
  async inferFeatures(manager: EntityManager, spanId: string, sample = INFERENCE_SAMPLE): Promise<FeatureSpec[]> {
    const rows: Array<{ name: string; strings: boolean; numbers: boolean; others: boolean; fractional: boolean }> = await manager.query(
      `WITH sampled AS (
         SELECT p.input FROM span_labels sl JOIN labels l ON l.id = sl.label_id JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
          WHERE sl.span_id = $1 ORDER BY l.prediction_id, l.id LIMIT $2),
       valued AS (
         SELECT f.key, CASE WHEN jsonb_typeof(f.value) = 'array' THEN f.value->0 ELSE f.value END AS v FROM sampled, jsonb_each(sampled.input) f)
       SELECT key AS name,
              bool_or(jsonb_typeof(v) = 'string') AS strings,
              bool_or(jsonb_typeof(v) IN ('number', 'boolean')) AS numbers,
              bool_or(jsonb_typeof(v) IN ('object', 'array')) AS others,
              bool_or(CASE WHEN jsonb_typeof(v) = 'number' THEN (v::numeric % 1) <> 0 ELSE false END) AS fractional
         FROM valued GROUP BY key ORDER BY key`,
      [spanId, sample],
    );
    return rows.map((r) => ({ name: r.name, type: r.numbers && !r.strings && !r.others ? (r.fractional ? 'float' : 'int') : 'bytes' }));
  }

  /**
   * A span's rows in prediction order (the files' order, so a re-run writes the same bytes), a
   * batch at a time; the next batch is fetched while the caller writes this one.
   */
  async *rows(client: PoolClient, spanId: string, batch = 1_000): AsyncGenerator<ExportRow[]> {
    type Raw = { prediction_id: string; value: string; source: string; agreement: number | null; weight: number; input: Record<string, unknown>; model_name: string; model_version: string; bucket: number };
    const cursor = client.query(new Cursor(`${ROWS} ORDER BY l.prediction_id, l.id`, [spanId]));
    let next: Promise<Raw[]> = cursor.read(batch);
    try {
      for (;;) {
        const rows = await next;
        if (rows.length === 0) return;
        next = cursor.read(batch);
        yield rows.map((r) => ({
          predictionId: r.prediction_id,
          label: r.value,
          source: r.source,
          agreement: r.agreement,
          weight: r.weight,
          input: r.input,
          modelName: r.model_name,
          modelVersion: r.model_version,
          bucket: r.bucket,
          values: undefined,
        }));
      }
    } finally {
      await next.catch(() => undefined);
      await cursor.close();
    }
  }

  /** Every span of a project with its versions, newest span first. */
  async spans(manager: EntityManager, projectId: string): Promise<Array<{ span: number; rows: number; labelFrom: Date | null; labelTo: Date | null; versions: VersionRow[] }>> {
    const rows: Array<{ span: number; rows: number; label_from: Date | null; label_to: Date | null; versions: VersionRow[] }> = await manager.query(
      `SELECT s.span, s.rows, s.label_from, s.label_to,
              coalesce(json_agg(json_build_object('id', v.id::text, 'version', v.version, 'state', v.state, 'rowsWritten', v.rows_written, 'error', v.error,
                                                  'files', coalesce(v.manifest->'files', '[]'::jsonb), 'createdAt', v.created_at, 'completedAt', v.completed_at)
                                ORDER BY v.version) FILTER (WHERE v.id IS NOT NULL), '[]') AS versions
         FROM export_spans s LEFT JOIN export_versions v ON v.span_id = s.id
        WHERE s.project_id = $1 AND s.rows > 0
        GROUP BY s.id ORDER BY s.span DESC`,
      [projectId],
    );
    return rows.map((r) => ({ span: r.span, rows: r.rows, labelFrom: r.label_from, labelTo: r.label_to, versions: r.versions }));
  }

  /** One version of the project's spans, as its job. */
  async job(manager: EntityManager, projectId: string, versionId: string): Promise<(VersionRow & { span: number; rows: number }) | undefined> {
    const [row]: Array<VersionRow & { span: number; rows: number }> = await manager.query(
      `SELECT v.id::text AS id, v.version, v.state, v.rows_written AS "rowsWritten", v.error, coalesce(v.manifest->'files', '[]'::jsonb) AS files,
              v.created_at AS "createdAt", v.completed_at AS "completedAt", s.span, s.rows
         FROM export_versions v JOIN export_spans s ON s.id = v.span_id
        WHERE s.project_id = $1 AND v.id = $2`,
      [projectId, versionId],
    );
    return row;
  }

  /** Versions still marked writing whose writer's lock nobody holds: their process died. */
  async orphanedVersions(manager: EntityManager, lockClass: number): Promise<Array<{ projectId: string; versionId: string }>> {
    const rows: Array<{ project_id: string; id: string }> = await manager.query(
      `SELECT s.project_id, v.id::text AS id FROM export_versions v JOIN export_spans s ON s.id = v.span_id
        WHERE v.state = 'writing'
          AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = $1::int::oid AND l.objid = v.id::int::oid AND l.objsubid = 2)`,
      [lockClass],
    );
    return rows.map((r) => ({ projectId: r.project_id, versionId: r.id }));
  }

  /** Projects with an export schedule, and when it last started an export. */
  async schedules(manager: EntityManager): Promise<Array<{ projectId: string; schedule: string; lastFiredAt: Date | null }>> {
    const rows: Array<{ id: string; schedule: string; last_fired_at: Date | null }> = await manager.query(
      `SELECT p.id, p.export_settings->>'schedule' AS schedule, s.last_fired_at
         FROM projects p LEFT JOIN export_schedules s ON s.project_id = p.id
        WHERE coalesce(p.export_settings->>'schedule', '') <> ''`,
    );
    return rows.map((r) => ({ projectId: r.id, schedule: r.schedule, lastFiredAt: r.last_fired_at }));
  }

  /** Records a schedule's tick; true when this call is the one that moved it forward (so exactly one caller exports). */
  async advanceSchedule(manager: EntityManager, projectId: string, firedAt: Date): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO export_schedules AS s (project_id, last_fired_at) VALUES ($1, $2)
       ON CONFLICT (project_id) DO UPDATE SET last_fired_at = EXCLUDED.last_fired_at WHERE s.last_fired_at < EXCLUDED.last_fired_at
       RETURNING 1`,
      [projectId, firedAt],
    );
    return rows.length > 0;
  }

  async progress(manager: EntityManager, versionId: string, rowsWritten: number): Promise<void> {
    await manager.query(`UPDATE export_versions SET rows_written = $2 WHERE id = $1`, [versionId, rowsWritten]);
  }

  async complete(manager: EntityManager, versionId: string, manifest: unknown): Promise<void> {
    await manager.query(`UPDATE export_versions SET state = 'completed', manifest = $2, completed_at = now(), error = NULL WHERE id = $1`, [versionId, manifest]);
  }

  async fail(manager: EntityManager, versionId: string, error: string): Promise<void> {
    await manager.query(`UPDATE export_versions SET state = 'failed', error = $2 WHERE id = $1 AND state = 'writing'`, [versionId, error.slice(0, 2000)]);
  }
}

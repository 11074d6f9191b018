import { Injectable } from '@nestjs/common';
import { escapeLiteral, types, type Pool, type PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import type { EntityManager } from 'typeorm';
import type { ExportSettings } from '@backflow/contracts';
import type { SchemaLike } from '@backflow/drift';
import { CERTAIN_INCLUSION, inclusionWeightSql } from '@backflow/sampling';
import { FITS_BYTES, FITS_FLOAT, FITS_INT, NO_VALUE, type ExportRow } from './example-row';
import { parseExactJson } from '../common/json/exact-json';
import { copyRows } from '../common/database/copy-rows';
import { exportRowOf, ROW_COLUMNS } from './span-rows';
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
  warnings: string[];
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
  /** the project's masked fields when the version was opened */
  maskedFields: string[];
  state: 'writing' | 'completed' | 'failed';
  labelFrom: Date | null;
  labelTo: Date | null;
  /** a ranking's examination per position when the version was opened (null: none estimated yet, or not a ranking) */
  examination: Examination | null;
}

/** The examination probability per position of a ranking's clicks, as the click model estimated it. */
export interface Examination {
  method: string;
  estimatedAt: string;
  positions: Array<{ position: number; value: number; low: number; high: number }>;
}

const JSONB = 3802;
// a claimed span at least this large has span_labels analyzed before its rows are read
const ANALYZE_SPAN_ROWS = 10_000;
// the work_mem of the query reading a span's rows: at PostgreSQL's default 4 MB a million rows'
// hash joins and sort spilled about 440 MB to temporary files; at 64 MB only the sort spills and
// the first row came 0.9 s sooner (measured; 256 MB kept the sort in memory for 0.2 s more, at
// up to three times the memory: one leader and two parallel workers, each node its own)
const SPAN_ROWS_WORK_MEM = '64MB';
const FITS_ALL = FITS_INT | FITS_FLOAT | FITS_BYTES;
// the largest double: a number past it is no float (JSON.parse makes it Infinity)
const DOUBLE_MAX = '1.7976931348623157e308';
// a row's input with its integers past 2^53 exact (the other columns as pg reads them)
const EXACT_INPUT = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === JSONB ? parseExactJson : (types.getTypeParser(oid, format) as (value: string) => unknown)) as typeof types.getTypeParser,
};

/** The bits of `fitsOf` ANDed over the values `v` of a group, in SQL (a group of no value: NO_VALUE). */
const FITS_SQL = `coalesce(bit_and(CASE coalesce(jsonb_typeof(v), 'null')
                WHEN 'null' THEN NULL
                WHEN 'boolean' THEN ${FITS_ALL}
                WHEN 'number' THEN CASE
                  WHEN v::numeric % 1 <> 0 THEN CASE WHEN abs(v::numeric) <= ${DOUBLE_MAX} THEN ${FITS_FLOAT | FITS_BYTES} ELSE ${FITS_BYTES} END
                  WHEN abs(v::numeric) <= ${Number.MAX_SAFE_INTEGER} THEN ${FITS_ALL}
                  WHEN v::numeric BETWEEN ${-(2n ** 63n)} AND ${2n ** 63n - 1n} THEN ${FITS_INT | FITS_BYTES}
                  ELSE ${FITS_BYTES} END
                ELSE ${FITS_BYTES} END), ${NO_VALUE | FITS_ALL})`;

const ROWS = `
  SELECT coalesce(p.external_id, l.prediction_id::text) AS prediction_id, l.value, l.answers, l.source, l.agreement,
         ${inclusionWeightSql('t.inclusion_probability', 'l.weight')} AS weight, coalesce(t.inclusion_probability, ${CERTAIN_INCLUSION}) AS inclusion_probability,
         p.input, p.model_name, p.model_version, ${BUCKET_SQL('l.prediction_id')} AS bucket,
         CASE WHEN $2::text IS NOT NULL THEN p.suggestions->$2::text END AS output
    FROM span_labels sl
    JOIN labels_read l ON l.id = sl.label_id
    JOIN predictions_read p ON p.project_id = l.project_id AND p.id = l.prediction_id
    LEFT JOIN tasks_read t ON t.project_id = l.project_id AND t.prediction_id = l.prediction_id
   WHERE sl.span_id = $1`;

/**
 * The examination estimate a version is opened with (its clicks are weighted by it, and writing
 * it again gives the same bytes): the ranking question's latest, or null when it has none.
 */
const EXAMINATION_NOW = (project: string, question: string) => `(
  SELECT jsonb_build_object('method', min(e.method), 'estimatedAt', max(e.estimated_at),
           'positions', jsonb_agg(jsonb_build_object('position', e.position, 'value', e.value, 'low', e.low, 'high', e.high) ORDER BY e.position))
    FROM click_examination_read e WHERE e.project_id = ${project}::uuid AND e.question = ${question}::text HAVING count(*) > 0)`;

/** Spans, their versions, and the rows of a span, in SQL. */
@Injectable()
export class ExportsRepository {
  /**
   * The next span with every label not yet exported that the settings take, in one
   * transaction under the project's row lock: a label committed before it is claimed now, one
   * committed after waits for the next span. Undefined when there is nothing to export.
   */
  async claimSpan(
    manager: EntityManager,
    projectId: string,
    settings: ExportSettings,
    maskedFields: readonly string[],
    rankingQuestion: string | null = null,
  ): Promise<ClaimedSpan | undefined> {
    await manager.query(`SELECT 1 FROM projects_read WHERE id = $1 FOR UPDATE`, [projectId]);
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
       SELECT l.id, l.created_at FROM labels_read l
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
    // a new span's id is in no statistics yet: the planner would take a large span for one row
    // and read it by a nested loop of index probes (a million rows: 20 s against 5 s by the
    // parallel hash joins it plans once it knows); a sample of the table costs about 80 ms
    if (claimed.rows >= ANALYZE_SPAN_ROWS) await manager.query(`ANALYZE span_labels`);
    await manager.query(`UPDATE export_spans SET rows = $2, label_from = $3, label_to = $4 WHERE id = $1`, [
      span.id,
      claimed.rows,
      claimed.label_from,
      claimed.label_to,
    ]);
    const [version]: Array<{ id: string }> = await manager.query(
      `INSERT INTO export_versions (span_id, version, settings, masked_fields, examination) VALUES ($1, 1, $2, $3, ${EXAMINATION_NOW('$4', '$5')}) RETURNING id`,
      [span.id, settings, JSON.stringify(maskedFields), projectId, rankingQuestion],
    );
    return { spanId: span.id, span: span.span, versionId: version.id, version: 1, rows: claimed.rows };
  }

  /** A new version of an exported span (another format, corrected settings): its labels stay the span's. */
  async newVersion(
    manager: EntityManager,
    projectId: string,
    span: number,
    settings: ExportSettings,
    maskedFields: readonly string[],
    rankingQuestion: string | null = null,
  ): Promise<string | undefined> {
    const [row]: Array<{ id: string }> = await manager.query(
      `INSERT INTO export_versions (span_id, version, settings, masked_fields, examination)
       SELECT s.id, coalesce((SELECT max(version) FROM export_versions v WHERE v.span_id = s.id), 0) + 1, $3, $4, ${EXAMINATION_NOW('$1', '$5')}
         FROM export_spans s WHERE s.project_id = $1 AND s.span = $2
       RETURNING id`,
      [projectId, span, settings, JSON.stringify(maskedFields), rankingQuestion],
    );
    return row?.id;
  }

  async version(manager: EntityManager, versionId: string): Promise<VersionToWrite | undefined> {
    const [row]: Array<{
      id: string;
      span_id: string;
      span: number;
      version: number;
      rows: number;
      settings: ExportSettings;
      masked_fields: string[];
      state: VersionToWrite['state'];
      label_from: Date | null;
      label_to: Date | null;
      examination: Examination | null;
    }> = await manager.query(
      `SELECT v.id, v.span_id, s.span, v.version, s.rows, v.settings, v.masked_fields, v.state, s.label_from, s.label_to, v.examination
           FROM export_versions v JOIN export_spans s ON s.id = v.span_id WHERE v.id = $1`,
      [versionId],
    );
    return (
      row && {
        versionId: row.id,
        spanId: row.span_id,
        span: row.span,
        version: row.version,
        rows: row.rows,
        settings: row.settings,
        maskedFields: row.masked_fields,
        state: row.state,
        labelFrom: row.label_from,
        labelTo: row.label_to,
        examination: row.examination,
      }
    );
  }

  /** The project's uploaded TFDV schema (a tensorflow_metadata Schema as JSON), whose settings its exported schema keeps. */
  async uploadedSchema(manager: EntityManager, projectId: string): Promise<SchemaLike | undefined> {
    const [row]: Array<{ tfdv_schema: SchemaLike }> = await manager.query(`SELECT tfdv_schema FROM tfdv_schemas_read WHERE project_id = $1`, [projectId]);
    return row?.tfdv_schema;
  }

  /** The key a project's masked fields are hashed with in its exports (never leaves the server). */
  async hashKey(manager: EntityManager, projectId: string): Promise<Buffer> {
    const [row]: Array<{ key: Buffer }> = await manager.query(`SELECT export_hash_key AS key FROM projects_read WHERE id = $1`, [projectId]);
    return row.key;
  }

  /**
   * The inputs of a span's first `sample` labels (the same rows on every run), a batch at a time,
   * for the process to type (`FeatureInference`): typed in SQL, 20,000 rows took 0.9 s of the
   * sample's 1.5 s, in the process about 30 ms (measured). The first by label id, read from the
   * span's index: in prediction order, a top-N sort of a 1M-row span took 5.4 s (measured).
   */
  sampleInputs(client: PoolClient, spanId: string, sample: number): AsyncGenerator<Array<Record<string, unknown>>> {
    return this.inputs(
      client,
      `SELECT p.input FROM (SELECT label_id FROM span_labels WHERE span_id = $1 ORDER BY label_id LIMIT $2) sl
         JOIN labels_read l ON l.id = sl.label_id JOIN predictions_read p ON p.project_id = l.project_id AND p.id = l.prediction_id`,
      [spanId, sample],
    );
  }

  /**
   * The item features of every candidate of a span's lists (a ranking's) and the types every one
   * of their values fits, list elements included: the bits of `fitsOf` ANDed in SQL, so the
   * candidates never cross into the process; every list, not a sample, so a later candidate
   * never finds its types unfit.
   */
  async itemFeatureFits(manager: EntityManager, spanId: string, question: string): Promise<Map<string, number>> {
    const rows: Array<{ name: string; fits: number }> = await manager.query(
      `WITH valued AS (
         SELECT f.key, e.v FROM span_labels sl
           JOIN labels_read l ON l.id = sl.label_id JOIN predictions_read p ON p.project_id = l.project_id AND p.id = l.prediction_id
           CROSS JOIN LATERAL jsonb_array_elements(p.suggestions->$2::text->'candidates') c
           CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(c->'features') = 'object' THEN c->'features' ELSE '{}'::jsonb END) f
           LEFT JOIN LATERAL (SELECT f.value AS v WHERE jsonb_typeof(f.value) <> 'array'
                              UNION ALL SELECT x FROM jsonb_array_elements(f.value) x WHERE jsonb_typeof(f.value) = 'array') e ON true
          WHERE sl.span_id = $1 AND jsonb_typeof(p.suggestions->$2::text->'candidates') = 'array')
       SELECT key AS name, ${FITS_SQL} AS fits FROM valued GROUP BY key`,
      [spanId, question],
    );
    return new Map(rows.map((r) => [r.name, r.fits]));
  }

  /** The inputs of every row of a span, a batch at a time (to type its features when the sample's types did not fit a later row). */
  everyInput(client: PoolClient, spanId: string): AsyncGenerator<Array<Record<string, unknown>>> {
    return this.inputs(
      client,
      `SELECT p.input FROM span_labels sl JOIN labels_read l ON l.id = sl.label_id JOIN predictions_read p ON p.project_id = l.project_id AND p.id = l.prediction_id WHERE sl.span_id = $1`,
      [spanId],
    );
  }

  private async *inputs(client: PoolClient, sql: string, values: unknown[], batch = 250): AsyncGenerator<Array<Record<string, unknown>>> {
    const cursor = client.query(new Cursor<{ input: Record<string, unknown> }>(sql, values, { types: EXACT_INPUT }));
    try {
      for (let rows = await cursor.read(batch); rows.length > 0; rows = await cursor.read(batch)) yield rows.map((r) => r.input);
    } finally {
      await cursor.close();
    }
  }

  /**
   * A span's rows in prediction order (the files' order, so a re-run writes the same bytes), a
   * batch at a time, read by COPY: its query may run in parallel (a cursor's never does), which
   * gave a million rows' join and sort their first row in about 2 s instead of 6.
   * (`outputQuestion`: a question whose model output the rows carry, for the list and fine-tuning formats;
   * `withLines`: each row keeps its COPY line, for a worker thread that reads the rows again)
   */
  async *rows(pool: Pool, spanId: string, batch = 1_000, outputQuestion: string | null = null, withLines = false): AsyncGenerator<ExportRow[]> {
    if (!/^\d+$/.test(spanId)) throw new Error(`span id ${spanId} is not a number`);
    const question = outputQuestion === null ? 'NULL::text' : `${escapeLiteral(outputQuestion)}::text`;
    const sql = `${ROWS.replace('$1', spanId).replace(/\$2::text/g, () => question)} ORDER BY l.prediction_id, l.id`;
    for await (const rows of copyRows(pool, sql, ROW_COLUMNS, batch, { workMem: SPAN_ROWS_WORK_MEM, withLines })) yield rows.map(exportRowOf);
  }

  /** Every span of a project with its versions, newest span first. */
  async spans(
    manager: EntityManager,
    projectId: string,
  ): Promise<Array<{ span: number; rows: number; labelFrom: Date | null; labelTo: Date | null; versions: VersionRow[] }>> {
    const rows: Array<{ span: number; rows: number; label_from: Date | null; label_to: Date | null; versions: VersionRow[] }> = await manager.query(
      `SELECT s.span, s.rows, s.label_from, s.label_to,
              coalesce(json_agg(json_build_object('id', v.id::text, 'version', v.version, 'state', v.state, 'rowsWritten', v.rows_written, 'error', v.error,
                                                  'warnings', coalesce(v.manifest->'warnings', '[]'::jsonb),
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
      `SELECT v.id::text AS id, v.version, v.state, v.rows_written AS "rowsWritten", v.error, coalesce(v.manifest->'warnings', '[]'::jsonb) AS warnings,
              coalesce(v.manifest->'files', '[]'::jsonb) AS files,
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
         FROM projects_read p LEFT JOIN export_schedules s ON s.project_id = p.id
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
    await manager.query(`UPDATE export_versions SET state = 'completed', manifest = $2, completed_at = now(), error = NULL WHERE id = $1`, [
      versionId,
      manifest,
    ]);
  }

  async fail(manager: EntityManager, versionId: string, error: string): Promise<void> {
    await manager.query(`UPDATE export_versions SET state = 'failed', error = $2 WHERE id = $1 AND state = 'writing'`, [versionId, error.slice(0, 2000)]);
  }
}

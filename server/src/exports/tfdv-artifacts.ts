import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  DatasetStatisticsBuilder,
  inferTfdvSchema,
  summaryOf,
  validateStatistics,
  withUploadedSettings,
  type DatasetStatisticsLike,
  type FeatureStatistics,
  type DatasetFeatureStatisticsObject,
  type InferredSchema,
  type SchemaLike,
  type StatisticsFeature,
} from '@backflow/drift';
import { encodeAnomalies, encodeStatistics, printSchema, quotedText } from '@backflow/tfmd';
import type { ExportRow, ExportValue, FeatureSpec } from './example-row';
import type { ColumnLayout } from './fixed-columns';
import type { ManifestFile } from './manifest';
import { syncPath } from '../common/storage/local-store';
import { writeSynced } from './span-files';
import { SPLITS } from './span-shards';
import type { Split } from './split';

/*
 * What TFX's StatisticsGen and SchemaGen would make of a span's examples, written beside them:
 * `statistics/Split-<split>/FeatureStats.pb` (a binary DatasetFeatureStatisticsList, as StatisticsGen writes
 * it) and schema.pbtxt (SchemaGen's inference from the train split, the project's uploaded TFDV
 * schema's settings kept). The statistics are of the examples as written: every column and input
 * feature by its exported name; a feature with no values is absent from a tf.Example, so missing.
 */

const STATISTICS_TYPES = { int: 'INT', float: 'FLOAT', bytes: 'STRING' } as const;

export const STATISTICS_FILE = 'FeatureStats.pb';
export const STATISTICS_DIRECTORY = 'statistics';

/** A span's statistics once its rows are all counted: each split's (as StatisticsGen's), and the input features' summary over both. */
export interface SpanStatisticsResult {
  result(split: Split): Omit<DatasetFeatureStatisticsObject, 'approximate'>;
  summary(): FeatureStatistics[];
}

/** Statistics worked out elsewhere (a worker thread), as plain data. */
export class FinishedStatistics implements SpanStatisticsResult {
  constructor(
    private readonly splits: Record<Split, Omit<DatasetFeatureStatisticsObject, 'approximate'>>,
    private readonly inputs: FeatureStatistics[],
  ) {}

  result(split: Split): Omit<DatasetFeatureStatisticsObject, 'approximate'> {
    return this.splits[split];
  }

  summary(): FeatureStatistics[] {
    return this.inputs;
  }
}

/**
 * Per split, the statistics of the examples written to it. With `float32` (the span has TFRecord,
 * whose float_list TFDV reads), a float is counted as the float32 the tf.Example holds, so that the
 * figures are those `tfdv.generate_statistics_from_tfrecord` computes from the files.
 */
export class SplitStatistics implements SpanStatisticsResult {
  private readonly builders: Record<Split, DatasetStatisticsBuilder>;
  private readonly values: Array<ExportValue[] | undefined>;
  /** which of the layout's features are floats to count as float32 */
  private readonly asFloat32: boolean[];

  constructor(
    private readonly columns: ColumnLayout,
    private readonly features: readonly FeatureSpec[],
    { float32 = false }: { float32?: boolean } = {},
  ) {
    const layout: StatisticsFeature[] = [
      ...columns.list.map((c) => ({ name: c.name, type: STATISTICS_TYPES[c.type] })),
      ...features.map((f) => ({ name: columns.exportedName(f.name), type: STATISTICS_TYPES[f.type] })),
    ];
    this.builders = { train: new DatasetStatisticsBuilder(layout), eval: new DatasetStatisticsBuilder(layout) };
    this.values = new Array<ExportValue[] | undefined>(layout.length);
    this.asFloat32 = layout.map((f) => float32 && f.type === 'FLOAT');
  }

  /** One example: its columns' values and its features' (`rowValues`, in the features' order). */
  add(row: ExportRow, split: Split, rowValues: readonly ExportValue[][]): void {
    const columns = this.columns.list;
    let i = 0;
    for (; i < columns.length; i++) {
      const v = columns[i].values(row);
      this.values[i] = v && v.length > 0 ? v : undefined;
    }
    for (let j = 0; j < rowValues.length; j++, i++) this.values[i] = rowValues[j].length > 0 ? rowValues[j] : undefined;
    for (let f = 0; f < this.asFloat32.length; f++) {
      const v = this.values[f];
      if (this.asFloat32[f] && v) this.values[f] = v.map((x) => Math.fround(Number(x)));
    }
    this.builders[split].add(this.values);
  }

  private readonly results: Partial<Record<Split, Omit<DatasetFeatureStatisticsObject, 'approximate'>>> = {};

  /** A split's statistics once its rows are all added (worked out once: the files, the schema and the anomalies read them). */
  result(split: Split): Omit<DatasetFeatureStatisticsObject, 'approximate'> {
    if (!this.results[split]) {
      const { approximate: _approximate, ...dataset } = this.builders[split].result();
      this.results[split] = dataset;
    }
    return this.results[split];
  }

  /** The input features over both splits, in the manifest's summary format (by their own names, not their exported ones). */
  summary(): FeatureStatistics[] {
    return summaryOf([this.builders.train, this.builders.eval], this.columns.list.length).map((f, i) => ({ ...f, name: this.features[i].name }));
  }
}

/**
 * One protobuf file per split under `directory`/`folder` (`<folder>/Split-<split>/<file>`), each
 * synced with its folders; their manifest entries.
 */
async function writeSplitFiles(
  directory: string,
  folder: string,
  file: string,
  format: string,
  contents: (split: Split) => { bytes: Uint8Array; rows: number },
): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const split of SPLITS) {
    const { bytes, rows } = contents(split);
    const relative = `${folder}/Split-${split}/${file}`;
    await fs.mkdir(path.join(directory, folder, `Split-${split}`), { recursive: true });
    await writeSynced(path.join(directory, relative), bytes);
    await syncPath(path.join(directory, folder, `Split-${split}`));
    files.push({ path: relative, format, split, rows, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  await syncPath(path.join(directory, folder));
  return files;
}

/**
 * Writes each split's FeatureStats.pb into `directory`/statistics, laid out as a StatisticsGen
 * artifact (`statistics/Split-<split>/FeatureStats.pb`: TFX's Importer takes the folder as
 * ExampleStatistics), out of the data's split folders so that a pattern such as `Split-train/*`
 * still matches data only (ADR 0038); their manifest entries (format "statistics").
 */
export function writeSplitStatistics(directory: string, statistics: SpanStatisticsResult): Promise<ManifestFile[]> {
  return writeSplitFiles(directory, STATISTICS_DIRECTORY, STATISTICS_FILE, 'statistics', (split) => {
    const dataset = statistics.result(split);
    return { bytes: encodeStatistics({ datasets: [dataset] }), rows: dataset.num_examples ?? 0 };
  });
}

/**
 * The span's schema: SchemaGen's inference from the train split's statistics (the eval split's
 * when train is empty), the columns' own domains (a label index's range) kept, the uploaded
 * schema's settings over both, features in the order the old schema had them (the columns, then
 * the features by name).
 */
export function spanSchema(
  statistics: SpanStatisticsResult,
  columns: ColumnLayout,
  features: readonly FeatureSpec[],
  uploaded: SchemaLike | undefined,
  masked: readonly string[],
): InferredSchema {
  const train = statistics.result('train');
  const inferred = inferTfdvSchema(train.num_examples ? train : statistics.result('eval'));
  const byName = new Map(inferred.feature.map((f) => [f.name, f]));
  for (const column of columns.list) {
    const feature = byName.get(column.name);
    if (!feature || !column.domain) continue;
    // the column's domain is known, not inferred: an index into the question's labels
    delete feature.bool_domain;
    feature.int_domain = { min: column.domain.min, max: Math.max(column.domain.min, column.domain.max), is_categorical: true };
  }
  const order = [...columns.list.map((c) => c.name), ...features.map((f) => columns.exportedName(f.name)).sort((a, b) => a.localeCompare(b))];
  const ordered: InferredSchema = { ...inferred, feature: order.map((name) => byName.get(name)!).filter(Boolean) };
  return withUploadedSettings(ordered, uploaded && withoutMasked(uploaded, masked));
}

/** schema.pbtxt: the schema in text format, with a comment on each float feature float32 changes. */
export function schemaPbtxt(
  schema: InferredSchema,
  columns: ColumnLayout,
  features: readonly FeatureSpec[],
  float32Inexact: ReadonlyMap<string, number>,
): string {
  let text = printSchema(schema);
  for (const f of features) {
    const inexact = float32Inexact.get(f.name) ?? 0;
    if (f.type !== 'float' || inexact === 0) continue;
    const name = columns.exportedName(f.name);
    const opening = `feature {\n  name: ${quotedText(name)}\n`;
    text = text.replace(opening, `# ${inexact} value${inexact === 1 ? '' : 's'} of "${name}" differ in float32 (TFRecord) from the stored double\n${opening}`);
  }
  return `# FLOAT features are float32 in TFRecord (tf.Example's float_list); JSONL, CSV and Parquet (DOUBLE) keep the double. manifest.json counts per feature the values float32 changes (float32Inexact).\n# Inferred as TFX's SchemaGen infers it, from the train split's statistics (statistics/Split-train/FeatureStats.pb).\n${text}`;
}

export const ANOMALIES_DIRECTORY = 'anomalies';
export const ANOMALIES_FILE = 'SchemaDiff.pb';

/**
 * Each split's statistics validated against the span's schema as `tfdv.validate_statistics` does
 * (ExampleValidator's check, and the schema's drift comparators against the previous span's same
 * split when it has statistics), written as a binary Anomalies, ExampleValidator's
 * `Split-<split>/SchemaDiff.pb`, under `anomalies/`; their manifest entries (format "anomalies")
 * and, per split, each feature's anomaly types.
 */
export async function writeSplitAnomalies(
  directory: string,
  statistics: SpanStatisticsResult,
  schema: InferredSchema,
  previous: Partial<Record<Split, DatasetStatisticsLike>>,
): Promise<{ files: ManifestFile[]; summary: Record<Split, Record<string, string[]>> }> {
  const summary = { train: {}, eval: {} } as Record<Split, Record<string, string[]>>;
  const files = await writeSplitFiles(directory, ANOMALIES_DIRECTORY, ANOMALIES_FILE, 'anomalies', (split) => {
    const dataset = statistics.result(split);
    const anomalies = validateStatistics(dataset, schema, { previous: previous[split] });
    for (const [feature, info] of Object.entries(anomalies.anomaly_info)) summary[split][feature] = info.reason.map((r) => r.type);
    return { bytes: encodeAnomalies(anomalies), rows: dataset.num_examples ?? 0 };
  });
  return { files, summary };
}

/**
 * An uploaded schema without the project's masked fields: their exported values are hashed or
 * left out, so their schema is the one inferred from what was written, and a domain of theirs
 * (raw values) never reaches an export.
 */
function withoutMasked(uploaded: SchemaLike, masked: readonly string[]): SchemaLike {
  const hidden = new Set(masked.map((field) => field.split('.')[0]));
  const feature = (uploaded.feature ?? []).filter((f) => !hidden.has(f.name ?? ''));
  const used = new Set(feature.map((f) => f.domain));
  return { ...uploaded, feature, string_domain: (uploaded.string_domain ?? []).filter((d) => d.name !== undefined && used.has(d.name)) };
}

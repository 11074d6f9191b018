import * as path from 'node:path';
import type { DatasetStatisticsLike, SchemaLike } from '@backflow/drift';
import type { Question } from '@backflow/questions';
import { schemaText, valuesOf, ValueTally, type ExportRow, type ExportValue, type FeatureSpec } from './example-row';
import type { ExportColumns } from './fixed-columns';
import { buildManifest, type Manifest, type ManifestFeature, type ManifestHeader, type SpanCounts } from './manifest';
import { maskedPaths, maskInput, type Masking } from './masking';
import type { FineTuning } from './fine-tuning';
import type { RankedLists } from './ranked-lists';
import { syncPath } from '../common/storage/local-store';
import { writeSynced } from './span-files';
import { SPLITS, SpanShards } from './span-shards';
import { spanStatistics, type SpanStatistics } from './span-statistics';
import { splitOf, type Split } from './split';
import { schemaPbtxt, spanSchema, writeSplitAnomalies, writeSplitStatistics, type SpanStatisticsResult } from './tfdv-artifacts';

/** The features a pass writes, where their types came from, and whether a row they do not fit stops it (types inferred from a sample). */
export interface WritePlan {
  features: FeatureSpec[];
  typeFrom: 'declared' | 'inferred';
  stopWhenUnfit: boolean;
  inference?: Manifest['inference'];
}

/** The span a writer writes: its version, settings and label range, the project's columns and how its rows are masked. */
export interface SpanToWrite extends ManifestHeader {
  columns: ExportColumns;
  /** the project's questions and routing question, which the columns are made of (a worker thread makes them again) */
  questions: readonly Question[];
  routingQuestion: string;
  masking: Masking;
  /** a ranking's lists, when a list format is chosen */
  lists?: RankedLists;
  /** a generation's fine-tuning shapes, when one is chosen */
  fineTuning?: FineTuning;
  /** the project's uploaded TFDV schema, whose settings the exported schema keeps */
  uploadedSchema?: SchemaLike;
  /** the previous span's statistics per split (its latest version's), for the schema's drift comparators */
  previousStatistics?: Partial<Record<Split, DatasetStatisticsLike>>;
}

export interface SpanWriteOptions {
  shardRows: number;
  /** the statistics are counted on a worker thread (the rows carry their COPY lines) */
  statisticsOnThread?: boolean;
  /** after each batch of rows, with the rows read so far */
  onBatch?: (rowsRead: number) => Promise<void>;
}

/**
 * Writes a span's rows, in every format and split, with its schema and manifest, into
 * `directory`, every file synced. Undefined when the plan stops at a row its features do not fit.
 */
export async function writeSpan(
  span: SpanToWrite,
  plan: WritePlan,
  batches: AsyncIterable<ExportRow[]>,
  directory: string,
  options: SpanWriteOptions,
): Promise<Manifest | undefined> {
  const shards = new SpanShards(directory, span.settings.formats, plan.features, span.columns, options.shardRows, span.lists, span.fineTuning);
  const statistics = spanStatistics(
    {
      questions: span.questions,
      routingQuestion: span.routingQuestion,
      features: plan.features,
      masking: span.masking,
      trainPercent: span.settings.splits.train,
      float32: span.settings.formats.includes('tfrecord'),
    },
    options.statisticsOnThread ?? false,
  );
  const counts = new SpanTally(plan.features, statistics);
  try {
    await shards.create();
    const rowsRead = await writeRows(span, plan, batches, shards, counts, options);
    if (rowsRead === undefined) {
      await Promise.all([shards.abort(), statistics.abort()]);
      return undefined;
    }
    if (rowsRead !== span.rows) throw new Error(`span ${span.span} has ${span.rows} labels but ${rowsRead} rows were read`);
    // a worker counts its last rows while the shards are closed
    const counted = statistics.finish();
    counted.catch(() => undefined);
    const shardFiles = await shards.finish();
    const splitStatistics = await counted;
    const files = [...shardFiles, ...(await writeSplitStatistics(directory, splitStatistics))];
    const spanCounts = counts.result(plan, span.masking, splitStatistics);
    const float32Inexact = new Map(spanCounts.features.map((f) => [f.name, f.float32Inexact ?? 0]));
    const schema = spanSchema(splitStatistics, span.columns, plan.features, span.uploadedSchema, span.masking.fields);
    await writeSynced(path.join(directory, 'schema.pbtxt'), schemaPbtxt(schema, span.columns, plan.features, float32Inexact));
    const anomalies = await writeSplitAnomalies(directory, splitStatistics, schema, span.previousStatistics ?? {});
    const manifest = buildManifest(span, spanCounts, span.masking, plan.inference, [...files, ...anomalies.files], span.lists?.report(), anomalies.summary);
    // the per-item rows' schema: the context's columns, the item's, the input and item features
    if (span.lists && span.settings.formats.some((f) => f.startsWith('item_')))
      await writeSynced(
        path.join(directory, 'schema_items.pbtxt'),
        schemaText([...plan.features, ...span.lists.itemFeatures], span.lists.items, float32Inexact),
      );
    await writeSynced(path.join(directory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const split of SPLITS) await syncPath(path.join(directory, `Split-${split}`));
    await syncPath(directory);
    return manifest;
  } catch (error) {
    await Promise.all([shards.abort(), statistics.abort()]);
    throw error;
  }
}

/** Every row to its split's shards, masked, counted; the rows read, or undefined at a row the plan's features do not fit. */
async function writeRows(
  span: SpanToWrite,
  plan: WritePlan,
  batches: AsyncIterable<ExportRow[]>,
  shards: SpanShards,
  counts: SpanTally,
  options: SpanWriteOptions,
): Promise<number | undefined> {
  const paths = maskedPaths(span.masking);
  const known = new Set(plan.features.map((f) => f.name));
  const values = counts.values;
  let rowsRead = 0;
  for await (const batch of batches) {
    if (paths.length) for (const row of batch) maskInput(row.input, paths, span.masking);
    for (const row of batch) {
      const rowValues = valuesOf(row, plan.features, values);
      if (plan.stopWhenUnfit && (values.notFittingTotal > 0 || hasFieldBesides(row.input, known))) return undefined;
      const split = splitOf(row.bucket, span.settings.splits.train);
      const written = shards.write(split, row);
      if (written) await written;
      const counted = counts.add(row, split, rowValues);
      if (counted) await counted;
    }
    rowsRead += batch.length;
    await options.onBatch?.(rowsRead);
  }
  return rowsRead;
}

/** Whether an input has a field that is not one of the features (a field first seen past the inference sample). */
function hasFieldBesides(input: Record<string, unknown>, features: ReadonlySet<string>): boolean {
  for (const name in input) if (!features.has(name)) return true;
  return false;
}

/** What a span's rows add up to as they are written: per split, label and source, agreement, and per feature. */
class SpanTally {
  readonly values: ValueTally;
  private readonly splits: Record<Split, number> = { train: 0, eval: 0 };
  private readonly labels: Record<string, number> = {};
  private readonly sources: Record<string, number> = {};
  private agreementSum = 0;
  private agreementCount = 0;
  private agreementMin: number | null = null;

  /** `statistics`: where TFDV's statistics of each split's examples (FeatureStats.pb) and the manifest's summary of the inputs are counted */
  constructor(
    features: readonly FeatureSpec[],
    private readonly statistics: SpanStatistics,
  ) {
    this.values = new ValueTally(features.length);
  }

  /** A promise when the statistics ask to be waited for before the next row. */
  add(row: ExportRow, split: Split, rowValues: ExportValue[][]): Promise<void> | undefined {
    this.splits[split]++;
    this.labels[row.label] = (this.labels[row.label] ?? 0) + 1;
    this.sources[row.source] = (this.sources[row.source] ?? 0) + 1;
    if (row.agreement !== null) {
      this.agreementSum += row.agreement;
      this.agreementCount++;
      this.agreementMin = Math.min(this.agreementMin ?? 1, row.agreement);
    }
    return this.statistics.add(row, split, rowValues);
  }

  result(plan: WritePlan, masking: Masking, statistics: SpanStatisticsResult): SpanCounts {
    const maskedTop = new Set(masking.fields.map((field) => field.split('.')[0]));
    const features: ManifestFeature[] = plan.features.map((f, i) => ({
      name: f.name,
      type: f.type,
      typeFrom: plan.typeFrom,
      ...(maskedTop.has(f.name) && { masked: masking.policy }),
      leftOut: { notFitting: this.values.notFitting[i], nullInList: this.values.nullInList[i] },
      ...(f.type === 'float' && { float32Inexact: this.values.float32Inexact[i] }),
    }));
    return {
      splits: this.splits,
      labels: this.labels,
      sources: this.sources,
      agreement: {
        labelsWithAgreement: this.agreementCount,
        mean: this.agreementCount ? this.agreementSum / this.agreementCount : null,
        min: this.agreementMin,
      },
      features,
      statistics: statistics.summary(),
    };
  }
}

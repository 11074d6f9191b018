import * as fs from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { defaultDataset, type DatasetStatisticsLike } from '@backflow/drift';
import { decodeStatistics } from '@backflow/tfmd';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { PoolClient } from 'pg';
import { DEFAULT_MASKED_FIELD_POLICY, GENERATION_EXPORT_FORMATS, RANKING_EXPORT_FORMATS } from '@backflow/contracts';
import { SUCCESS_MARKER } from '../common/storage/object-store';
import { STORES, type Stores } from '../common/storage/storage.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { poolOf } from '../database/data-source';
import type { ProjectEntity } from '../projects/project.entity';
import { routingQuestion } from '../projects/project-questions';
import { ExportColumns } from './fixed-columns';
import { FeatureInference, type FeatureSpec } from './example-row';
import { ExportsRepository, type VersionToWrite } from './exports.repository';
import { readManifest, type Manifest } from './manifest';
import { maskedFeatures, maskedPaths, maskInput, type Masking } from './masking';
import { fineTuningOf } from './fine-tuning';
import { RankedLists } from './ranked-lists';
import { statisticsOnThread } from './span-statistics';
import { writeSpan, type SpanToWrite, type WritePlan } from './span-writer';
import { SPLITS } from './span-shards';
import type { Split } from './split';
import { STATISTICS_DIRECTORY, STATISTICS_FILE } from './tfdv-artifacts';

// rows per file: a split with more is written in several shards
export const DEFAULT_SHARD_ROWS = 100_000;
// advisory-lock class of a version being written: one writer at a time, freed when its process dies
export const WRITING_LOCK = 0x6266_0010;
// rows read to infer the features when the project does not declare them; a later row that does not fit widens them (and the span is written again)
export const INFERENCE_SAMPLE = 20_000;
// rows handed to the span writer at a time (COPY keeps streaming the next ones meanwhile)
const EXPORT_BATCH_ROWS = 250;
// progress is saved and told at most this often (and at the end)
export const PROGRESS_MS = 500;

export interface ExportedVersion {
  span: number;
  version: number;
  directory: string;
  rows: number;
  manifest: Manifest;
}

export type WriteOptions = { shardRows?: number; onProgress?: (rows: number, total: number) => void };

/** The key of a span's version under the export root: `<project>/span-N/version-M`. */
export const versionKey = (project: ProjectEntity, span: number, version: number) => `${project.slug}/span-${span}/version-${version}`;

/**
 * A version in the export store: written to a local staging directory, fsynced, then published
 * under `<root>/<project>/span-N/version-M` (renamed into place on a directory, uploaded to a
 * bucket) and marked with `_SUCCESS` last, one writer at a time.
 */
@Injectable()
export class VersionWriter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ExportsRepository,
    @Inject(STORES) private readonly stores: Stores,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Writes (or, after a crash, writes again) a version's files. Nothing is visible under the
   * final name until every file is complete and synced; `_SUCCESS` comes last.
   */
  async write(project: ProjectEntity, versionId: string, options: WriteOptions = {}): Promise<ExportedVersion> {
    // one writer per version: a retry that starts while the first try still runs waits for it
    const lock = await poolOf(this.dataSource).connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1, $2::bigint::int)', [WRITING_LOCK, versionId]);
      return await this.writeLocked(project, versionId, options);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1, $2::bigint::int)', [WRITING_LOCK, versionId]).catch(() => undefined);
      lock.release();
    }
  }

  private async writeLocked(project: ProjectEntity, versionId: string, options: WriteOptions): Promise<ExportedVersion> {
    const target = await this.repository.version(this.dataSource.manager, versionId);
    if (!target) throw new Error(`export version ${versionId} is unknown`);
    const store = this.stores.exports;
    const key = versionKey(project, target.span, target.version);
    const success = `${key}/${SUCCESS_MARKER}`;
    const written = (manifest: Manifest) => ({ span: target.span, version: target.version, directory: store.location(key), rows: target.rows, manifest });
    if (await store.exists(success)) {
      const manifest = await readManifest(store, key);
      // complete in the store before its process could record it: recorded now (writing it again could not publish over it)
      if (target.state !== 'completed') await this.repository.complete(this.dataSource.manager, versionId, manifest);
      return written(manifest);
    }
    const temporary = store.stagingDirectory(key);
    try {
      // a crashed run's leftovers: the partial files, or published files without their _SUCCESS
      await fs.rm(temporary, { recursive: true, force: true });
      await store.removePrefix(key);
      const manifest = await this.writeFiles(project, target, temporary, options);
      await store.publish(temporary, key);
      await this.repository.complete(this.dataSource.manager, versionId, manifest);
      return written(manifest);
    } catch (error) {
      // a failed try leaves nothing behind but a complete version whose completion was not recorded (the next try records it)
      await fs.rm(temporary, { recursive: true, force: true }).catch(() => undefined);
      if (!(await store.exists(success).catch(() => true))) await store.removePrefix(key).catch(() => undefined);
      await this.repository.fail(this.dataSource.manager, versionId, error instanceof Error ? error.message : String(error)).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A version's files, schema and manifest in `temporary`. Undeclared features are typed from
   * the span's first rows; a later row they do not fit (a fraction in an int, a new field) stops
   * the write, and the span is written again with the types of every row.
   */
  private async writeFiles(project: ProjectEntity, target: VersionToWrite, temporary: string, options: WriteOptions): Promise<Manifest> {
    const settings = target.settings;
    const masking: Masking = {
      // versions opened before the policy existed had no masked fields recorded: the default changes nothing for them
      policy: settings.maskedFields ?? DEFAULT_MASKED_FIELD_POLICY,
      fields: target.maskedFields,
      key: await this.repository.hashKey(this.dataSource.manager, project.id),
    };
    const span: SpanToWrite = {
      ...target,
      project: project.slug,
      columns: new ExportColumns(project.questions, project.routingQuestion),
      questions: project.questions,
      routingQuestion: project.routingQuestion,
      masking,
      uploadedSchema: await this.repository.uploadedSchema(this.dataSource.manager, project.id),
      previousStatistics: await this.previousStatistics(project, target.span),
      lists: await this.rankedLists(project, target),
      ...(target.settings.formats.some((f) => GENERATION_EXPORT_FORMATS.includes(f)) && {
        fineTuning: fineTuningOf(project.questions, project.routingQuestion),
      }),
    };
    if (settings.features) {
      const declared = maskedFeatures(settings.features, masking);
      return (await this.writePass(span, target, temporary, { features: declared, typeFrom: 'declared', stopWhenUnfit: false }, options))!;
    }
    const sampled = maskedFeatures(await this.typeSample(target), masking);
    const inference = { sampleRows: Math.min(INFERENCE_SAMPLE, target.rows), widenedPastSample: [] };
    const written = await this.writePass(span, target, temporary, { features: sampled, typeFrom: 'inferred', stopWhenUnfit: true, inference }, options);
    if (written) return written;
    await fs.rm(temporary, { recursive: true, force: true });
    const every = await this.typeEveryRow(target, masking);
    const before = new Map(sampled.map((f) => [f.name, f.type]));
    const widenedPastSample = every.filter((f) => before.get(f.name) !== f.type).map((f) => f.name);
    const plan: WritePlan = { features: every, typeFrom: 'inferred', stopWhenUnfit: false, inference: { ...inference, widenedPastSample } };
    return (await this.writePass(span, target, temporary, plan, options))!;
  }

  /**
   * The previous span's statistics per split, from its latest complete version (none for the
   * first span, or a span written before spans had statistics): the schema's drift comparators
   * compare each split with them, as `tfdv.validate_statistics(previous_statistics=…)` does.
   */
  private async previousStatistics(project: ProjectEntity, span: number): Promise<Partial<Record<Split, DatasetStatisticsLike>>> {
    if (span <= 1) return {};
    const spans = await this.repository.spans(this.dataSource.manager, project.id);
    const latest = spans
      .find((s) => s.span === span - 1)
      ?.versions.filter((v) => v.state === 'completed')
      .sort((a, b) => b.version - a.version)[0];
    if (!latest) return {};
    const found: Partial<Record<Split, DatasetStatisticsLike>> = {};
    for (const split of SPLITS) {
      const stored = await this.stores.exports.read(
        `${versionKey(project, span - 1, latest.version)}/${STATISTICS_DIRECTORY}/Split-${split}/${STATISTICS_FILE}`,
      );
      if (!stored) continue;
      const datasets = decodeStatistics(await buffer(stored.body)).statistics.datasets as DatasetStatisticsLike[] | undefined;
      const dataset = defaultDataset(datasets ?? []);
      if (dataset) found[split] = dataset;
    }
    return found;
  }

  /** A ranking's lists when the version writes a list format: its item features typed by every candidate of the span. */
  private async rankedLists(project: ProjectEntity, target: VersionToWrite): Promise<RankedLists | undefined> {
    const question = routingQuestion(project);
    if (question.kind !== 'ranking' || !target.settings.formats.some((f) => RANKING_EXPORT_FORMATS.includes(f))) return undefined;
    const fits = await this.repository.itemFeatureFits(this.dataSource.manager, target.spanId, question.name);
    return new RankedLists(question, project.questions, project.routingQuestion, fits, target.examination);
  }

  /** The features of a span's first `INFERENCE_SAMPLE` rows (by label id), each typed by every one of their values, before masking. */
  private async typeSample(target: VersionToWrite): Promise<FeatureSpec[]> {
    return this.typeInputs((client) => this.repository.sampleInputs(client, target.spanId, INFERENCE_SAMPLE));
  }

  /** The features of every row of a span as masked, each typed by every one of its values (when the sample's types did not fit a later row). */
  private async typeEveryRow(target: VersionToWrite, masking: Masking): Promise<FeatureSpec[]> {
    const paths = maskedPaths(masking);
    return this.typeInputs(
      (client) => this.repository.everyInput(client, target.spanId),
      paths.length ? (input) => maskInput(input, paths, masking) : undefined,
    );
  }

  private async typeInputs(
    read: (client: PoolClient) => AsyncGenerator<Array<Record<string, unknown>>>,
    mask?: (input: Record<string, unknown>) => void,
  ): Promise<FeatureSpec[]> {
    const inference = new FeatureInference();
    const client = await poolOf(this.dataSource).connect();
    try {
      for await (const inputs of read(client)) {
        for (const input of inputs) {
          mask?.(input);
          inference.add(input);
        }
      }
    } finally {
      client.release();
    }
    return inference.features();
  }

  /** Writes the span's rows with the plan's features, saving the job's progress as it goes; undefined when it stopped at a row they do not fit. */
  private async writePass(span: SpanToWrite, target: VersionToWrite, temporary: string, plan: WritePlan, options: WriteOptions): Promise<Manifest | undefined> {
    let progressSavedAt = 0;
    const onThread = statisticsOnThread(this.config.exportStatisticsThread, target.rows);
    const rows = this.repository.rows(
      poolOf(this.dataSource),
      target.spanId,
      EXPORT_BATCH_ROWS,
      span.lists?.question.name ?? span.fineTuning?.generation.name ?? null,
      onThread,
    );
    // counted from the first row on every pass
    return await writeSpan({ ...span, lists: span.lists?.fresh() }, plan, rows, temporary, {
      shardRows: options.shardRows ?? DEFAULT_SHARD_ROWS,
      statisticsOnThread: onThread,
      onBatch: async (rowsRead) => {
        options.onProgress?.(rowsRead, target.rows);
        // the job's progress in the database, at most twice a second
        if (Date.now() - progressSavedAt >= PROGRESS_MS || rowsRead === target.rows) {
          progressSavedAt = Date.now();
          await this.repository.progress(this.dataSource.manager, target.versionId, rowsRead);
        }
      },
    });
  }
}

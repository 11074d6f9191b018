import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import {
  DEFAULT_MASKED_FIELD_POLICY,
  type ExportJob,
  type ExportSettings,
  type ExportStarted,
  type MaskedFieldPolicy,
  type SpanList,
} from '@backflow/contracts';
import { type FeatureStatistics, StatisticsAccumulator } from '@backflow/drift';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainEvents } from '../common/events/domain-events';
import { JobsService } from '../common/jobs/jobs.service';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logging/logger';
import { poolOf } from '../database/data-source';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { ExportErrors } from './exports.errors';
import { FeatureInference, schemaText, typedFeatures, valuesOf, ValueTally, type ExportValue, type FeatureSpec } from './example-row';
import { ExportsRepository, type VersionRow, type VersionToWrite } from './exports.repository';
import { HASH_DESCRIPTION, maskedFeatures, maskedPaths, maskInput, type Masking } from './masking';
import { openFormatWriter, syncPath, writeSynced, type FormatWriter } from './span-files';
import { CronExpressionParser } from 'cron-parser';
import { splitOf, type Split } from './split';
import { deliver } from '../common/webhook/webhook';

// rows per file: a split with more is written in several shards
export const DEFAULT_SHARD_ROWS = 100_000;
const WRITE_JOB = 'export-write';
const WEBHOOK_JOB = 'export-webhook';
// advisory-lock class of a version being written: one writer at a time, freed when its process dies
const WRITING_LOCK = 0x6266_0010;
// without a job queue (CLI, tests), a webhook is tried this many times in the background, backing off
const INLINE_WEBHOOK_DELAYS_MS = [0, 500, 2_000, 5_000];
// progress is told at most this often (and at the end)
const PROGRESS_MS = 500;
const SPLITS: Split[] = ['train', 'eval'];
// rows read to infer the features when the project does not declare them; a later row that does not fit widens them (and the span is written again)
export const INFERENCE_SAMPLE = 20_000;

export interface ExportedVersion {
  span: number;
  version: number;
  directory: string;
  rows: number;
  manifest: Manifest;
}

export interface Manifest {
  project: string;
  span: number;
  version: number;
  formats: string[];
  rows: number;
  splits: Record<Split, number>;
  labels: Record<string, number>;
  sources: Record<string, number>;
  agreement: { labelsWithAgreement: number; mean: number | null; min: number | null };
  labelTimeRange: { from: string | null; to: string | null };
  features: ManifestFeature[];
  /** how the types were found when the project declares none: from the first rows, widened by any later row they did not fit */
  inference?: { sampleRows: number; widenedPastSample: string[] };
  /** what this version did with the project's masked fields, and the default policy */
  maskedFields: { policy: MaskedFieldPolicy; default: MaskedFieldPolicy; fields: string[]; hash?: string };
  /** stored values not written as they are (also counted per feature); the admin sees them in the export's job */
  warnings: string[];
  /** per exported feature: presence, numeric moments or categorical frequencies (TFDV's statistics, in JSON) */
  statistics: FeatureStatistics[];
  settings: ExportSettings;
  files: Array<{ path: string; format: string; split: Split; rows: number; bytes: number; sha256: string }>;
}

export interface ManifestFeature extends FeatureSpec {
  /** declared in the project's export settings, or inferred from every value of the span */
  typeFrom: 'declared' | 'inferred';
  /** the feature is, or holds, a masked field: what was done with it */
  masked?: MaskedFieldPolicy;
  /** values not written: not of the declared type exactly (never rounded), or a null inside a list */
  leftOut: { notFitting: number; nullInList: number };
  /** a float feature's values whose float32 (TFRecord's float_list) differs from the stored double; JSONL, CSV and Parquet keep the double */
  float32Inexact?: number;
}

type WriteOptions = { shardRows?: number; onProgress?: (rows: number, total: number) => void };

/** The features a pass writes, where their types came from, and whether a row they do not fit stops it (types inferred from a sample). */
interface WritePlan {
  features: FeatureSpec[];
  typeFrom: 'declared' | 'inferred';
  stopWhenUnfit: boolean;
  inference?: Manifest['inference'];
}

// rows fetched from the cursor at a time (one more batch is fetched while one is written)
const EXPORT_BATCH_ROWS = 250;

/**
 * Exports: a span claims the labels not yet exported (exactly once), and each version of it is
 * written to a temporary directory, fsynced, renamed into `<root>/<project>/span-N/version-M`
 * and marked with `_SUCCESS` last. The same span and settings always give the same bytes.
 */
@Injectable()
export class ExportsService implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ExportsRepository,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
    private readonly events: DomainEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // every minute, one worker starts the exports whose schedule ticked since the last minute
    this.jobs.schedule('export-schedule', '* * * * *', () => this.runSchedules(new Date()));
    // a crashed or abandoned try is retried by pg-boss; writing again gives the same bytes
    this.jobs.handle<{ projectId: string; versionId: string }>(WRITE_JOB, async ({ projectId, versionId }) => {
      const project = await this.projects.findById(projectId);
      if (!project) return;
      await this.writeWithProgress(project, versionId);
    });
    // pg-boss retries a refused delivery with backoff
    this.jobs.handle<{ projectId: string; versionId: string }>(
      WEBHOOK_JOB,
      async ({ projectId, versionId }) => {
        const project = await this.projects.findById(projectId);
        if (project) await this.deliverWebhook(project, versionId);
      },
      { retryLimit: 8, expireInSeconds: 60 },
    );
  }

  /**
   * Starts the exports whose cron schedule ticked since it last did. A schedule seen for the
   * first time only records its latest tick: it exports from the next one.
   */
  async runSchedules(now: Date): Promise<string[]> {
    const started: string[] = [];
    for (const entry of await this.repository.schedules(this.dataSource.manager)) {
      let tick: Date;
      try {
        tick = CronExpressionParser.parse(entry.schedule, { currentDate: now, tz: 'UTC' }).prev().toDate();
      } catch (error) {
        this.logger.warn({ err: error, projectId: entry.projectId }, 'an export schedule cannot be read');
        continue;
      }
      const first = entry.lastFiredAt === null;
      if (!first && tick <= entry.lastFiredAt!) continue;
      if (!(await this.repository.advanceSchedule(this.dataSource.manager, entry.projectId, tick)) || first) continue;
      const project = await this.projects.findById(entry.projectId);
      if (!project) continue;
      const { job } = await this.start(project, {});
      if (job) started.push(job.job);
    }
    return started;
  }

  /** After a restart: versions left half-written by a process that died go back on the queue (a live writer holds their lock). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.jobs.enabled) return;
    const orphans = await this.repository.orphanedVersions(this.dataSource.manager, WRITING_LOCK);
    for (const orphan of orphans) {
      this.logger.info({ versionId: orphan.versionId }, 'resuming an export left unfinished');
      await this.jobs.send(WRITE_JOB, orphan);
    }
  }

  /**
   * Tells the project's webhook that a version is complete: on the job queue, or, without one,
   * tried a few times here (awaited when `wait`, as the CLI does before it exits).
   */
  private async announce(project: ProjectEntity, versionId: string, wait = false): Promise<void> {
    if (!project.exportSettings.webhook) return;
    if (await this.jobs.send(WEBHOOK_JOB, { projectId: project.id, versionId })) return;
    const attempts = (async () => {
      for (const delay of INLINE_WEBHOOK_DELAYS_MS) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        try {
          return await this.deliverWebhook(project, versionId);
        } catch (error) {
          this.logger.warn({ err: error, versionId }, 'a span webhook was not delivered');
        }
      }
    })();
    if (wait) await attempts;
  }

  private async deliverWebhook(project: ProjectEntity, versionId: string): Promise<void> {
    const webhook = project.exportSettings.webhook;
    const target = await this.repository.version(this.dataSource.manager, versionId);
    if (!webhook || !target || target.state !== 'completed') return;
    const manifest = JSON.parse(await fs.readFile(path.join(this.directoryOf(project, target.span, target.version), 'manifest.json'), 'utf8')) as Manifest;
    const body = JSON.stringify({
      event: 'span.complete',
      project: project.slug,
      span: target.span,
      version: target.version,
      directory: `span-${target.span}/version-${target.version}`,
      manifest,
    });
    await deliver(webhook.url, webhook.secret, 'span.complete', versionId, body);
  }

  /**
   * Starts an export: claims the next span (or a new version of `span`) now, and writes it on
   * the job queue (in this process when it has none). Null when no label waits.
   */
  async start(project: ProjectEntity, request: { span?: number }): Promise<ExportStarted> {
    const versionId = await this.openVersion(project, request);
    if (!versionId) return { job: null };
    const queued = await this.jobs.send(WRITE_JOB, { projectId: project.id, versionId });
    if (!queued) {
      const id = versionId;
      void this.writeWithProgress(project, id).catch((error: unknown) => this.logger.error({ err: error, versionId: id }, 'an export failed'));
    }
    return { job: (await this.job(project, versionId))! };
  }

  /**
   * Exports now and waits (the CLI, tests): the next span, or a new version of `span`, and its
   * webhook tried. Undefined when no label waits.
   */
  async run(
    project: ProjectEntity,
    request: { span?: number },
    options: { shardRows?: number; onProgress?: (rows: number, total: number) => void } = {},
  ): Promise<ExportedVersion | undefined> {
    const versionId = await this.openVersion(project, request);
    if (!versionId) return undefined;
    const written = await this.writeVersion(project, versionId, options);
    await this.announce(project, versionId, true);
    return written;
  }

  /** The version to write: a new version of `span`, or the next span with every label not yet exported (undefined when none waits). */
  private async openVersion(project: ProjectEntity, request: { span?: number }): Promise<string | undefined> {
    if (request.span === undefined) {
      return (await this.dataSource.transaction((manager) => this.repository.claimSpan(manager, project.id, project.exportSettings, project.maskedFields)))
        ?.versionId;
    }
    const versionId = await this.dataSource.transaction((manager) =>
      this.repository.newVersion(manager, project.id, request.span!, project.exportSettings, project.maskedFields),
    );
    if (!versionId) throw ExportErrors.spanNotFound(request.span);
    return versionId;
  }

  async job(project: ProjectEntity, jobId: string): Promise<ExportJob | undefined> {
    const row = await this.repository.job(this.dataSource.manager, project.id, jobId);
    return row && this.toJob(row.span, row.rows, row);
  }

  async spans(project: ProjectEntity): Promise<SpanList> {
    const spans = await this.repository.spans(this.dataSource.manager, project.id);
    return {
      spans: spans.map((s) => ({
        span: s.span,
        rows: s.rows,
        labelFrom: s.labelFrom?.toISOString() ?? null,
        labelTo: s.labelTo?.toISOString() ?? null,
        versions: s.versions.map((v) => this.toJob(s.span, s.rows, v)),
      })),
    };
  }

  /** A complete version's file, if `relative` names one of them (or its schema, manifest or _SUCCESS). */
  async file(project: ProjectEntity, span: number, version: number, relative: string): Promise<string | undefined> {
    const spans = await this.repository.spans(this.dataSource.manager, project.id);
    const found = spans.find((s) => s.span === span)?.versions.find((v) => v.version === version && v.state === 'completed');
    if (!found) return undefined;
    const names = new Set([...found.files.map((f) => f.path), 'schema.pbtxt', 'manifest.json', '_SUCCESS']);
    return names.has(relative) ? path.join(this.directoryOf(project, span, version), relative) : undefined;
  }

  private toJob(span: number, rows: number, v: VersionRow): ExportJob {
    const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
    return {
      id: v.id,
      job: v.id,
      span,
      version: v.version,
      state: v.state,
      rows,
      rowsWritten: v.rowsWritten,
      error: v.error,
      warnings: v.state === 'completed' ? (v.warnings ?? []) : [],
      directory: `span-${span}/version-${v.version}`,
      files: v.state === 'completed' ? v.files : [],
      createdAt: iso(v.createdAt)!,
      completedAt: iso(v.completedAt),
    };
  }

  /** Writes a version and tells admins how far it got, as it goes and at the end. */
  private async writeWithProgress(project: ProjectEntity, versionId: string): Promise<ExportedVersion> {
    const target = await this.repository.version(this.dataSource.manager, versionId);
    if (!target) throw new Error(`export version ${versionId} is unknown`);
    const tell = (rowsWritten: number, state: 'writing' | 'completed' | 'failed') =>
      this.events.emit('export.progress', {
        projectId: project.id,
        project: project.slug,
        job: versionId,
        span: target.span,
        version: target.version,
        rowsWritten,
        rows: target.rows,
        state,
      });
    let last = 0;
    try {
      const written = await this.writeVersion(project, versionId, {
        onProgress: (rows) => {
          if (Date.now() - last < PROGRESS_MS) return;
          last = Date.now();
          tell(rows, 'writing');
        },
      });
      tell(written.rows, 'completed');
      await this.announce(project, versionId);
      return written;
    } catch (error) {
      tell(0, 'failed');
      throw error;
    }
  }

  /** Claims the next span and writes its first version; undefined when no label waits. */
  exportNext(
    project: ProjectEntity,
    options: { shardRows?: number; onProgress?: (rows: number, total: number) => void } = {},
  ): Promise<ExportedVersion | undefined> {
    return this.run(project, {}, options);
  }

  /** The directory of a span's version. */
  directoryOf(project: ProjectEntity, span: number, version: number): string {
    return path.join(this.config.exportRoot, project.slug, `span-${span}`, `version-${version}`);
  }

  /**
   * Writes (or, after a crash, writes again) a version's files. Nothing is visible under the
   * final name until every file is complete and synced; `_SUCCESS` comes last.
   */
  async writeVersion(
    project: ProjectEntity,
    versionId: string,
    options: { shardRows?: number; onProgress?: (rows: number, total: number) => void } = {},
  ): Promise<ExportedVersion> {
    // one writer per version: a retry that starts while the first try still runs waits for it
    const lock = await poolOf(this.dataSource).connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1, $2::bigint::int)', [WRITING_LOCK, versionId]);
      return await this.writeVersionLocked(project, versionId, options);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1, $2::bigint::int)', [WRITING_LOCK, versionId]).catch(() => undefined);
      lock.release();
    }
  }

  private async writeVersionLocked(project: ProjectEntity, versionId: string, options: WriteOptions): Promise<ExportedVersion> {
    const target = await this.repository.version(this.dataSource.manager, versionId);
    if (!target) throw new Error(`export version ${versionId} is unknown`);
    const directory = this.directoryOf(project, target.span, target.version);
    const success = path.join(directory, '_SUCCESS');
    const exists = (file: string) =>
      fs.stat(file).then(
        () => true,
        () => false,
      );
    if (await exists(success)) {
      const manifest = JSON.parse(await fs.readFile(path.join(directory, 'manifest.json'), 'utf8')) as Manifest;
      // complete on disk before its process could record it: recorded now (writing it again could not rename over it)
      if (target.state !== 'completed') await this.repository.complete(this.dataSource.manager, versionId, manifest);
      return { span: target.span, version: target.version, directory, rows: target.rows, manifest };
    }
    const temporary = path.join(this.config.exportRoot, project.slug, `.writing-span-${target.span}-version-${target.version}`);
    try {
      // a crashed run's leftovers: the partial files, or a renamed directory without its _SUCCESS
      await fs.rm(temporary, { recursive: true, force: true });
      await fs.rm(directory, { recursive: true, force: true });
      const manifest = await this.writeFiles(project, target, temporary, options);
      await fs.mkdir(path.dirname(directory), { recursive: true });
      await fs.rename(temporary, directory);
      await syncPath(path.dirname(directory));
      const handle = await fs.open(success, 'wx');
      await handle.sync();
      await handle.close();
      await syncPath(directory);
      await this.repository.complete(this.dataSource.manager, versionId, manifest);
      return { span: target.span, version: target.version, directory, rows: target.rows, manifest };
    } catch (error) {
      // a failed try leaves nothing behind but a complete version whose completion was not recorded (the next try records it)
      await fs.rm(temporary, { recursive: true, force: true }).catch(() => undefined);
      if (!(await exists(success))) await fs.rm(directory, { recursive: true, force: true }).catch(() => undefined);
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
    if (settings.features) {
      return (await this.writePass(
        project,
        target,
        temporary,
        masking,
        { features: maskedFeatures(settings.features, masking), typeFrom: 'declared', stopWhenUnfit: false },
        options,
      ))!;
    }
    const sampled = maskedFeatures(typedFeatures(await this.repository.sampleFits(this.dataSource.manager, target.spanId, INFERENCE_SAMPLE)), masking);
    const inference = { sampleRows: Math.min(INFERENCE_SAMPLE, target.rows), widenedPastSample: [] };
    const written = await this.writePass(
      project,
      target,
      temporary,
      masking,
      { features: sampled, typeFrom: 'inferred', stopWhenUnfit: true, inference },
      options,
    );
    if (written) return written;
    await fs.rm(temporary, { recursive: true, force: true });
    const every = await this.typeEveryRow(target, masking);
    const before = new Map(sampled.map((f) => [f.name, f.type]));
    const widenedPastSample = every.filter((f) => before.get(f.name) !== f.type).map((f) => f.name);
    return (await this.writePass(
      project,
      target,
      temporary,
      masking,
      { features: every, typeFrom: 'inferred', stopWhenUnfit: false, inference: { ...inference, widenedPastSample } },
      options,
    ))!;
  }

  /** The features of every row of a span as masked, each typed by every one of its values (when the sample's types did not fit a later row). */
  private async typeEveryRow(target: VersionToWrite, masking: Masking): Promise<FeatureSpec[]> {
    const paths = maskedPaths(masking);
    const inference = new FeatureInference();
    const client = await poolOf(this.dataSource).connect();
    try {
      for await (const inputs of this.repository.inputs(client, target.spanId)) {
        for (const input of inputs) {
          if (paths.length) maskInput(input, paths, masking);
          inference.add(input);
        }
      }
    } finally {
      client.release();
    }
    return inference.features();
  }

  /** Writes the version with the plan's features; undefined when it stopped at a row they do not fit. */
  private async writePass(
    project: ProjectEntity,
    target: VersionToWrite,
    temporary: string,
    masking: Masking,
    plan: WritePlan,
    options: WriteOptions,
  ): Promise<Manifest | undefined> {
    const settings = target.settings;
    const features = plan.features;
    const shardRows = options.shardRows ?? DEFAULT_SHARD_ROWS;
    const labels = project.labels.map((l) => l.name);
    const paths = maskedPaths(masking);
    // rows per split, counted as they are written (a shard's name gets the split's shard count at the end)
    const counts: Record<Split, number> = { train: 0, eval: 0 };

    await fs.mkdir(temporary, { recursive: true });
    for (const split of SPLITS) await fs.mkdir(path.join(temporary, `Split-${split}`));
    const written: Manifest['files'] = [];
    const tally = {
      labels: {} as Record<string, number>,
      sources: {} as Record<string, number>,
      agreementSum: 0,
      agreementCount: 0,
      agreementMin: null as number | null,
    };

    // one open writer per format and split; a shard closes when it holds shardRows rows
    const open = new Map<string, { writer: FormatWriter; rows: number; shard: number }>();
    const closeWriter = async (entry: { writer: FormatWriter }) => {
      const file = await entry.writer.close();
      written.push({
        path: path.relative(temporary, file.path),
        format: entry.writer.format,
        split: entry.writer.split,
        rows: file.records,
        bytes: file.bytes,
        sha256: file.sha256,
      });
    };
    const abortWriters = async () => {
      for (const entry of open.values()) await entry.writer.abort().catch(() => undefined);
      open.clear();
    };

    const client = await poolOf(this.dataSource).connect();
    let rowsRead = 0;
    let progressSavedAt = 0;
    try {
      const known = new Set(features.map((f) => f.name));
      const values = new ValueTally(features.length);
      const statistics = new StatisticsAccumulator(features.map((f) => ({ name: f.name, kind: f.type === 'bytes' ? 'categorical' : 'numeric' })));

      // small batches die young: at 5,000 rows a batch outlived scavenges and the old generation
      // grew to 1.4× the 100k-row peak at 1M rows; at 500, 1.06–1.18× and 25–26 s instead of 31 s; at 200, 1.03× (measured)
      for await (const batch of this.repository.rows(client, target.spanId, EXPORT_BATCH_ROWS)) {
        if (paths.length) for (const row of batch) maskInput(row.input, paths, masking);
        for (const row of batch) {
          const rowValues = valuesOf(row, features, values);
          if (plan.stopWhenUnfit && (values.notFittingTotal > 0 || hasFieldBesides(row.input, known))) {
            await abortWriters();
            return undefined;
          }
          const split = splitOf(row.bucket, settings.splits.train);
          counts[split]++;
          for (const format of settings.formats) {
            const key = `${format}/${split}`;
            let entry = open.get(key);
            if (entry && entry.rows >= shardRows) {
              await closeWriter(entry);
              entry = {
                writer: openFormatWriter(format, split, path.join(temporary, `Split-${split}`), entry.shard + 1, features, labels),
                rows: 0,
                shard: entry.shard + 1,
              };
              open.set(key, entry);
            }
            if (!entry) {
              entry = { writer: openFormatWriter(format, split, path.join(temporary, `Split-${split}`), 0, features, labels), rows: 0, shard: 0 };
              open.set(key, entry);
            }
            await entry.writer.write(row);
            entry.rows++;
          }
          statistics.add(values.rowHasBigInt ? rowValues.map((list) => list.map(statisticValue)) : (rowValues as Array<Array<number | string>>));
          tally.labels[row.label] = (tally.labels[row.label] ?? 0) + 1;
          tally.sources[row.source] = (tally.sources[row.source] ?? 0) + 1;
          if (row.agreement !== null) {
            tally.agreementSum += row.agreement;
            tally.agreementCount++;
            tally.agreementMin = Math.min(tally.agreementMin ?? 1, row.agreement);
          }
        }
        rowsRead += batch.length;
        options.onProgress?.(rowsRead, target.rows);
        // the job's progress in the database, at most twice a second
        if (Date.now() - progressSavedAt >= PROGRESS_MS || rowsRead === target.rows) {
          progressSavedAt = Date.now();
          await this.repository.progress(this.dataSource.manager, target.versionId, rowsRead);
        }
      }
      if (rowsRead !== target.rows) throw new Error(`span ${target.span} has ${target.rows} labels but ${rowsRead} rows were read`);
      for (const [key, entry] of open) {
        open.delete(key);
        await closeWriter(entry);
      }
      // a split with no rows still gets its (empty) file, so ExampleGen's patterns always match
      for (const format of settings.formats) {
        for (const split of SPLITS) {
          if (!written.some((f) => f.format === format && f.split === split))
            await closeWriter({ writer: openFormatWriter(format, split, path.join(temporary, `Split-${split}`), 0, features, labels) });
        }
      }
      // each shard's final name: -of-<the split's shard count>
      for (const format of settings.formats) {
        for (const split of SPLITS) {
          const files = written.filter((f) => f.format === format && f.split === split).sort((a, b) => a.path.localeCompare(b.path));
          for (const file of files) {
            const renamed = file.path.replace(/-of-00000(\.[a-z.]+)$/, `-of-${String(files.length).padStart(5, '0')}$1`);
            await fs.rename(path.join(temporary, file.path), path.join(temporary, renamed));
            file.path = renamed;
          }
        }
      }

      const maskedTop = new Set(masking.fields.map((field) => field.split('.')[0]));
      const manifestFeatures: ManifestFeature[] = features.map((f, i) => ({
        name: f.name,
        type: f.type,
        typeFrom: plan.typeFrom,
        ...(maskedTop.has(f.name) && { masked: masking.policy }),
        leftOut: { notFitting: values.notFitting[i], nullInList: values.nullInList[i] },
        ...(f.type === 'float' && { float32Inexact: values.float32Inexact[i] }),
      }));
      written.sort((a, b) => a.path.localeCompare(b.path));
      const manifest: Manifest = {
        project: project.slug,
        span: target.span,
        version: target.version,
        formats: settings.formats,
        rows: target.rows,
        splits: counts,
        labels: Object.fromEntries(Object.entries(tally.labels).sort(([a], [b]) => a.localeCompare(b))),
        sources: Object.fromEntries(Object.entries(tally.sources).sort(([a], [b]) => a.localeCompare(b))),
        agreement: {
          labelsWithAgreement: tally.agreementCount,
          mean: tally.agreementCount ? tally.agreementSum / tally.agreementCount : null,
          min: tally.agreementMin,
        },
        labelTimeRange: { from: target.labelFrom?.toISOString() ?? null, to: target.labelTo?.toISOString() ?? null },
        features: manifestFeatures,
        ...(plan.inference && { inference: plan.inference }),
        maskedFields: {
          policy: masking.policy,
          default: DEFAULT_MASKED_FIELD_POLICY,
          fields: [...masking.fields],
          ...(masking.policy === 'hash' && { hash: HASH_DESCRIPTION }),
        },
        warnings: manifestFeatures.flatMap(warningsOf),
        statistics: statistics.result(),
        settings,
        files: written,
      };
      const float32Inexact = new Map(manifestFeatures.map((f) => [f.name, f.float32Inexact ?? 0]));
      await writeSynced(path.join(temporary, 'schema.pbtxt'), schemaText(features, labels, float32Inexact));
      await writeSynced(path.join(temporary, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      for (const split of SPLITS) await syncPath(path.join(temporary, `Split-${split}`));
      await syncPath(temporary);
      return manifest;
    } catch (error) {
      await abortWriters();
      throw error;
    } finally {
      client.release();
    }
  }
}

/** Whether an input has a field that is not one of the features (a field first seen past the inference sample). */
function hasFieldBesides(input: Record<string, unknown>, features: ReadonlySet<string>): boolean {
  for (const name in input) if (!features.has(name)) return true;
  return false;
}

const statisticValue = (value: ExportValue): number | string => (typeof value === 'bigint' ? Number(value) : value);

/** What the admin is told of a feature's values left out. */
function warningsOf(feature: ManifestFeature): string[] {
  const warnings: string[] = [];
  const { notFitting, nullInList } = feature.leftOut;
  const a = { int: 'an int', float: 'a float', bytes: 'bytes' }[feature.type];
  if (notFitting)
    warnings.push(`feature "${feature.name}": ${notFitting} value${notFitting === 1 ? '' : 's'} left out, not ${a} exactly (its ${feature.typeFrom} type)`);
  if (nullInList)
    warnings.push(`feature "${feature.name}": ${nullInList} null${nullInList === 1 ? '' : 's'} inside a list left out (a tf.Example list holds none)`);
  return warnings;
}

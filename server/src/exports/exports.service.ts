import type { Readable } from 'node:stream';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CronExpressionParser } from 'cron-parser';
import type { ExportJob, ExportStarted, SpanList } from '@backflow/contracts';
import { DomainEvents } from '../common/events/domain-events';
import { JobsService } from '../common/jobs/jobs.service';
import { LOGGER } from '../common/logging/logger';
import { SUCCESS_MARKER } from '../common/storage/object-store';
import { STORES, type Stores } from '../common/storage/storage.module';
import type { ProjectEntity } from '../projects/project.entity';
import { routingQuestion } from '../projects/project-questions';
import { ProjectsService } from '../projects/projects.service';
import { ExportErrors } from './exports.errors';
import { ExportsRepository, type VersionRow } from './exports.repository';
import { SpanWebhooks } from './span-webhooks';
import { PROGRESS_MS, versionKey, VersionWriter, WRITING_LOCK, type ExportedVersion, type WriteOptions } from './version-writer';

const WRITE_JOB = 'export-write';

/**
 * Exports: a span claims the labels not yet exported (exactly once), and each version of it is
 * written on the job queue (`VersionWriter`), on demand or on the project's cron schedule, and
 * announced to the project's webhook. The same span and settings always give the same bytes.
 */
@Injectable()
export class ExportsService implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ExportsRepository,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
    private readonly events: DomainEvents,
    private readonly writer: VersionWriter,
    private readonly webhooks: SpanWebhooks,
    @Inject(STORES) private readonly stores: Stores,
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
      if (job) started.push(job.id);
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
  async run(project: ProjectEntity, request: { span?: number }, options: WriteOptions = {}): Promise<ExportedVersion | undefined> {
    const versionId = await this.openVersion(project, request);
    if (!versionId) return undefined;
    const written = await this.writer.write(project, versionId, options);
    await this.webhooks.announce(project, versionId, true);
    return written;
  }

  /** The version to write: a new version of `span`, or the next span with every label not yet exported (undefined when none waits). */
  private async openVersion(project: ProjectEntity, request: { span?: number }): Promise<string | undefined> {
    // a ranking's version records the examination estimate its clicks are weighted by
    const rankingQuestion = routingQuestion(project).kind === 'ranking' ? project.routingQuestion : null;
    if (request.span === undefined) {
      return (
        await this.dataSource.transaction((manager) =>
          this.repository.claimSpan(manager, project.id, project.exportSettings, project.maskedFields, rankingQuestion),
        )
      )?.versionId;
    }
    const versionId = await this.dataSource.transaction((manager) =>
      this.repository.newVersion(manager, project.id, request.span!, project.exportSettings, project.maskedFields, rankingQuestion),
    );
    if (!versionId) throw ExportErrors.spanNotFound(request.span);
    return versionId;
  }

  async job(project: ProjectEntity, jobId: string): Promise<ExportJob | undefined> {
    const row = await this.repository.job(this.dataSource.manager, project.id, jobId);
    return row && this.toJob(project, row.span, row.rows, row);
  }

  async spans(project: ProjectEntity): Promise<SpanList> {
    const spans = await this.repository.spans(this.dataSource.manager, project.id);
    return {
      spans: spans.map((s) => ({
        span: s.span,
        rows: s.rows,
        labelFrom: s.labelFrom?.toISOString() ?? null,
        labelTo: s.labelTo?.toISOString() ?? null,
        versions: s.versions.map((v) => this.toJob(project, s.span, s.rows, v)),
      })),
    };
  }

  /** A complete version's file as a stream with its size, if `relative` names one of them (or its schema, manifest or _SUCCESS). */
  async file(project: ProjectEntity, span: number, version: number, relative: string): Promise<{ body: Readable; size: number } | undefined> {
    const spans = await this.repository.spans(this.dataSource.manager, project.id);
    const found = spans.find((s) => s.span === span)?.versions.find((v) => v.version === version && v.state === 'completed');
    if (!found) return undefined;
    const names = new Set([...found.files.map((f) => f.path), 'schema.pbtxt', 'manifest.json', SUCCESS_MARKER]);
    return names.has(relative) ? this.stores.exports.read(`${versionKey(project, span, version)}/${relative}`) : undefined;
  }

  private toJob(project: ProjectEntity, span: number, rows: number, v: VersionRow): ExportJob {
    const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
    return {
      id: v.id,
      span,
      version: v.version,
      state: v.state,
      rows,
      rowsWritten: v.rowsWritten,
      error: v.error,
      warnings: v.state === 'completed' ? (v.warnings ?? []) : [],
      directory: `span-${span}/version-${v.version}`,
      location: this.stores.exports.location(versionKey(project, span, v.version)),
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
      const written = await this.writer.write(project, versionId, {
        onProgress: (rows) => {
          if (Date.now() - last < PROGRESS_MS) return;
          last = Date.now();
          tell(rows, 'writing');
        },
      });
      tell(written.rows, 'completed');
      await this.webhooks.announce(project, versionId);
      return written;
    } catch (error) {
      tell(0, 'failed');
      throw error;
    }
  }

  /** Claims the next span and writes its first version; undefined when no label waits. */
  exportNext(project: ProjectEntity, options: WriteOptions = {}): Promise<ExportedVersion | undefined> {
    return this.run(project, {}, options);
  }

  /** Writes (or, after a crash, writes again) a version's files; see `VersionWriter`. */
  writeVersion(project: ProjectEntity, versionId: string, options: WriteOptions = {}): Promise<ExportedVersion> {
    return this.writer.write(project, versionId, options);
  }

  /** Where a span's version is: its directory, or its `s3://` folder. */
  directoryOf(project: ProjectEntity, span: number, version: number): string {
    return this.stores.exports.location(versionKey(project, span, version));
  }
}

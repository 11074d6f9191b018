import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { JobsService } from '../common/jobs/jobs.service';
import { LOGGER } from '../common/logging/logger';
import { deliver } from '../common/webhook/webhook';
import { STORES, type Stores } from '../common/storage/storage.module';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { ExportsRepository } from './exports.repository';
import { readManifest } from './manifest';
import { versionKey } from './version-writer';

const WEBHOOK_JOB = 'export-webhook';
// without a job queue (CLI, tests), a webhook is tried this many times in the background, backing off
const INLINE_WEBHOOK_DELAYS_MS = [0, 500, 2_000, 5_000];

/** `span.complete`: the project's webhook told that a version is complete, with its manifest. */
@Injectable()
export class SpanWebhooks implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ExportsRepository,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
    @Inject(STORES) private readonly stores: Stores,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // pg-boss retries a refused delivery with backoff
    this.jobs.handle<{ projectId: string; versionId: string }>(
      WEBHOOK_JOB,
      async ({ projectId, versionId }) => {
        const project = await this.projects.findById(projectId);
        if (project) await this.deliver(project, versionId);
      },
      { retryLimit: 8, expireInSeconds: 60 },
    );
  }

  /**
   * Tells the project's webhook that a version is complete: on the job queue, or, without one,
   * tried a few times here (awaited when `wait`, as the CLI does before it exits).
   */
  async announce(project: ProjectEntity, versionId: string, wait = false): Promise<void> {
    if (!project.exportSettings.webhook) return;
    if (await this.jobs.send(WEBHOOK_JOB, { projectId: project.id, versionId })) return;
    const attempts = (async () => {
      for (const delay of INLINE_WEBHOOK_DELAYS_MS) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        try {
          return await this.deliver(project, versionId);
        } catch (error) {
          this.logger.warn({ err: error, versionId }, 'a span webhook was not delivered');
        }
      }
    })();
    if (wait) await attempts;
  }

  private async deliver(project: ProjectEntity, versionId: string): Promise<void> {
    const webhook = project.exportSettings.webhook;
    const target = await this.repository.version(this.dataSource.manager, versionId);
    if (!webhook || !target || target.state !== 'completed') return;
    const manifest = await readManifest(this.stores.exports, versionKey(project, target.span, target.version));
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
}

import { Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logger';

export const JOBS_OPTIONS = Symbol('JOBS_OPTIONS');
const JOBS_SETUP_LOCK = 0x6266_0003;
export interface JobsOptions {
  databaseUrl: string;
  /** false in the CLI and where a caller drives the work itself */
  enabled: boolean;
}

interface ScheduledJob {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

interface OnDemandJob {
  name: string;
  run: (data: unknown) => Promise<unknown>;
  /** tries after the first, and how long one try may run before pg-boss gives it to another worker */
  retryLimit: number;
  expireInSeconds: number;
}

/**
 * Scheduled work on pg-boss: every process registers the same schedules and workers,
 * and pg-boss hands each tick to exactly one of them.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private boss?: PgBoss;
  private readonly scheduled: ScheduledJob[] = [];
  private readonly onDemand: OnDemandJob[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(JOBS_OPTIONS) private readonly options: JobsOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Call from a module's constructor or onModuleInit: workers start once the application has booted. */
  schedule(name: string, cron: string, run: () => Promise<unknown>): void {
    this.scheduled.push({ name, cron, run });
  }

  /** Work done when asked (`send`): registered like `schedule`; a failed or abandoned try is retried with backoff. */
  handle<T>(name: string, run: (data: T) => Promise<unknown>, options: { retryLimit?: number; expireInSeconds?: number } = {}): void {
    this.onDemand.push({
      name,
      run: run as (data: unknown) => Promise<unknown>,
      retryLimit: options.retryLimit ?? 5,
      expireInSeconds: options.expireInSeconds ?? 900,
    });
  }

  /** Whether this process runs queued work (false in the CLI and most tests: the caller does the work itself). */
  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Queues work for any process's worker; the job's id, or null when this process has no queue (do the work yourself). */
  async send(name: string, data: object): Promise<string | null> {
    if (!this.boss) return null;
    return this.boss.send(name, data);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled || this.scheduled.length + this.onDemand.length === 0) return;
    const boss = new PgBoss({ connectionString: this.options.databaseUrl, max: 2, application_name: 'backflow-jobs' });
    boss.on('error', (error) => this.logger.warn({ err: error }, 'job queue error'));
    await boss.start();
    // processes starting together would deadlock creating the same queues: take turns
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [JOBS_SETUP_LOCK]);
      for (const job of this.scheduled) {
        await boss.createQueue(job.name);
        await boss.schedule(job.name, job.cron);
      }
      for (const job of this.onDemand)
        await boss.createQueue(job.name, {
          name: job.name,
          retryLimit: job.retryLimit,
          retryBackoff: true,
          retryDelay: 2,
          expireInSeconds: job.expireInSeconds,
        });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [JOBS_SETUP_LOCK]).catch(() => undefined);
      await runner.release();
    }
    for (const job of this.scheduled) {
      await boss.work(job.name, async () => {
        await job.run();
      });
    }
    for (const job of this.onDemand) {
      await boss.work(job.name, { pollingIntervalSeconds: 1 }, async ([work]) => {
        await job.run(work.data);
      });
    }
    this.boss = boss;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.boss?.stop({ graceful: true, timeout: 10_000 });
  }
}

@Global()
@Module({})
export class JobsModule {
  static forRoot(options: JobsOptions) {
    return { module: JobsModule, providers: [{ provide: JOBS_OPTIONS, useValue: options }, JobsService], exports: [JobsService] };
  }
}

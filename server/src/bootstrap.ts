import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { AppConfig } from './config/app-config';
import { openDataSource } from './database/data-source';
import { EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { runMigrations } from './database/migrate';
import { logAfterCommitFailures } from './common/database/transaction';
import { createMetrics } from './common/metrics/metrics';
import type { AppContext } from './app.module';

export interface Database {
  url: string;
  embedded?: EmbeddedPostgres;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under the data dir. */
export async function resolveDatabase(config: AppConfig, logger: Logger): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.embeddedPostgres.dataDir,
    port: config.embeddedPostgres.port,
    log: (level, message, extra) => logger[level]({ component: 'embedded-postgres', ...extra }, message),
  });
  return { url: embedded.url, embedded };
}

/** Opens the pool and migrates under the advisory lock: what the app module expects to find. */
export async function prepareContext(config: AppConfig, logger: Logger, databaseUrl: string, options: { jobs?: boolean } = {}): Promise<AppContext> {
  const dataSource = await openDataSource(databaseUrl, config.dbPoolSize, logger);
  logAfterCommitFailures(dataSource, logger);
  try {
    await runMigrations(dataSource, logger);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return { config, logger, metrics: createMetrics(), dataSource, databaseUrl, jobs: options.jobs ?? true };
}

export type { NestFastifyApplication };

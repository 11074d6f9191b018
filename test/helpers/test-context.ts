import * as path from 'node:path';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { AppModule } from '../../server/src/app.module';
import { prepareContext } from '../../server/src/bootstrap';
import { loadConfig } from '../../server/src/config/app-config';
import { createDatabase, withClient } from './test-database';

export interface ServiceContext {
  /** the Nest application context: every module's providers, no HTTP adapter, no sockets */
  context: INestApplicationContext;
  get<T>(type: Type<T>): T;
  databaseUrl: string;
  sql<T = any>(query: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * The real application modules on their own cloned database, without HTTP: services are
 * called directly, on the real TypeORM data source. Scheduled jobs stay off unless asked.
 */
export async function startServiceContext(env: Record<string, string> = {}, options: { jobs?: boolean } = {}): Promise<ServiceContext> {
  const database = await createDatabase();
  const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', ...env }, path.join(__dirname, '..', '..'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const prepared = await prepareContext(config, logger, database.url, { jobs: options.jobs ?? false });
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(prepared), { logger: false });
  return {
    context,
    get: (type) => context.get(type, { strict: false }),
    databaseUrl: database.url,
    sql: (query, params) => withClient(database.url, async (client) => (await client.query(query, params as unknown[])).rows),
    async close() {
      await context.close();
      await database.drop();
    },
  };
}

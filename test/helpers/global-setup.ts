import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import PgBoss from 'pg-boss';
import pino from 'pino';
import { startEmbeddedPostgres } from '../../server/src/database/embedded-postgres';
import { openDataSource } from '../../server/src/database/data-source';
import { runMigrations } from '../../server/src/database/migrate';
import { databaseUrl, TEMPLATE_DATABASE, withClient } from './test-database';

/** One PostgreSQL for the run (embedded under the OS temp dir, or DATABASE_URL) and a migrated template database. */
export default async function globalSetup(): Promise<void> {
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-test-'));
    fs.chmodSync(dir, 0o755);
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: 0, database: 'postgres' });
    serverUrl = embedded.url;
    (globalThis as Record<string, unknown>).__backflowTestDatabase = { embedded, dir };
  }
  process.env.BACKFLOW_TEST_SERVER_URL = serverUrl;

  await withClient(databaseUrl('postgres', serverUrl), async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  });
  const dataSource = await openDataSource(databaseUrl(TEMPLATE_DATABASE, serverUrl), 2, pino({ level: 'silent' }));
  try {
    await runMigrations(dataSource, pino({ level: 'silent' }));
  } finally {
    await dataSource.destroy();
  }
  // pg-boss creates its schema on first start: once here, so every clone has it
  const boss = new PgBoss({ connectionString: databaseUrl(TEMPLATE_DATABASE, serverUrl), max: 1, schedule: false, supervise: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
}

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import PgBoss from 'pg-boss';
import pino from 'pino';
import { startEmbeddedPostgres, stopAbandonedPostmaster } from '../../server/src/database/embedded-postgres';
import { openDataSource } from '../../server/src/database/data-source';
import { runMigrations } from '../../server/src/database/migrate';
import { databaseUrl, TEMPLATE_DATABASE, withClient } from './test-database';

// a run interrupted before its teardown leaves its cluster behind: stop and remove those
async function removeAbandonedRuns(): Promise<void> {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (!entry.startsWith('backflow-test-')) continue;
    const dir = path.join(os.tmpdir(), entry);
    // a run starting right now has a directory and no server yet: leave young directories alone
    if (Date.now() - fs.statSync(dir).mtimeMs < 10 * 60_000) continue;
    if (await stopAbandonedPostmaster(path.join(dir, 'postgres'))) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One PostgreSQL for the run (embedded under the OS temp dir, or DATABASE_URL) and a migrated template database. */
export default async function globalSetup(): Promise<void> {
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    await removeAbandonedRuns();
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

import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { applyDefinitions } from './definitions';
import { migrations } from './migrations';

// one key for every Backflow process sharing the database
const MIGRATION_LOCK = 0x6266_0001;

/**
 * Applies pending migrations, then the definition files that changed (`definitions.ts`), under a
 * session advisory lock, so N processes starting together take turns and apply each once.
 */
export async function runMigrations(dataSource: DataSource, logger: Logger, options: { definitionsRoot?: string } = {}): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const migration of applied) logger.info({ migration: migration.name }, 'migration applied');
      await applyDefinitions(runner, logger, { root: options.definitionsRoot, afterMigrations: applied.length > 0 });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const exists: Array<{ t: string | null }> = await dataSource.query(`SELECT to_regclass('migrations') AS t`);
  const applied = new Set<string>();
  if (exists[0]?.t) {
    const rows: Array<{ name: string }> = await dataSource.query('SELECT name FROM migrations');
    for (const row of rows) applied.add(row.name);
  }
  return migrations.map((m) => m.name).filter((name) => !applied.has(name));
}

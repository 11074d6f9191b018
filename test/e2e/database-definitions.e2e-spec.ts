import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { dataSourceOptions, openDataSource } from '../../server/src/database/data-source';
import { DEFINITION_FILES, DEFINITIONS_ROOT } from '../../server/src/database/definitions';
import { runMigrations } from '../../server/src/database/migrate';
import { migrations } from '../../server/src/database/migrations';
import { SchemaDefinitions1764250000000 } from '../../server/src/database/migrations/1764250000000-schema-definitions';
import { createDatabase, databaseUrl, TEMPLATE_DATABASE, withClient } from '../helpers/test-database';

/** A logger that keeps the definitions each run applied. */
function recorder(): { logger: pino.Logger; applied: string[] } {
  const applied: string[] = [];
  const write = (line: string): void => {
    const { definition } = JSON.parse(line) as { definition?: string };
    if (definition) applied.push(definition);
  };
  const logger = pino({ level: 'info' }, { write });
  return { logger, applied };
}

/** What the database defines: every backflow function's body and every view's query. */
async function definitionsOf(url: string): Promise<unknown> {
  return withClient(url, async (client) => ({
    functions: (
      await client.query(
        `SELECT proname, pg_get_function_identity_arguments(oid) AS args, prosrc, proconfig FROM pg_proc WHERE proname LIKE 'backflow%' ORDER BY 1`,
      )
    ).rows,
    views: (await client.query(`SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1`)).rows,
  }));
}

describe('database definitions: one current definition per file, applied when the file changes', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let root: string;

  beforeAll(async () => {
    database = await createDatabase();
    root = mkdtempSync(join(tmpdir(), 'backflow-definitions-'));
    for (const name of DEFINITION_FILES) cpSync(join(DEFINITIONS_ROOT, name), join(root, name));
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await database.drop();
  });

  async function boot(): Promise<string[]> {
    const { logger, applied } = recorder();
    const dataSource = await openDataSource(database.url, 2, logger);
    try {
      await runMigrations(dataSource, logger, { definitionsRoot: root });
    } finally {
      await dataSource.destroy();
    }
    return applied;
  }

  const consensus = () =>
    withClient(database.url, async (client) => (await client.query(`SELECT kind FROM backflow_consensus(ARRAY['a', 'a'], 0.5, 3)`)).rows[0].kind as string);

  it('re-applies nothing while no file changed', async () => {
    expect(await boot()).toEqual([]);
    expect(await consensus()).toBe('agreed');
  });

  it('makes an edited function live at the next start, applied once by two processes starting together', async () => {
    const file = join(root, 'labeling/labeling.functions.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace("THEN 'agreed'", "THEN 'agreed_edited'"));
    const [first, second] = await Promise.all([boot(), boot()]);
    expect([...first, ...second]).toEqual(['labeling/labeling.functions.sql']);
    expect(await consensus()).toBe('agreed_edited');
    expect(await boot()).toEqual([]);
  });

  it('upgrades a database the dated migrations alone made to what a fresh one holds', async () => {
    const old = await createDatabase({ empty: true });
    try {
      // the migrations of the code before definition files: its functions came from dated migrations only
      const before = new DataSource({ ...dataSourceOptions(old.url, 2), migrations: migrations.slice(0, migrations.indexOf(SchemaDefinitions1764250000000)) });
      await before.initialize();
      await before.runMigrations({ transaction: 'each' });
      await before.destroy();
      const { logger, applied } = recorder();
      const after = await openDataSource(old.url, 2, logger);
      await runMigrations(after, logger);
      await after.destroy();
      expect(applied).toEqual([...DEFINITION_FILES]);
      expect(await definitionsOf(old.url)).toEqual(await definitionsOf(databaseUrl(TEMPLATE_DATABASE)));
    } finally {
      await old.drop();
    }
  });

  it('locks rows through a read model: its views are simple, so FOR UPDATE reaches the table', async () => {
    await withClient(database.url, async (holder) => {
      const [user] = (await holder.query(`INSERT INTO users (email, password_hash, role) VALUES ('lock@example.com', 'x', 'admin') RETURNING id`)).rows;
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM users_read WHERE id = $1 FOR NO KEY UPDATE`, [user.id]);
      await withClient(database.url, async (other) => {
        await expect(other.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE NOWAIT`, [user.id])).rejects.toMatchObject({ code: '55P03' });
      });
      await holder.query('ROLLBACK');
      // the views readers lock through (exports: projects_read; labels: tasks_read; quality: labels_read) are as simple
      const { rows } = await holder.query(`SELECT table_name, is_updatable FROM information_schema.views WHERE table_schema = 'public' ORDER BY 1`);
      expect(rows.filter((r: { is_updatable: string }) => r.is_updatable !== 'YES')).toEqual([]);
    });
  });
});

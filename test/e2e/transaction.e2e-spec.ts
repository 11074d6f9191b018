import pino from 'pino';
import { DataSource } from 'typeorm';
import { inTransaction, logAfterCommitFailures } from '../../server/src/common/database/transaction';
import { createDatabase, withClient } from '../helpers/test-database';

// inTransaction on a real PostgreSQL: work registered with tx.afterCommit runs only once the commit is done.
describe('inTransaction', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let dataSource: DataSource;
  const failures: unknown[] = [];

  beforeAll(async () => {
    database = await createDatabase({ empty: true });
    dataSource = await new DataSource({ type: 'postgres', url: database.url, poolSize: 2 }).initialize();
    await dataSource.query(`CREATE TABLE notes (id int PRIMARY KEY)`);
    const logger = pino({ level: 'silent' });
    logAfterCommitFailures(dataSource, { error: ({ err }, message) => (failures.push(err), logger.error(message)) });
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  // what another connection sees: a row is there only once its transaction has committed
  const committed = (id: number) => withClient(database.url, async (client) => (await client.query(`SELECT 1 FROM notes WHERE id = $1`, [id])).rowCount === 1);

  it('runs nothing registered by a transaction that rolls back', async () => {
    const ran: string[] = [];
    await expect(
      inTransaction(dataSource, async (tx) => {
        await tx.manager.query(`INSERT INTO notes (id) VALUES (1)`);
        tx.afterCommit(() => ran.push('announce'));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(ran).toEqual([]);
    expect(await committed(1)).toBe(false);
  });

  it('runs the work once each, in the order registered, after the commit', async () => {
    const ran: Array<[string, boolean]> = [];
    const reply = await inTransaction(dataSource, async (tx) => {
      await tx.manager.query(`INSERT INTO notes (id) VALUES (2)`);
      tx.afterCommit(() => ran.push(['first', true]));
      tx.afterCommit(
        () => ran.push(['second', true]),
        () => ran.push(['third', true]),
      );
      return 'stored';
    });
    expect(reply).toBe('stored');
    expect(ran).toEqual([
      ['first', true],
      ['second', true],
      ['third', true],
    ]);
    // the work sees the commit: another connection finds the row from inside it
    // (awaited by the test, not slept on: another connection on a busy machine can take long)
    let seen: Promise<boolean> | undefined;
    await inTransaction(dataSource, async (tx) => {
      await tx.manager.query(`INSERT INTO notes (id) VALUES (3)`);
      tx.afterCommit(() => {
        seen = committed(3);
      });
    });
    expect(seen).toBeDefined();
    expect(await seen).toBe(true);
  });

  it('logs a failure in after-commit work instead of throwing it, and runs the rest', async () => {
    const ran: string[] = [];
    const before = failures.length;
    const reply = await inTransaction(dataSource, async (tx) => {
      await tx.manager.query(`INSERT INTO notes (id) VALUES (4)`);
      tx.afterCommit(
        () => {
          throw new Error('push failed');
        },
        () => Promise.reject(new Error('async push failed')),
        () => ran.push('after'),
      );
      return 'committed';
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(reply).toBe('committed');
    expect(ran).toEqual(['after']);
    expect(await committed(4)).toBe(true);
    expect(failures.slice(before).map((error) => (error as Error).message)).toEqual(['push failed', 'async push failed']);
  });
});

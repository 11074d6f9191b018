import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { startEmbeddedPostgres, EmbeddedPostgres } from '../../server/src/database/embedded-postgres';
import { withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';
import { call, connectRater, createProject, createRater, must, prediction, sleep, until } from './harness';

/**
 * PostgreSQL stopped and started again under traffic, with the server left running: while the
 * database is away every request is answered 503 `database/unavailable` (never a 500, never a
 * crash), and the server comes back by itself: ingestion, labeling over the socket, readiness
 * and background jobs, with everything acknowledged stored.
 */
describe('PostgreSQL restarted under traffic', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-pg-restart-'));
  let postgres: EmbeddedPostgres | undefined;
  let server: ServerProcess | undefined;
  let socket: Socket | undefined;
  // the load loops run until this is set (by the test, or after it when it failed)
  let stopping = false;
  afterAll(async () => {
    stopping = true; // a failed test leaves no load running: Jest could not exit
    socket?.close();
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
    await postgres?.stop({ evenIfShared: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with a code while the database is away, and recovers by itself', async () => {
    fs.chmodSync(dir, 0o755);
    // a cluster of its own: the run's shared one must not go away under the other test files
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: 0, database: 'postgres' });
    const port = postgres.port;
    const databaseUrl = postgres.url;
    server = await spawnServer({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' });
    await server.waitReady();
    const url = server.url;
    const admin = await loginAt(url);
    const { slug, key } = await createProject(url, admin, 'pg-restart', { overlap: 1, labeling: { goldRate: 0 }, export: { formats: ['jsonl'] } });
    const rater = await createRater(url, admin, slug, 'pg-rater');
    socket = await connectRater(url, rater.token);

    // traffic: batches of predictions, and reads, all the time
    const statuses = new Map<string, number>();
    const count = (what: string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);
    const acknowledged = new Set<string>();
    const outage: Array<{ status: number; code?: string }> = [];
    let down = false;
    let n = 0;
    const traffic = async () => {
      while (!stopping) {
        const batch = Array.from({ length: 50 }, () => prediction(n++));
        const stored = await call(url, key, 'POST', `/api/v1/projects/${slug}/predictions/batch`, batch);
        if (stored.status === 200) batch.forEach((p) => acknowledged.add(p.id));
        const read = await call(url, admin, 'GET', `/api/v1/projects/${slug}`);
        for (const answer of [stored, read]) {
          count(String(answer.status));
          if (down) outage.push({ status: answer.status, code: answer.body?.code });
        }
        await sleep(50);
      }
    };
    const load = [traffic(), traffic()];
    await until('some predictions stored', () => acknowledged.size >= 500);

    // the database goes away
    await postgres.stop({ evenIfShared: true });
    down = true;
    await until('requests answered while the database is away', () => outage.length >= 20, 60_000);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ code: 'database/unavailable' });
    const claimWhileDown = await socket.timeout(20_000).emitWithAck('task:claim', { project: slug });
    expect(claimWhileDown.error?.code).toBe('database/unavailable');
    expect(server.child.exitCode).toBeNull();
    await sleep(2_000);

    // it comes back on the same port; the server was never restarted
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port, database: 'postgres' });
    expect(postgres.port).toBe(port);
    down = false;
    const before = acknowledged.size;
    await until('ingestion to work again', () => acknowledged.size >= before + 500, 60_000);
    await until('readiness', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000);
    stopping = true;
    await Promise.all(load);

    // while away: 503 with its code, or a 200 for what needed no database (a project read from the cache, a request done before the stop)
    expect(outage.filter((a) => !(a.status === 503 && a.code === 'database/unavailable') && a.status !== 200)).toEqual([]);
    expect(outage.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(10);
    // an unexpected status brings the server's error lines along, so a failure says what happened
    const unexpected = [...statuses.keys()].filter((status) => !['200', '503'].includes(status));
    const errors = unexpected.length
      ? server
          .output()
          .split('\n')
          .filter((line) => /"level":(50|60)/.test(line))
          .slice(-5)
      : [];
    expect({ unexpected, errors }).toEqual({ unexpected: [], errors: [] });
    expect(server.child.exitCode).toBeNull();

    // labeling over the same socket connection works again, and a job runs (an export through pg-boss)
    const claimed = await socket.timeout(20_000).emitWithAck('task:claim', { project: slug });
    expect(claimed.task?.id).toBeDefined();
    const submitted = await socket
      .timeout(20_000)
      .emitWithAck('task:submit', { project: slug, taskId: claimed.task.id, annotation: { id: randomUUID(), label: 'spam' } });
    expect(submitted.annotation?.label).toBe('spam');
    socket.close();
    const started = await must(url, admin, 'POST', `/api/v1/projects/${slug}/exports`, {});
    await until(
      'the export job',
      async () => (await call(url, admin, 'GET', `/api/v1/projects/${slug}/exports/${started.job.id}`)).body?.state === 'completed',
      60_000,
      200,
    );

    // everything acknowledged is there
    const stored = await withClient(databaseUrl, async (client) => new Set((await client.query(`SELECT id FROM predictions`)).rows.map((r) => r.id as string)));
    expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([]);
    process.stdout.write(
      `postgres restart: ${outage.length} requests answered while away, ${outage.filter((a) => a.status === 503).length} of them 503 database/unavailable, the rest 200; ${acknowledged.size} predictions acknowledged and stored; answers ${JSON.stringify(Object.fromEntries(statuses))}\n`,
    );
  }, 300_000);
});

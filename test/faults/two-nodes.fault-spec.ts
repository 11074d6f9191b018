import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { createDatabase, withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';
import { connectRater, createProject, createRater, must, prediction, Rater, sleep, until } from './harness';

const OVERLAP = 2;
const RATERS_PER_NODE = 3;
const BATCH = 20;

interface TaskEvent {
  task: { id: string } | null;
}

/**
 * Two server processes on one PostgreSQL, raters connected to each. Tasks created through
 * either node are pushed to idle raters on both; one node is killed, its raters reconnect to
 * the other and carry on; no task is lost or answered twice.
 */
describe('two nodes on one database', () => {
  const servers: ServerProcess[] = [];
  const sockets: Socket[] = [];
  // the load loops run until this is set (by the test, or after it when it failed)
  let stopping = false;
  afterAll(async () => {
    stopping = true; // a failed test leaves no load running: Jest could not exit
    for (const socket of sockets) socket.close();
    await Promise.all(servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : Promise.resolve())));
  });

  it('pushes tasks across nodes, and survives losing one', async () => {
    const database = await createDatabase({ empty: true });
    try {
      // the first migrates; the second starts on the migrated database
      servers.push(await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' }));
      await servers[0].waitReady();
      servers.push(await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' }));
      await servers[1].waitReady();
      const nodes = servers.map((s) => s.url);
      const admin = await loginAt(nodes[0]);
      const { slug, key } = await createProject(nodes[0], admin, 'nodes', {
        overlap: OVERLAP,
        labeling: { leaseSeconds: 30, goldRate: 0, agreementThreshold: 0.3 },
      });

      // which node a task reached each rater through, and how (pushed, or the reply to a claim)
      const received: Array<{ taskId: string; node: number; rater: string; pushed: boolean }> = [];
      const refusals: string[] = [];
      const reconnectFailures: string[] = [];

      /** A rater on a node: answers what it holds, claims again, and waits for a push when nothing is left. */
      const work = async (rater: Rater, startNode: number) => {
        let node = startNode;
        let socket = await connectRater(nodes[node], rater.token);
        sockets.push(socket);
        const pushes: Array<{ id: string }> = [];
        const answeredTasks = new Set<string>();
        const unacknowledged = new Map<string, string>();
        const listen = (s: Socket, at: number) =>
          s.on('task:assigned', (event: TaskEvent) => {
            if (!event.task) return;
            received.push({ taskId: event.task.id, node: at, rater: rater.id, pushed: true });
            pushes.push(event.task);
          });
        listen(socket, node);
        let current: { id: string } | undefined;
        while (!stopping) {
          if (!socket.connected) {
            // its node is gone: reconnect to the other one, with the same session, and carry on
            node = 1 - node;
            try {
              socket = await connectRater(nodes[node], rater.token);
            } catch (error) {
              reconnectFailures.push(`${rater.email} → node ${node}: ${String(error)}`);
              await sleep(200);
              continue;
            }
            sockets.push(socket);
            listen(socket, node);
            current = undefined;
          }
          try {
            if (!current) current = pushes.shift();
            if (!current) {
              const reply = (await socket.timeout(5_000).emitWithAck('task:claim', { project: slug })) as TaskEvent & { error?: { code: string } };
              if (reply.error) {
                refusals.push(`${rater.email} claim: ${reply.error.code}`);
                await sleep(200);
                continue;
              }
              if (reply.task) {
                received.push({ taskId: reply.task.id, node, rater: rater.id, pushed: false });
                current = reply.task;
              } else {
                // idle: the next task comes as a push (the claim also made this rater idle on its node)
                await until('a push', () => pushes.length > 0 || stopping || !socket.connected, 2_000, 20).catch(() => undefined);
                continue;
              }
            }
            // the same task can come twice (a push and the reply to a claim sent at that moment): a client answers it once
            if (answeredTasks.has(current.id)) {
              current = undefined;
              continue;
            }
            await sleep(10 + Math.random() * 40);
            // an answer whose reply never came (its node died) is sent again with the same id: stored once either way
            const id = unacknowledged.get(current.id) ?? randomUUID();
            unacknowledged.set(current.id, id);
            const answered = (await socket
              .timeout(5_000)
              .emitWithAck('task:submit', { project: slug, taskId: current.id, annotation: { id, label: 'spam' } })) as { error?: { code: string } }; // raters agree: a split goes to review
            unacknowledged.delete(current.id);
            answeredTasks.add(current.id);
            if (answered.error) refusals.push(`${rater.email} ${current.id}: ${answered.error.code}`);
            current = undefined;
          } catch {
            // the node died under the request: the loop reconnects
            await sleep(100);
          }
        }
      };

      const raters = await Promise.all(Array.from({ length: RATERS_PER_NODE * 2 }, (_, i) => createRater(nodes[0], admin, slug, `node-rater-${i}`)));
      const working = raters.map((rater, i) => work(rater, i % 2));
      await sleep(1_000); // every rater has claimed once and waits

      // tasks created through node 0, then through node 1
      const through: string[][] = [[], []];
      const ingest = async (node: number) => {
        const batch = Array.from({ length: BATCH }, (_, i) => prediction(i));
        await must(nodes[node], key, 'POST', `/api/v1/projects/${slug}/predictions/batch`, batch);
        through[node].push(...batch.map((p) => p.id));
      };
      const taskCount = () =>
        withClient(
          database.url,
          async (c) =>
            (await c.query(`SELECT count(*) FILTER (WHERE state <> 'completed')::int AS open, count(*)::int AS n FROM tasks`)).rows[0] as {
              open: number;
              n: number;
            },
        );
      await ingest(0);
      const explain = async (error: Error): Promise<never> => {
        const open = await withClient(
          database.url,
          async (c) =>
            (
              await c.query(
                `SELECT t.state, t.annotations_count AS answers, (SELECT count(*)::int FROM task_leases l WHERE l.task_id = t.id) AS leases FROM tasks t WHERE t.state <> 'completed'`,
              )
            ).rows,
        );
        throw new Error(
          `${error.message}: open tasks ${JSON.stringify(open)}; ${received.length} tasks received; refusals ${refusals.slice(0, 5).join('; ')}; reconnect failures ${reconnectFailures.slice(0, 5).join('; ')}`,
        );
      };
      await until('the first tasks answered', async () => (await taskCount()).open === 0, 60_000, 200).catch(explain);
      await ingest(1);
      await until('the second tasks answered', async () => (await taskCount()).open === 0, 60_000, 200).catch(explain);

      // node 0 dies with raters on it, some holding tasks; tasks keep coming through node 1
      await ingest(1);
      await sleep(50 + Math.random() * 100);
      await servers[0].kill9();
      await ingest(1);
      await until('every task answered after the loss of a node', async () => (await taskCount()).open === 0, 120_000, 200).catch(explain);
      stopping = true;
      await Promise.all(working);

      const { n } = await taskCount();
      expect(n).toBe(4 * BATCH);
      await withClient(database.url, async (client) => {
        // no task lost, none answered twice by a rater, none over its overlap
        expect((await client.query(`SELECT annotations_count AS answers, count(*)::int AS tasks FROM tasks GROUP BY 1`)).rows).toEqual([
          { answers: OVERLAP, tasks: 4 * BATCH },
        ]);
        expect((await client.query(`SELECT count(*)::int AS n FROM annotations`)).rows[0].n).toBe(OVERLAP * 4 * BATCH);
        expect((await client.query(`SELECT task_id FROM annotations GROUP BY task_id HAVING count(DISTINCT rater_id) <> ${OVERLAP}`)).rows).toEqual([]);
        expect((await client.query(`SELECT count(*)::int AS n FROM labels WHERE superseded_at IS NULL`)).rows[0].n).toBe(4 * BATCH);
        // pushes crossed the nodes: tasks made through one node reached raters waiting on the other
        const origin = new Map<string, number>();
        for (const row of (await client.query(`SELECT id, prediction_id FROM tasks`)).rows) origin.set(row.id, through[0].includes(row.prediction_id) ? 0 : 1);
        const crossed = received.filter((r) => r.pushed && origin.get(r.taskId) !== r.node);
        expect(crossed.filter((r) => r.node === 1).length).toBeGreaterThan(0); // made through node 0, pushed by node 1
        expect(crossed.filter((r) => r.node === 0).length).toBeGreaterThan(0); // made through node 1, pushed by node 0
      });
      // the only refusals: an answer in flight when node 0 died whose retry on node 1 found the slot filled
      expect(refusals.filter((r) => !r.endsWith('labeling/task_complete'))).toEqual([]);
      process.stdout.write(
        `two nodes: ${received.filter((r) => r.pushed).length} pushes (${received.filter((r) => r.pushed && r.node === 1).length} by node 1), ${received.length} tasks received, ${refusals.length} refusals, ${reconnectFailures.length} failed reconnects (${reconnectFailures.slice(0, 2).join('; ')})\n`,
      );
    } finally {
      await Promise.all(servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : Promise.resolve())));
      await database.drop();
    }
  }, 300_000);
});

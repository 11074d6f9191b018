import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { createDatabase, withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';
import { connectRater, createProject, createRater, cuttableProxy, must, prediction, until } from './harness';

const LEASE_SECONDS = 10;

interface Assigned {
  task: { id: string; leaseExpiresAt: string };
  at: number;
}

/**
 * A rater's connection is cut mid-task (the TCP connection reset under it, through a proxy):
 * the lease runs out, the task is pushed to another rater who was waiting, and the first
 * rater's late answer is taken while the task still needs one, refused once it has it.
 */
describe("a rater's connection cut mid-task", () => {
  let server: ServerProcess | undefined;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
  });

  it('lets the lease expire, pushes the task to a waiting rater, and handles the late answer', async () => {
    const database = await createDatabase({ empty: true });
    try {
      server = await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
      await server.waitReady();
      const url = server.url;
      const admin = await loginAt(url);
      const { slug, key } = await createProject(url, admin, 'cut', { overlap: 1, labeling: { leaseSeconds: LEASE_SECONDS, goldRate: 0 } });

      /** One round: A takes the only task through the proxy and is cut off; B, waiting, gets it pushed when the lease ends. */
      const round = async (name: string) => {
        await must(url, key, 'POST', `/api/v1/projects/${slug}/predictions`, prediction(1));
        const [a, b] = await Promise.all([createRater(url, admin, slug, `${name}-a`), createRater(url, admin, slug, `${name}-b`)]);
        const proxy = await cuttableProxy(url);
        const first = await connectRater(proxy.url, a.token);
        const second = await connectRater(url, b.token);
        sockets.push(first, second);
        const disconnected = new Promise<string>((resolve) => first.once('disconnect', resolve));
        const pushed = new Promise<Assigned>((resolve) =>
          second.once('task:assigned', (event: { task: Assigned['task'] }) => resolve({ task: event.task, at: Date.now() })),
        );

        const held = (await first.timeout(10_000).emitWithAck('task:claim', { project: slug })).task as Assigned['task'];
        expect(held?.id).toBeDefined();
        // B finds nothing (A holds the task) and waits for a push
        expect((await second.timeout(10_000).emitWithAck('task:claim', { project: slug })).task).toBeNull();
        proxy.cut();
        expect(await disconnected).toBe('transport close');

        const assigned = await pushed;
        expect(assigned.task.id).toBe(held.id);
        // never before A's lease ran out
        expect(assigned.at).toBeGreaterThanOrEqual(Date.parse(held.leaseExpiresAt));
        await proxy.close();
        // A comes back (directly) with the answer given before the cut
        const again = await connectRater(url, a.token);
        sockets.push(again);
        return { a: again, b: second, taskId: held.id };
      };

      // 1. B answers first: A's late answer is refused, and nothing of it is stored
      const one = await round('cut1');
      const bAnswer = await one.b
        .timeout(10_000)
        .emitWithAck('task:submit', { project: slug, taskId: one.taskId, annotation: { id: randomUUID(), label: 'spam' } });
      expect(bAnswer).toMatchObject({ annotation: { late: false }, taskState: 'completed' });
      const lateRefused = await one.a
        .timeout(10_000)
        .emitWithAck('task:submit', { project: slug, taskId: one.taskId, annotation: { id: randomUUID(), label: 'ham' } });
      expect(lateRefused.error?.code).toBe('labeling/task_complete');

      // 2. A's late answer comes first: it is taken (marked late), and B's is then refused
      const two = await round('cut2');
      const lateTaken = await two.a
        .timeout(10_000)
        .emitWithAck('task:submit', { project: slug, taskId: two.taskId, annotation: { id: randomUUID(), label: 'ham' } });
      expect(lateTaken).toMatchObject({ annotation: { label: 'ham', late: true }, taskState: 'completed' });
      const bRefused = await two.b
        .timeout(10_000)
        .emitWithAck('task:submit', { project: slug, taskId: two.taskId, annotation: { id: randomUUID(), label: 'spam' } });
      expect(bRefused.error?.code).toBe('labeling/task_complete');

      await until(
        'both labels',
        async () => (await withClient(database.url, (c) => c.query(`SELECT count(*)::int AS n FROM labels WHERE superseded_at IS NULL`))).rows[0].n === 2,
      );
      await withClient(database.url, async (client) => {
        const rows = (await client.query(`SELECT a.task_id, a.label, a.late FROM annotations a ORDER BY a.created_at`)).rows;
        expect(rows).toEqual([
          { task_id: one.taskId, label: 'spam', late: false },
          { task_id: two.taskId, label: 'ham', late: true },
        ]);
        const labels = (
          await client.query(
            `SELECT t.id AS task_id, l.value FROM labels l JOIN tasks t ON t.project_id = l.project_id AND t.prediction_id = l.prediction_id WHERE l.superseded_at IS NULL ORDER BY l.created_at`,
          )
        ).rows;
        expect(labels).toEqual([
          { task_id: one.taskId, value: 'spam' },
          { task_id: two.taskId, value: 'ham' },
        ]);
      });
    } finally {
      if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
      await database.drop();
    }
  }, 120_000);
});

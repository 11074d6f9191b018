import { randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

// a rater's sitting in a project: a reload comes back to the tasks it held, a second tab takes the
// sitting over (the first is told and leases nothing more), and the queue says why it is not theirs
describe("labeling: a rater's sitting (resume, two tabs), the queue for one rater, the layout and undo window raters get", () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    a = await startTestApp();
    // a second node on the same database: sockets of one rater on two nodes
    b = await startTestApp({}, { databaseUrl: a.databaseUrl });
    admin = await a.login();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function withTasks(n: number, extra: Record<string, unknown> = {}, input: (i: number) => Record<string, unknown> = (i) => ({ text: `mail ${i}` })) {
    const project = await createProject(a, admin, {
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
      ...extra,
    });
    const key = (await createApiKey(a, admin, project.slug, ['ingest'])).secret;
    const ingest = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const response = await a.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
          token: key,
          body: predictionBody({ input: input(i), scores: { ham: 0.5, spam: 0.5 } }),
        });
        expect(response.status).toBe(201);
      }
    };
    await ingest(n);
    return { ...project, key, ingest, path: (suffix: string) => `/api/v1/projects/${project.slug}${suffix}` };
  }

  async function connect(node: TestApp, token: string): Promise<Socket> {
    const socket = io(`${node.url}/labeling`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }
  const ack = <T = any>(socket: Socket, event: string, body: unknown) => socket.timeout(10_000).emitWithAck(event, body) as Promise<T>;
  const leasesOf = async (raterId: string) =>
    (await a.sql<{ task_id: string }>(`SELECT task_id FROM task_leases WHERE rater_id = $1 AND expires_at > now() ORDER BY claimed_at`, [raterId])).map(
      (r) => r.task_id,
    );

  it('resumes the tasks a reloaded page held, the one on screen first, where a claim would have leased another', async () => {
    const project = await withTasks(5);
    const rater = await createUser(a, admin, 'rater', project);
    const first = await connect(a, rater.token);
    const onScreen = (await ack(first, 'task:claim', { project: project.slug })).task;
    const ahead = (await ack(first, 'task:claim', { project: project.slug })).task;
    // answering the task on screen leases the one after next; the one ahead is now on screen
    const answered = await ack(first, 'task:submit', {
      project: project.slug,
      taskId: onScreen.id,
      annotation: { id: randomUUID(), label: 'spam' },
      next: true,
    });
    const after = answered.next.task;
    first.close(); // the reload

    const reloaded = await connect(a, rater.token);
    const resumed = await ack(reloaded, 'task:resume', { project: project.slug });
    expect(resumed.tasks.map((t: { id: string }) => t.id)).toEqual([ahead.id, after.id]);
    expect(resumed.tasks[0]).toMatchObject({ input: ahead.input, leaseExpiresAt: expect.any(String) });
    // the REST twin says the same, and moves nothing
    const rest = await a.request('GET', project.path('/tasks/held'), { token: rater.token });
    expect(rest.status).toBe(200);
    expect(rest.body.tasks.map((t: { id: string }) => t.id)).toEqual([ahead.id, after.id]);

    // with one lease held, a claim (what the page did before) leases a new task and shows it first
    const other = await createUser(a, admin, 'rater', project);
    const one = await connect(a, other.token);
    const held = (await ack(one, 'task:claim', { project: project.slug })).task;
    one.close();
    const again = await connect(a, other.token);
    const claimed = (await ack(again, 'task:claim', { project: project.slug })).task;
    expect(claimed.id).not.toBe(held.id);
    expect((await ack(again, 'task:resume', { project: project.slug })).tasks.map((t: { id: string }) => t.id)).toEqual([held.id, claimed.id]);
  });

  it("moves a rater's sitting to the tab that resumed last, on either node: the other is told, leases nothing more, and its answers still count", async () => {
    const project = await withTasks(4);
    const rater = await createUser(a, admin, 'rater', project);
    const tab1 = await connect(a, rater.token);
    expect((await ack(tab1, 'task:resume', { project: project.slug })).tasks).toEqual([]);
    const onScreen = (await ack(tab1, 'task:claim', { project: project.slug })).task;
    const ahead = (await ack(tab1, 'task:claim', { project: project.slug })).task;

    // a second tab, served by the other node
    const moved = new Promise<unknown>((resolve) => tab1.once('sitting:moved', resolve));
    const tab2 = await connect(b, rater.token);
    const resumed = await ack(tab2, 'task:resume', { project: project.slug });
    expect(resumed.tasks.map((t: { id: string }) => t.id)).toEqual([onScreen.id, ahead.id]);
    expect(await moved).toEqual({ project: project.slug });

    // the first tab may not lease: its task would sit unseen in the rater's two leases
    // (the move travels through the adapter between nodes: the claim is asked again until it has arrived)
    let refused: any;
    for (let i = 0; i < 50; i++) {
      refused = await ack(tab1, 'task:claim', { project: project.slug });
      if (refused.error) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused.error).toMatchObject({ code: 'labeling/sitting_moved' });
    expect(refused.error.message).toMatch(/another tab or window/);
    // an answer it had on its way is stored, and leases nothing after it
    const sent = await ack(tab1, 'task:submit', { project: project.slug, taskId: onScreen.id, annotation: { id: randomUUID(), label: 'ham' }, next: true });
    expect(sent).toMatchObject({ taskState: 'completed', duplicate: false });
    expect(sent.next).toBeUndefined();
    expect(await leasesOf(rater.id)).toEqual([ahead.id]);
    // the second tab, answering the same task, is told it was answered (the page moves on), nothing is doubled
    const twice = await ack(tab2, 'task:submit', { project: project.slug, taskId: onScreen.id, annotation: { id: randomUUID(), label: 'ham' }, next: true });
    expect(twice.error.code).toBe('labeling/already_annotated');
    expect(await a.sql(`SELECT count(*)::int AS n FROM annotations WHERE task_id = $1`, [onScreen.id])).toEqual([{ n: 1 }]);
    // the second tab goes on: it answers the task ahead and leases the next
    const going = await ack(tab2, 'task:submit', { project: project.slug, taskId: ahead.id, annotation: { id: randomUUID(), label: 'spam' }, next: true });
    expect(going.next.task.id).toBeTruthy();

    // resuming in the first tab moves the sitting back
    const movedBack = new Promise<unknown>((resolve) => tab2.once('sitting:moved', resolve));
    expect((await ack(tab1, 'task:resume', { project: project.slug })).tasks.map((t: { id: string }) => t.id)).toEqual([going.next.task.id]);
    expect(await movedBack).toEqual({ project: project.slug });
    expect((await ack(tab1, 'task:claim', { project: project.slug })).task).not.toBeNull();
  });

  it('pushes a new task to the idle tab that holds the sitting, never to the one moved away from', async () => {
    const project = await withTasks(0);
    const rater = await createUser(a, admin, 'rater', project);
    const tab1 = await connect(a, rater.token);
    await ack(tab1, 'task:resume', { project: project.slug });
    expect((await ack(tab1, 'task:claim', { project: project.slug })).task).toBeNull(); // idle
    const tab2 = await connect(a, rater.token);
    const moved = new Promise<unknown>((resolve) => tab1.once('sitting:moved', resolve));
    await ack(tab2, 'task:resume', { project: project.slug });
    await moved;
    expect((await ack(tab2, 'task:claim', { project: project.slug })).task).toBeNull(); // idle too
    const pushedToMoved: unknown[] = [];
    tab1.on('task:assigned', (payload) => pushedToMoved.push(payload));
    const assigned = new Promise<any>((resolve) => tab2.once('task:assigned', resolve));
    await project.ingest(1);
    const { task } = await assigned;
    expect(await leasesOf(rater.id)).toEqual([task.id]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushedToMoved).toEqual([]);
  });

  it("counts, for a caught-up rater, every open task by why it is not theirs; the counts add up to the queue's depth", async () => {
    const project = await withTasks(7, { overlap: 2 });
    const [me, other, third] = await Promise.all([1, 2, 3].map(() => createUser(a, admin, 'rater', project)));
    const claim = async (token: string) => (await a.request('POST', project.path('/tasks/claim'), { token, body: {} })).body.task as { id: string };
    const answer = async (token: string, taskId: string) =>
      expect((await a.request('POST', project.path(`/tasks/${taskId}/annotations`), { token, body: { id: randomUUID(), label: 'ham' } })).status).toBe(201);
    // me: two answered (waiting for a second rater), one skipped, two held
    for (let i = 0; i < 2; i++) await answer(me.token, (await claim(me.token)).id);
    const skipped = await claim(me.token);
    expect((await a.request('POST', project.path(`/tasks/${skipped.id}/skip`), { token: me.token, body: { reason: 'skip' } })).status).toBe(200);
    await claim(me.token);
    await claim(me.token);
    // the last two tasks: each held by both of its other raters (no slot free for me)
    for (const token of [other.token, third.token]) {
      for (;;) {
        const task = await claim(token);
        const [{ held }] = await a.sql(`SELECT count(*)::int AS held FROM task_leases WHERE rater_id = $1 AND expires_at > now()`, [
          token === other.token ? other.id : third.id,
        ]);
        if (!task || held >= 2) break;
      }
    }
    const mine = await a.request('GET', project.path('/queue/mine'), { token: me.token });
    expect(mine.status).toBe(200);
    const depth = (await a.request('GET', project.path('/queue'), { token: me.token })).body.depth;
    expect(mine.body).toMatchObject({ project: project.slug, open: depth, answeredByYou: 2, skippedByYou: 1, heldByYou: 2 });
    const { answeredByYou, skippedByYou, heldByYou, heldByOthers, forYou, open } = mine.body;
    expect(answeredByYou + skippedByYou + heldByYou + heldByOthers + forYou).toBe(open);
    expect(open).toBe(7);
    // what is left: the two tasks the others hold, none free
    const slotsFree = await a.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks t WHERE t.project_id = $1 AND t.state = 'queued'
          AND NOT EXISTS (SELECT 1 FROM annotations x WHERE x.task_id = t.id AND x.rater_id = $2)
          AND NOT EXISTS (SELECT 1 FROM task_skips x WHERE x.task_id = t.id AND x.rater_id = $2)
          AND NOT EXISTS (SELECT 1 FROM task_leases x WHERE x.task_id = t.id AND x.rater_id = $2 AND x.expires_at > now())
          AND t.required_annotations - t.annotations_count > (SELECT count(*) FROM task_leases x WHERE x.task_id = t.id AND x.expires_at > now())`,
      [project.id, me.id],
    );
    expect(forYou).toBe(slotsFree[0].n);
    expect(heldByOthers).toBe(open - answeredByYou - skippedByYou - heldByYou - forYou);
  });

  it("hands raters the project's layout (a masked field left out of it, even as a name) and its undo window", async () => {
    const project = await withTasks(
      1,
      {
        maskedFields: ['sender'],
        labeling: { goldRate: 0, layout: { fields: ['sender', 'subject', 'body'], primary: 'sender' }, undoSeconds: 8 },
      },
      () => ({ subject: 'Hello', body: 'Long text', sender: 'me@example.com' }),
    );
    const rater = await createUser(a, admin, 'rater', project);
    const socket = await connect(a, rater.token);
    const { task } = await ack(socket, 'task:claim', { project: project.slug });
    expect(task.layout).toEqual({ fields: ['subject', 'body'], primary: null });
    expect(task.undoSeconds).toBe(8);
    expect(JSON.stringify(task)).not.toContain('sender');

    // unset: no layout (the page lays the input out by default), and the default window
    const plain = await withTasks(1);
    const another = await createUser(a, admin, 'rater', plain);
    const bare = (await a.request('POST', plain.path('/tasks/claim'), { token: another.token, body: {} })).body.task;
    expect(bare.layout).toBeUndefined();
    expect(bare.undoSeconds).toBe(5);

    // an admin sets it through the project's settings, checked like any setting
    const refused = await a.request('PATCH', plain.path(''), { token: admin, body: { labeling: { layout: { fields: ['a', 'a'], primary: null } } } });
    expect(refused.status).toBe(400);
    expect(refused.body.field).toMatch(/^labeling\.layout\.fields/);
    const saved = await a.request('PATCH', plain.path(''), {
      token: admin,
      body: { labeling: { layout: { fields: ['subject', 'text'], primary: 'text' }, undoSeconds: 0 } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.labeling).toMatchObject({ layout: { fields: ['subject', 'text'], primary: 'text' }, undoSeconds: 0 });
  });
});

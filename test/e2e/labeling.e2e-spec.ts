import { randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import { Decoder, Encoder } from 'socket.io-parser';
import { DomainEvents } from '../../server/src/common/events/domain-events';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

const LABELS = [
  { name: 'ham', hotkey: '1' },
  { name: 'spam', hotkey: '2' },
  { name: 'promo', hotkey: '3' },
];

describe('labeling: leases, answers, consensus, review', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  /** A project where every prediction becomes a task, and `n` of them routed. */
  async function withTasks(n: number, extra: Record<string, unknown> = {}, input: (i: number) => Record<string, unknown> = (i) => ({ text: `mail ${i}` })) {
    const project = await createProject(app, admin, { labels: LABELS, routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 }, ...extra });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const predictions = Array.from({ length: n }, (_, i) =>
      predictionBody(
        { input: input(i), scores: { ham: 0.5, spam: 0.3, promo: 0.2 } },
        LABELS.map((l) => l.name),
      ),
    );
    if (n) expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
    const raters = async (count: number, role: 'rater' | 'reviewer' = 'rater') =>
      Promise.all(Array.from({ length: count }, () => createUser(app, admin, role, project)));
    const path = (suffix: string) => `/api/v1/projects/${project.slug}${suffix}`;
    const claim = (token: string) => app.request('POST', path('/tasks/claim'), { token, body: {} });
    const submit = (token: string, taskId: string, label: string, id: string = randomUUID()) =>
      app.request('POST', path(`/tasks/${taskId}/annotations`), { token, body: { id, label } });
    const labelAll = async (token: string, label: string) => {
      let done = 0;
      for (;;) {
        const { body } = await claim(token);
        if (!body.task) return done;
        expect((await submit(token, body.task.id, label)).status).toBe(201);
        done++;
      }
    };
    return { ...project, key, predictions, raters, path, claim, submit, labelAll };
  }

  it('gives each task to k distinct raters, never twice to one, and writes the consensus label', async () => {
    const project = await withTasks(12, { overlap: 2 });
    const [a, b, c] = await project.raters(3);
    expect(await project.labelAll(a.token, 'ham')).toBe(12);
    expect(await project.labelAll(a.token, 'ham')).toBe(0); // never the same task twice
    expect(await project.labelAll(b.token, 'ham')).toBe(12);
    expect(await project.labelAll(c.token, 'ham')).toBe(0); // overlap met
    const labels = await app.sql(`SELECT value, source, agreement, task_id FROM labels WHERE project_id = $1 AND superseded_at IS NULL`, [project.id]);
    expect(labels).toHaveLength(12);
    expect(labels.every((l) => l.value === 'ham' && l.source === 'consensus' && l.agreement === 1 && l.task_id)).toBe(true);
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM tasks WHERE project_id = $1 AND state = 'completed' AND annotations_count = 2`, [project.id]);
    expect(n).toBe(12);
  });

  it("reports each rater's answers, median time and agreement with the final labels", async () => {
    const project = await withTasks(3, { overlap: 2, labeling: { agreementThreshold: 0.6, maxAnnotations: 2 } });
    const [a, b] = await project.raters(2);
    const times = [1000, 3000, 5000];
    for (const [i, label] of ['ham', 'ham', 'spam'].entries()) {
      const { task } = (await project.claim(a.token)).body;
      expect(
        (await app.request('POST', project.path(`/tasks/${task.id}/annotations`), { token: a.token, body: { id: randomUUID(), label, timeSpentMs: times[i] } }))
          .status,
      ).toBe(201);
    }
    await project.labelAll(b.token, 'ham'); // agrees twice (consensus ham), disagrees once (review: no final label)
    const { raters } = (await app.request('GET', project.path('/raters'), { token: admin })).body;
    const byId = new Map(raters.map((r: { raterId: string }) => [r.raterId, r]));
    expect(byId.get(a.id)).toMatchObject({ annotations: 3, medianTimeMs: 3000, agreement: 1 });
    expect(byId.get(b.id)).toMatchObject({ annotations: 3, medianTimeMs: null, agreement: 1 });
  });

  it('adds a rater on disagreement, then sends the task to review, where a reviewer decides', async () => {
    const project = await withTasks(2, { overlap: 2, labeling: { agreementThreshold: 0.6, maxAnnotations: 3 } });
    const [a, b, c] = await project.raters(3);
    const [reviewer] = await project.raters(1, 'reviewer');
    await project.labelAll(a.token, 'ham');
    await project.labelAll(b.token, 'spam');
    const escalated = await app.sql(`SELECT state, required_annotations FROM tasks WHERE project_id = $1`, [project.id]);
    expect(escalated.every((t) => t.state === 'escalated' && t.required_annotations === 3)).toBe(true);
    // the third rater settles the first task and splits the second three ways
    const first = (await project.claim(c.token)).body.task;
    expect((await project.submit(c.token, first.id, 'ham')).body.taskState).toBe('completed');
    const second = (await project.claim(c.token)).body.task;
    expect((await project.submit(c.token, second.id, 'promo')).body.taskState).toBe('review');
    const [agreed] = await app.sql(`SELECT value, agreement, source FROM labels l JOIN tasks t ON t.id = l.task_id WHERE t.id = $1`, [first.id]);
    expect(agreed).toMatchObject({ value: 'ham', source: 'consensus' });
    expect(agreed.agreement).toBeCloseTo(2 / 3);

    // raters do not see review work; the reviewer does
    expect((await project.claim(c.token)).body.task).toBeNull();
    expect((await app.request('POST', project.path('/review/claim'), { token: c.token, body: {} })).status).toBe(403);
    const inReview = (await app.request('POST', project.path('/review/claim'), { token: reviewer.token, body: {} })).body.task;
    expect(inReview.id).toBe(second.id);
    expect(inReview.review).toEqual({
      answers: [
        { label: 'ham', count: 1 },
        { label: 'promo', count: 1 },
        { label: 'spam', count: 1 },
      ],
      agreement: 1 / 3,
      reports: [],
      // every rater's answers side by side, in the order they came
      annotations: [{ answers: { label: 'ham' } }, { answers: { label: 'spam' } }, { answers: { label: 'promo' } }],
    });
    const decided = await app.request('POST', project.path(`/tasks/${second.id}/review`), { token: reviewer.token, body: { label: 'spam' } });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ taskState: 'completed', label: 'spam' });
    expect(decided.body.agreement).toBeCloseTo(1 / 3);
    const [reviewed] = await app.sql(`SELECT value, source FROM labels WHERE task_id = $1 AND superseded_at IS NULL`, [second.id]);
    expect(reviewed).toEqual({ value: 'spam', source: 'review' });
    expect((await app.request('POST', project.path(`/tasks/${second.id}/review`), { token: reviewer.token, body: { label: 'ham' } })).body.code).toBe(
      'labeling/not_in_review',
    );
  });

  it('takes an answer back while the task is open, hands the task back, and keeps the rater at two leases', async () => {
    const project = await withTasks(4, { overlap: 2 });
    const [a, b] = await project.raters(2);
    const undo = (token: string, taskId: string, annotationId: string) =>
      app.request('DELETE', project.path(`/tasks/${taskId}/annotations/${annotationId}`), { token });
    const first = (await project.claim(a.token)).body.task;
    const ahead = (await project.claim(a.token)).body.task;
    const answer = randomUUID();
    expect((await project.submit(a.token, first.id, 'ham', answer)).status).toBe(201);
    const third = (await project.claim(a.token)).body.task; // the screen moved on: a holds two again
    expect(third.id).not.toBe(first.id);

    // someone else cannot take a's answer back
    const foreign = await undo(b.token, first.id, answer);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'labeling/annotation_not_found', field: 'annotationId' });

    const back = await undo(a.token, first.id, answer);
    expect(back.status).toBe(200);
    expect(back.body.task.id).toBe(first.id);
    expect(back.body.task.input).toEqual(first.input);
    // the task held last (the third) goes back to the queue: a still holds two
    expect(back.body.released).toBe(third.id);
    const leases = await app.sql(`SELECT task_id FROM task_leases WHERE rater_id = $1 AND expires_at > now() ORDER BY task_id`, [a.id]);
    expect(leases.map((l) => l.task_id)).toEqual([first.id, ahead.id].sort());
    const [task] = await app.sql(`SELECT annotations_count, state FROM tasks WHERE id = $1`, [first.id]);
    expect(task).toEqual({ annotations_count: 0, state: 'queued' });
    expect(await app.sql(`SELECT 1 FROM annotations WHERE id = $1`, [answer])).toEqual([]);

    // a answers again, differently; b's answer then settles the task
    expect((await project.submit(a.token, first.id, 'spam')).status).toBe(201);
    const claimedByB = [(await project.claim(b.token)).body.task, (await project.claim(b.token)).body.task];
    const mine = claimedByB.find((t) => t.id === first.id) ?? claimedByB[0];
    expect(mine.id).toBe(first.id);
    const settled = await project.submit(b.token, first.id, 'spam');
    expect(settled.body.taskState).toBe('completed');
    const [label] = await app.sql(`SELECT value FROM labels WHERE task_id = $1`, [first.id]);
    expect(label.value).toBe('spam');

    // once the task has its answers, nobody can take theirs back
    const last = await app.sql(`SELECT id FROM annotations WHERE task_id = $1 AND rater_id = $2`, [first.id, b.id]);
    const late = await undo(b.token, first.id, last[0].id);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('labeling/undo_closed');
  });

  it('charts the last minutes of work for admins: tasks made, done and open, answers, raters', async () => {
    const project = await withTasks(5);
    const [a, b] = await project.raters(2);
    for (const rater of [a, b]) {
      const { task } = (await project.claim(rater.token)).body;
      expect((await project.submit(rater.token, task.id, 'ham')).status).toBe(201);
    }
    const held = (await project.claim(a.token)).body.task;
    expect(held).toBeTruthy();
    const reply = await app.request('GET', project.path('/operations?minutes=5'), { token: admin });
    expect(reply.status).toBe(200);
    const { points, activeRaters } = reply.body;
    expect(points).toHaveLength(5);
    const sum = (key: string) => points.reduce((total: number, p: Record<string, number>) => total + p[key], 0);
    expect(sum('created')).toBe(5);
    expect(sum('done')).toBe(2);
    expect(sum('answers')).toBe(2);
    expect(points.at(-1).open).toBe(3);
    expect(Math.max(...points.map((p: { raters: number }) => p.raters))).toBeGreaterThanOrEqual(1);
    expect(activeRaters).toBe(1);
    expect(new Date(points[1].at).getTime() - new Date(points[0].at).getTime()).toBe(60_000);

    expect((await app.request('GET', project.path('/operations'), { token: a.token })).status).toBe(403);
    const bad = await app.request('GET', project.path('/operations?minutes=1'), { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('query.minutes');
  });

  it('counts the tasks open when the chart begins from the tasks made before it: done before, done within, still queued, in review', async () => {
    const project = await withTasks(8);
    const tasks: Array<{ id: string }> = await app.sql(`SELECT id FROM tasks WHERE project_id = $1 ORDER BY id`, [project.id]);
    const set = (i: number, state: string, created: string, completed: string | null) =>
      app.sql(
        `UPDATE tasks SET state = $2, created_at = now() - $3::interval, completed_at = CASE WHEN $4::text IS NULL THEN NULL ELSE now() - $4::interval END WHERE id = $1`,
        [tasks[i].id, state, created, completed],
      );
    await set(0, 'completed', '3 hours', '2 hours'); // done before the chart: not open at its start
    await set(1, 'completed', '3 hours', '90 minutes');
    await set(2, 'completed', '3 hours', '10 minutes'); // done within it: open at its start
    await set(3, 'completed', '2 hours', '30 seconds');
    await set(4, 'queued', '2 hours', null); // still waiting
    await set(5, 'review', '2 hours', null); // in review
    await set(6, 'escalated', '5 minutes', null); // made within the chart
    await set(7, 'completed', '5 minutes', '2 minutes');
    const reply = await app.request('GET', project.path('/operations?minutes=60'), { token: admin });
    const points: Array<{ created: number; done: number; open: number }> = reply.body.points;
    const sum = (key: 'created' | 'done') => points.reduce((total, p) => total + p[key], 0);
    expect([sum('created'), sum('done')]).toEqual([2, 3]);
    // open at the start: tasks 2, 3, 4 and 5; then two made and three done
    expect(points[0].open - points[0].created + points[0].done).toBe(4);
    expect(points.at(-1)!.open).toBe(4 + 2 - 3);
  });

  it('by default sends a disagreement straight to review: no rater beyond the overlap', async () => {
    const project = await withTasks(2, { overlap: 2 });
    const [a, b, c] = await project.raters(3);
    await project.labelAll(a.token, 'ham');
    await project.labelAll(b.token, 'spam');
    const tasks = await app.sql(`SELECT state, required_annotations, annotations_count FROM tasks WHERE project_id = $1`, [project.id]);
    expect(tasks).toEqual([
      { state: 'review', required_annotations: 2, annotations_count: 2 },
      { state: 'review', required_annotations: 2, annotations_count: 2 },
    ]);
    expect((await project.claim(c.token)).body.task).toBeNull();
  });

  it('answers a retried submit without storing it twice, and refuses what it must with a code', async () => {
    const project = await withTasks(2);
    const [a, b] = await project.raters(2);
    const task = (await project.claim(a.token)).body.task;
    const id = randomUUID();
    const first = await project.submit(a.token, task.id, 'spam', id);
    expect(first.status).toBe(201);
    const retry = await project.submit(a.token, task.id, 'spam', id);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ duplicate: true, taskState: 'completed', annotation: { id, label: 'spam' } });
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM annotations WHERE task_id = $1`, [task.id]);
    expect(n).toBe(1);

    const other = (await project.claim(a.token)).body.task;
    const refusals: Array<[Promise<{ status: number; body: any }>, number, string, string?]> = [
      [project.submit(a.token, other.id, 'spam', id), 409, 'labeling/annotation_id_conflict', 'id'],
      [project.submit(a.token, task.id, 'ham'), 409, 'labeling/already_annotated'],
      [project.submit(b.token, task.id, 'ham'), 409, 'labeling/task_complete'],
      [project.submit(b.token, other.id, 'ham'), 409, 'labeling/not_claimed'],
      [project.submit(a.token, other.id, 'nope'), 400, 'labeling/unknown_label', 'label'],
      [project.submit(a.token, randomUUID(), 'ham'), 404, 'labeling/task_not_found'],
      [
        app.request('POST', project.path(`/tasks/${other.id}/annotations`), { token: a.token, body: { id: 'x', label: 'ham' } }),
        400,
        'validation/invalid',
        'id',
      ],
      [
        app.request('POST', project.path('/tasks/not-a-uuid/annotations'), { token: a.token, body: { id: randomUUID(), label: 'ham' } }),
        400,
        'validation/invalid',
        'id',
      ],
    ];
    for (const [response, status, code, field] of refusals) {
      const { status: got, body } = await response;
      expect([got, body.code]).toEqual([status, code]);
      if (field) expect(body.field).toBe(field);
    }
    const [{ total }] = await app.sql(`SELECT count(*)::int AS total FROM annotations WHERE project_id = $1`, [project.id]);
    expect(total).toBe(1);
  });

  it('holds at most two leases per rater, frees an expired lease without a sweeper, and takes a late answer while it is needed', async () => {
    const project = await withTasks(3);
    const [a, b] = await project.raters(2);
    const first = (await project.claim(a.token)).body.task;
    const second = (await project.claim(a.token)).body.task;
    expect(second.id).not.toBe(first.id);
    expect((await project.claim(a.token)).body.task.id).toBe(first.id); // the oldest held, again
    const alive = await app.request('POST', project.path(`/tasks/${first.id}/heartbeat`), { token: a.token });
    expect([alive.status, alive.body.code]).toEqual([200, undefined]);

    // a's leases run out: b gets those tasks, with no sweeper having run
    await app.sql(`UPDATE task_leases SET expires_at = now() - interval '1 second' WHERE rater_id = $1`, [a.id]);
    const heartbeat = await app.request('POST', project.path(`/tasks/${first.id}/heartbeat`), { token: a.token });
    expect([heartbeat.status, heartbeat.body.code]).toEqual([409, 'labeling/lease_expired']);
    const taken = [(await project.claim(b.token)).body.task.id, (await project.claim(b.token)).body.task.id];
    expect(taken).toEqual([first.id, second.id]);
    // a answers late: accepted, since the task still needs an answer; b's answer then comes too late
    const late = await project.submit(a.token, first.id, 'ham');
    expect(late.status).toBe(201);
    expect(late.body.annotation.late).toBe(true);
    expect((await project.submit(b.token, first.id, 'ham')).body.code).toBe('labeling/task_complete');
  });

  it('lets a rater skip a task (not offered to them again) or report it to review', async () => {
    const project = await withTasks(2);
    const [a, b] = await project.raters(2);
    const first = (await project.claim(a.token)).body.task;
    expect((await app.request('POST', project.path(`/tasks/${first.id}/skip`), { token: a.token, body: { reason: 'skip', note: 'unreadable' } })).status).toBe(
      200,
    );
    const second = (await project.claim(a.token)).body.task;
    expect(second.id).not.toBe(first.id);
    const reported = await app.request('POST', project.path(`/tasks/${second.id}/skip`), {
      token: a.token,
      body: { reason: 'problem', note: 'the text is cut off' },
    });
    expect(reported.body.taskState).toBe('review');
    // the reviewer sees the report with the task
    const [reviewer] = await project.raters(1, 'reviewer');
    const inReview = (await app.request('POST', project.path('/review/claim'), { token: reviewer.token, body: {} })).body.task;
    expect(inReview.id).toBe(second.id);
    expect(inReview.review).toEqual({ answers: [], agreement: 0, reports: ['the text is cut off'], annotations: [] });
    expect((await project.claim(a.token)).body.task).toBeNull();
    expect((await project.claim(b.token)).body.task.id).toBe(first.id);
    expect((await app.request('POST', project.path(`/tasks/${first.id}/skip`), { token: a.token, body: { reason: 'bored' } })).body.field).toBe('reason');
  });

  it('never shows a rater the masked fields, and hides the prediction unless the project shows it', async () => {
    const project = await withTasks(1, { maskedFields: ['email', 'ssn'], overlap: 2 }, () => ({
      text: 'hello',
      email: 'x@example.com',
      name: 'n',
      ssn: '123-45',
    }));
    const [a, b] = await project.raters(2);
    const { task } = (await project.claim(a.token)).body;
    expect(task.input).toEqual({ text: 'hello', name: 'n' });
    expect(task.suggestion).toBeUndefined();
    expect(JSON.stringify(task)).not.toMatch(/x@example\.com|123-45|reason|uncertain/);
    await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { labeling: { showPrediction: true } } });
    const shown = (await project.claim(b.token)).body.task;
    expect(shown.suggestion).toEqual({ label: 'ham', scores: { ham: 0.5, spam: 0.3, promo: 0.2 } });
    expect(shown.input.email).toBeUndefined();
  });

  it('lets a human label win over a feedback label, keeping both as history', async () => {
    const project = await withTasks(0, { feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] } });
    const prediction = predictionBody(
      { scores: { ham: 0.5, spam: 0.3, promo: 0.2 } },
      LABELS.map((l) => l.name),
    );
    await app.request('POST', project.path('/predictions'), { token: project.key, body: prediction });
    await app.request('POST', project.path('/feedback'), {
      token: project.key,
      body: { id: `click-${prediction.id}`, predictionId: prediction.id, type: 'click' },
    });
    const [rater] = await project.raters(1);
    const task = (await project.claim(rater.token)).body.task;
    await project.submit(rater.token, task.id, 'spam');
    const history = await app.sql(`SELECT value, source, superseded_at IS NULL AS current FROM labels WHERE prediction_id = $1 ORDER BY id`, [prediction.id]);
    expect(history).toEqual([
      { value: 'ham', source: 'feedback', current: false },
      { value: 'spam', source: 'consensus', current: true },
    ]);
  });

  it('keeps raters to their projects and admins-only routes to admins', async () => {
    const project = await withTasks(1);
    const elsewhere = await createProject(app, admin);
    const outsider = await createUser(app, admin, 'rater', elsewhere);
    const task = (await app.sql(`SELECT id FROM tasks WHERE project_id = $1`, [project.id]))[0];
    for (const [method, suffix, body] of [
      ['POST', '/tasks/claim', {}],
      ['POST', `/tasks/${task.id}/annotations`, { id: randomUUID(), label: 'ham' }],
      ['POST', `/tasks/${task.id}/skip`, {}],
      ['POST', `/tasks/${task.id}/heartbeat`, undefined],
      ['GET', '/queue', undefined],
    ] as const) {
      const response = await app.request(method, project.path(suffix), { token: outsider.token, body });
      expect([suffix, response.status]).toEqual([suffix, 403]);
      expect((await app.request(method, project.path(suffix), { token: project.key, body })).status).toBe(403);
    }
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM task_leases WHERE task_id = $1`, [task.id]);
    expect(n).toBe(0);
  });

  describe('gold', () => {
    it("mixes gold into a rater's stream looking like any task, and pauses a rater who gets it wrong", async () => {
      const project = await withTasks(30, { labeling: { goldRate: 0.5, goldMinAnswers: 3, goldMinAccuracy: 0.7 } });
      const gold = { items: [0, 1, 2, 3].map((i) => ({ input: { text: `gold ${i}` }, label: 'spam' })) };
      const added = await app.request('POST', project.path('/gold'), { token: admin, body: gold });
      expect([added.status, added.body]).toEqual([201, { created: 4, skipped: 0 }]);
      const goldTasks = new Set((await app.sql(`SELECT id FROM tasks WHERE project_id = $1 AND gold_item_id IS NOT NULL`, [project.id])).map((r) => r.id));
      const [rater] = await project.raters(1);
      const paused = new Promise<unknown>((resolve) => {
        const off = app.app.get(DomainEvents).on('rater.paused', (event) => {
          off();
          resolve(event);
        });
      });
      const shapes = new Set<string>();
      let goldSeen = 0;
      let status = 200;
      while (status === 200) {
        const claimed = await project.claim(rater.token);
        status = claimed.status;
        if (status !== 200) {
          expect(claimed.body.code).toBe('labeling/rater_paused');
          break;
        }
        const { task } = claimed.body;
        expect(task).not.toBeNull();
        shapes.add(Object.keys(task).sort().join(','));
        const isGold = goldTasks.has(task.id);
        if (isGold) goldSeen++;
        // right on the first gold item, wrong on the next two: 1 of 3 is below 0.7
        const label = isGold && goldSeen > 1 ? 'ham' : 'spam';
        expect((await project.submit(rater.token, task.id, label)).body.taskState).toBe('completed');
      }
      expect(goldSeen).toBe(3);
      expect(shapes.size).toBe(1); // gold and routed tasks have the same shape
      expect(await paused).toMatchObject({ projectId: project.id, raterId: rater.id, goldAnswers: 3 });
      const quality = await app.request('GET', project.path('/raters'), { token: admin });
      // (gold answers are not agreement: whether the rater also answered routed tasks here depends on the draw)
      expect(quality.body.raters).toEqual([
        expect.objectContaining({ raterId: rater.id, goldAnswers: 3, goldAccuracy: 1 / 3, medianTimeMs: null, pausedAt: expect.any(String) }),
      ]);
      expect((await app.sql(`SELECT count(*)::int AS n FROM audit_log WHERE project_id = $1 AND action = 'rater.paused'`, [project.id]))[0].n).toBe(1);
      // gold answers never decide a prediction's label
      expect(
        (await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND task_id = ANY($2::uuid[])`, [project.id, [...goldTasks]]))[0].n,
      ).toBe(0);

      expect((await app.request('POST', project.path(`/raters/${rater.id}/resume`), { token: admin })).status).toBe(204);
      expect((await project.claim(rater.token)).status).toBe(200);
      expect((await app.request('POST', project.path(`/raters/${rater.id}/resume`), { token: admin })).body.code).toBe('labeling/rater_not_paused');
    });

    it('promotes finished labels to gold once, and refuses bad gold', async () => {
      const project = await withTasks(2, { labeling: { goldRate: 0 } });
      const [rater] = await project.raters(1);
      await project.labelAll(rater.token, 'promo');
      const [labeled, unlabeled] = [project.predictions[0].id, randomUUID()];
      const promote = (ids: string[]) => app.request('POST', project.path('/gold/promote'), { token: admin, body: { predictionIds: ids } });
      expect((await promote([labeled, unlabeled])).body).toEqual({ created: 1, skipped: 1 });
      expect((await promote([labeled])).body).toEqual({ created: 0, skipped: 1 });
      const [item] = await app.sql(`SELECT label, input FROM gold_items WHERE project_id = $1`, [project.id]);
      expect(item).toEqual({ label: 'promo', input: project.predictions[0].input });

      const bad = await app.request('POST', project.path('/gold'), { token: admin, body: { items: [{ input: { a: 1 }, label: 'nope' }] } });
      expect([bad.status, bad.body.field]).toEqual([400, 'items.0.label']);
      const nested = await app.request('POST', project.path('/gold'), { token: admin, body: { items: [{ input: { a: { b: 1 } }, label: 'ham' }] } });
      expect([nested.status, nested.body.field]).toEqual([400, 'items.0.input.a']);
      expect((await app.request('POST', project.path('/gold'), { token: rater.token, body: { items: [{ input: { a: 1 }, label: 'ham' }] } })).status).toBe(403);
      expect((await app.sql(`SELECT count(*)::int AS n FROM gold_items WHERE project_id = $1`, [project.id]))[0].n).toBe(1);
    });
  });

  describe('over socket.io', () => {
    const sockets: Socket[] = [];
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.close();
    });

    /** A socket that records every raw frame it receives. */
    async function connect(token: string | undefined): Promise<{ socket: Socket; frames: string[]; error?: Error }> {
      const frames: string[] = [];
      const socket = io(`${app.url}/labeling`, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(socket);
      socket.io.engine?.on('packet', (packet: { data?: unknown }) => frames.push(String(packet.data)));
      socket.io.on('open', () => socket.io.engine.on('packet', (packet: { data?: unknown }) => frames.push(String(packet.data))));
      const error = await new Promise<Error | undefined>((resolve) => {
        socket.once('connect', () => resolve(undefined));
        socket.once('connect_error', (e) => resolve(e));
      });
      return { socket, frames, error };
    }
    const ack = <T = any>(socket: Socket, event: string, body: unknown) => socket.timeout(10_000).emitWithAck(event, body) as Promise<T>;

    it('refuses a socket without a valid session at connect', async () => {
      expect((await connect(undefined)).error?.message).toMatch(/unauthenticated/);
      expect((await connect('bfs_not-a-session')).error?.message).toMatch(/unauthenticated/);
      const project = await withTasks(0);
      expect((await connect(project.key)).error?.message).toMatch(/API keys/);
    });

    it('claims and submits with acknowledgements, with the masked fields absent from every frame', async () => {
      const project = await withTasks(3, { maskedFields: ['secret'] }, (i) => ({ text: `m${i}`, secret: `s3cr3t-${i}` }));
      const [rater] = await project.raters(1);
      const { socket, frames } = await connect(rater.token);
      let done = 0;
      for (;;) {
        const reply = await ack(socket, 'task:claim', { project: project.slug });
        if (!reply.task) break;
        expect(reply.task.input.secret).toBeUndefined();
        const submitted = await ack(socket, 'task:submit', { project: project.slug, taskId: reply.task.id, annotation: { id: randomUUID(), label: 'spam' } });
        expect(submitted.taskState).toBe('completed');
        // (no `next` asked: the reply is the REST one)
        expect(submitted).not.toHaveProperty('next');
        done++;
      }
      expect(done).toBe(3);
      expect(frames.length).toBeGreaterThan(5);
      expect(frames.join('\n')).not.toContain('s3cr3t');
      const bad = await ack(socket, 'task:submit', { project: project.slug, taskId: 'nope', annotation: { id: randomUUID(), label: 'spam' } });
      expect(bad.error).toMatchObject({ code: 'validation/invalid', field: 'taskId' });
    });

    it('refuses a submit holding a number below the smallest double or a NUL, naming the field, and keeps the task open', async () => {
      const project = await withTasks(1);
      const [rater] = await project.raters(1);
      // JSON.stringify cannot write 1e-400 or 9007199254740993: this client's encoder puts them in the frame's text in place of markers
      class TinyEncoder extends Encoder {
        override encode(packet: Parameters<Encoder['encode']>[0]) {
          return super.encode(packet).map((part) => (typeof part === 'string' ? part.replace(/"<([-+.\de]+)>"/g, '$1') : part));
        }
      }
      const socket = io(`${app.url}/labeling`, {
        auth: { token: rater.token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        parser: { Encoder: TinyEncoder, Decoder },
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
      const { task } = await ack(socket, 'task:claim', { project: project.slug });
      const state = async () => (await app.sql(`SELECT state FROM tasks WHERE id = $1`, [task.id]))[0].state as string;
      const leased = await state();
      const submit = (annotation: Record<string, unknown>) =>
        ack(socket, 'task:submit', { project: project.slug, taskId: task.id, annotation: { id: randomUUID(), label: 'spam', ...annotation } });
      // (read as 0 it was a valid time spent, and stored as such)
      expect((await submit({ timeSpentMs: '<1e-400>' })).error).toMatchObject({ code: 'validation/number_underflow', field: 'annotation.timeSpentMs' });
      // (an integer past 2^53 reads as another one: named as such, not as a time out of range)
      expect((await submit({ timeSpentMs: '<9007199254740993>' })).error).toMatchObject({ code: 'validation/unsafe_integer', field: 'annotation.timeSpentMs' });
      expect((await submit({ label: 'sp\u0000am' })).error).toMatchObject({ code: 'validation/invalid_text', field: 'annotation.label' });
      expect(await state()).toBe(leased);
      expect((await submit({ timeSpentMs: 0 })).taskState).toBe('completed');
    });

    it('leases the next task with a submit that asks for it, and says why there is none without losing the answer', async () => {
      const project = await withTasks(5);
      const [rater] = await project.raters(1);
      const { socket } = await connect(rater.token);
      let task = (await ack(socket, 'task:claim', { project: project.slug })).task;
      const answered: string[] = [];
      const submit = (taskId: string) =>
        ack(socket, 'task:submit', { project: project.slug, taskId, annotation: { id: randomUUID(), label: 'ham' }, next: true });
      for (let i = 0; i < 5; i++) {
        if (i === 3) {
          // a refused submit leases nothing: the fifth task stays free while the rater holds the fourth
          const refused = await submit(answered[0]);
          expect(refused.error.code).toBe('labeling/already_annotated');
          expect(refused.next).toBeUndefined();
          expect(await app.sql(`SELECT task_id FROM task_leases WHERE rater_id = $1`, [rater.id])).toEqual([{ task_id: task.id }]);
        }
        const reply = await submit(task.id);
        expect(reply.taskState).toBe('completed');
        answered.push(task.id);
        if (i < 4) {
          // a lease like a claim's: another task, held by this rater
          expect(answered).not.toContain(reply.next.task.id);
          const [lease] = await app.sql(`SELECT rater_id FROM task_leases WHERE task_id = $1`, [reply.next.task.id]);
          expect(lease.rater_id).toBe(rater.id);
          task = reply.next.task;
        } else {
          expect(reply.next).toEqual({ task: null });
        }
      }
      expect(await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND superseded_at IS NULL`, [project.id])).toEqual([{ n: 5 }]);
    });

    it('refuses every event of a rater of another project', async () => {
      const project = await withTasks(1);
      const outsider = await createUser(app, admin, 'rater', await createProject(app, admin));
      const { socket } = await connect(outsider.token);
      const taskId = (await app.sql(`SELECT id FROM tasks WHERE project_id = $1`, [project.id]))[0].id;
      for (const [event, body] of [
        ['task:claim', { project: project.slug }],
        ['task:submit', { project: project.slug, taskId, annotation: { id: randomUUID(), label: 'ham' } }],
        ['task:skip', { project: project.slug, taskId }],
        ['task:heartbeat', { project: project.slug, taskId }],
      ] as const) {
        const reply = await ack(socket, event, body);
        expect([event, reply.error?.code]).toEqual([event, 'auth/not_a_member']);
      }
      const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM task_leases WHERE task_id = $1`, [taskId]);
      expect(n).toBe(0);
    });

    it('pushes a new task to an idle rater, queue stats to the room, and tells when a lease runs out', async () => {
      const project = await withTasks(0, { labeling: { leaseSeconds: 10 } });
      const [rater] = await project.raters(1);
      const { socket } = await connect(rater.token);
      expect((await ack(socket, 'task:claim', { project: project.slug })).task).toBeNull();
      const assigned = new Promise<any>((resolve) => socket.once('task:assigned', resolve));
      const stats = new Promise<any>((resolve) => socket.once('queue:stats', resolve));
      const expired = new Promise<any>((resolve) => socket.once('lease:expired', resolve));
      const prediction = predictionBody(
        { scores: { ham: 0.5, spam: 0.3, promo: 0.2 } },
        LABELS.map((l) => l.name),
      );
      expect((await app.request('POST', project.path('/predictions'), { token: project.key, body: prediction })).status).toBe(201);
      const { task } = await assigned;
      expect(task.input).toEqual(prediction.input);
      expect(await stats).toMatchObject({ project: project.slug, depth: 1 });
      // the pushed task is leased to them: nobody else gets it
      const [other] = await project.raters(1);
      expect((await project.claim(other.token)).body.task).toBeNull();
      expect(await expired).toEqual({ project: project.slug, taskId: task.id });
    }, 30_000);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';
import { startTestApp, type TestApp } from '../helpers/test-app';

const DAY_MS = 86_400_000;

describe('data explorer: search a project’s predictions a bounded page at a time, open one, relabel it, save views', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-explorer-'));
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: exportRoot });
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  async function seeded(n: number, overrides: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, {
      routing: { strategy: 'least_confidence', threshold: 0.35, explorationRate: 0, dedupeWindowMinutes: 0 },
      ...overrides,
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const bodies = Array.from({ length: n }, () => predictionBody());
    for (let i = 0; i < bodies.length; i += 100) {
      const reply = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: bodies.slice(i, i + 100) });
      expect(reply.status).toBe(200);
    }
    const search = (query: Record<string, string | number | string[]>, token = admin) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v));
      return app.request('GET', `/api/v1/projects/${project.slug}/explorer/predictions?${params.toString()}`, { token });
    };
    return { ...project, key, bodies, search };
  }

  /** Every page of a search, following `next`. */
  async function all(
    search: (q: Record<string, string | number | string[]>) => Promise<{ status: number; body: any }>,
    query: Record<string, string | number | string[]>,
  ) {
    const items: any[] = [];
    const pages: any[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const reply = await search({ ...query, ...(cursor && { cursor }) });
      expect(reply.status).toBe(200);
      pages.push(reply.body);
      items.push(...reply.body.items);
      cursor = reply.body.next ?? undefined;
      if (!cursor) break;
    }
    return { items, pages };
  }

  it('pages through every prediction once, newest first, and filters by slice, model version, confidence and text', async () => {
    const project = await seeded(230);
    const { items, pages } = await all(project.search, { limit: 50 });
    expect(pages).toHaveLength(5);
    expect(items).toHaveLength(230);
    expect(new Set(items.map((i) => i.id)).size).toBe(230);
    expect(new Set(items.map((i) => i.id))).toEqual(new Set(project.bodies.map((b) => b.id)));
    const received = items.map((i) => Date.parse(i.receivedAt));
    expect(received).toEqual([...received].sort((a, b) => b - a));
    expect(pages.at(-1).walked).toMatchObject({ order: 'arrival', partial: false });

    const oldest = await all(project.search, { sort: 'oldest', limit: 100 });
    expect(oldest.items.map((i) => i.id)).toEqual([...items].reverse().map((i) => i.id));

    const fr = await all(project.search, { slice: 'country:FR', limit: 40 });
    expect(fr.items.length).toBe(project.bodies.filter((b) => b.slice.country === 'FR').length);
    expect(fr.items.every((i) => i.slice.country === 'FR')).toBe(true);
    // as the routing and quality pages write a slice
    expect((await all(project.search, { slice: 'country=FR', limit: 40 })).items.map((i) => i.id)).toEqual(fr.items.map((i) => i.id));
    const frMobile = await all(project.search, { slice: ['country:FR', 'device:mobile'] });
    expect(frMobile.items.length).toBe(project.bodies.filter((b) => b.slice.country === 'FR' && b.slice.device === 'mobile').length);

    const sure = await all(project.search, { minConfidence: 0.9 });
    expect(sure.items.length).toBe(project.bodies.filter((b) => b.scores.ham >= 0.9).length);
    expect(sure.items.every((i) => i.confidence >= 0.9)).toBe(true);

    const subject = project.bodies[17].input.subject;
    const text = await project.search({ q: `${subject.toUpperCase()}` });
    // "Offer number 17" also finds "Offer number 170…": every hit holds the text
    expect(text.body.items.map((i: any) => i.id)).toContain(project.bodies[17].id);
    expect(text.body.items.every((i: any) => i.preview.length > 0)).toBe(true);
    expect((await project.search({ q: '100%_' })).body.items).toEqual([]);
    expect((await project.search({ modelVersion: 'nope' })).body.items).toEqual([]);
    expect((await project.search({ modelVersion: '1.4.0', limit: 1 })).body.items).toHaveLength(1);
  });

  it('finds labeled and routed predictions by walking labels and tasks, and what was never routed', async () => {
    const project = await seeded(120);
    const [{ n: tasks }] = await app.sql(`SELECT count(*)::int AS n FROM tasks WHERE project_id = $1`, [project.id]);
    expect(tasks).toBeGreaterThan(5);
    const routed = await all(project.search, { task: 'any', limit: 7 });
    expect(routed.items).toHaveLength(tasks);
    expect(routed.pages[0].walked.order).toBe('task');
    expect(routed.items.every((i) => i.task?.reason === 'uncertain')).toBe(true);
    const never = await all(project.search, { task: 'none' });
    expect(never.items).toHaveLength(120 - tasks);
    expect(never.items.every((i) => i.task === null)).toBe(true);

    // a reviewer relabels one routed prediction: found by its label and its source
    const reviewer = await createUser(app, admin, 'reviewer', project);
    const target = routed.items[0].id;
    const relabel = await app.request('POST', `/api/v1/projects/${project.slug}/explorer/predictions/${target}/label`, {
      token: reviewer.token,
      body: { label: 'spam', reason: 'the sender is a known spammer' },
    });
    expect(relabel.status).toBe(200);
    const bySpam = await project.search({ label: 'spam' });
    expect(bySpam.body.items.map((i: any) => i.id)).toEqual([target]);
    expect(bySpam.body.walked.order).toBe('label');
    expect(bySpam.body.items[0].label).toMatchObject({ value: 'spam', source: 'review' });
    expect((await project.search({ source: 'review', reason: 'uncertain' })).body.items.map((i: any) => i.id)).toEqual([target]);
    expect((await project.search({ source: 'consensus' })).body.items).toEqual([]);
    const unlabeled = await all(project.search, { source: 'none', limit: 50 });
    expect(unlabeled.items).toHaveLength(119);
    expect(unlabeled.items.map((i) => i.id)).not.toContain(target);
  });

  it('keeps the walk’s order when a filter on labels or tasks is checked, even on a planner that would rather hash', async () => {
    const project = await seeded(150);
    const [{ n: tasks }] = await app.sql(`SELECT count(*)::int AS n FROM tasks WHERE project_id = $1`, [project.id]);
    expect(tasks).toBeGreaterThan(5);
    // a second node on the same database whose PostgreSQL plans no nested loop: an EXISTS would become a hash anti join,
    // handing the walk's rows on in the hash's order (at 20 million predictions the planner chose it by itself)
    const url = new URL(app.databaseUrl);
    url.searchParams.set('options', '-c enable_nestloop=off -c enable_mergejoin=off');
    const hashing = await startTestApp({}, { databaseUrl: url.toString() });
    try {
      const token = await hashing.login();
      const search = (query: Record<string, string | number | string[]>) => {
        const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
        return hashing.request('GET', `/api/v1/projects/${project.slug}/explorer/predictions?${params.toString()}`, { token });
      };
      const everything = await all(project.search, { limit: 100 });
      for (const query of [{ task: 'none' }, { source: 'none' }, { task: 'none', maxConfidence: 0.9 }]) {
        const expected = everything.items.filter(
          (i) => (query.task === 'none' ? i.task === null : i.label === null) && i.confidence <= (query.maxConfidence ?? 1),
        );
        const paged = await all(search, { ...query, limit: 20 });
        expect(paged.items.map((i) => i.id)).toEqual(expected.map((i) => i.id));
        expect(paged.pages.length).toBe(Math.ceil(expected.length / 20));
      }
    } finally {
      await hashing.close();
    }
  });

  it('answers a short page and a cursor when its walk reaches its budget, and finds a rare match by following it', async () => {
    const project = await seeded(1);
    // 25,000 older predictions by SQL (the setup, not what is searched), one of them holding the rare word
    await app.sql(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on, received_at)
       SELECT $1, gen_random_uuid(), 'm', '1', jsonb_build_object('subject', CASE WHEN i = 24990 THEN 'a zanzibar offer' ELSE 'plain mail ' || i END),
              '{"ham": 0.9, "spam": 0.1}', 'ham', 0.9, now() - interval '1 hour', (now() - interval '1 hour')::date, now() - interval '1 hour' - i * interval '1 millisecond'
         FROM generate_series(1, 25000) AS i`,
      [project.id],
    );
    const first = await project.search({ q: 'zanzibar' });
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([]);
    expect(first.body.walked).toMatchObject({ order: 'arrival', rows: 20_000, partial: true });
    expect(first.body.next).toEqual(expect.any(String));
    const second = await project.search({ q: 'zanzibar', cursor: first.body.next });
    expect(second.body.items.map((i: any) => i.preview)).toEqual(['a zanzibar offer']);
    expect(second.body.next).toBeNull();
    expect(second.body.walked.partial).toBe(false);
  });

  it('sorts by confidence within a window of at most a week, and refuses what it cannot do with a field-named 400', async () => {
    const project = await seeded(60);
    const least = await all(project.search, { sort: 'least_confident', limit: 25 });
    expect(least.items).toHaveLength(60);
    const confidences = least.items.map((i) => i.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
    expect(least.pages[0].walked.order).toBe('confidence');
    const most = await project.search({ sort: 'most_confident', limit: 3 });
    expect(most.body.items.map((i: any) => i.confidence)).toEqual([...confidences].reverse().slice(0, 3));

    const now = Date.now();
    const wide = await project.search({ sort: 'least_confident', from: new Date(now - 8 * DAY_MS).toISOString(), to: new Date(now).toISOString() });
    expect(wide.status).toBe(400);
    expect(wide.body).toMatchObject({ code: 'explorer/window_too_wide', field: 'to' });
    const byLabel = await project.search({ sort: 'least_confident', label: 'ham' });
    expect(byLabel.body).toMatchObject({ code: 'explorer/sort_unavailable', field: 'sort' });
    const badCursor = await project.search({ cursor: 'bm90IGEgY3Vyc29y' });
    expect(badCursor.body).toMatchObject({ code: 'explorer/invalid_cursor', field: 'cursor' });
    const page = await project.search({ limit: 5 });
    // a cursor of one walk is refused by another
    expect((await project.search({ sort: 'oldest', cursor: page.body.next })).body.code).toBe('explorer/invalid_cursor');
    expect((await project.search({ slice: 'no-colon' })).body).toMatchObject({ code: expect.stringMatching(/^validation\//), field: 'query.slice' });
    expect((await project.search({ limit: 500 })).status).toBe(400);
    expect((await project.search({ source: 'nope' })).status).toBe(400);
  });

  it('keeps masked fields from a reviewer: a dotted name is masked as the key it is, and search does not find a masked value', async () => {
    const project = await seeded(0, { maskedFields: ['email', 'user.phone'] });
    const body = predictionBody({ scores: { ham: 0.55, spam: 0.45 } });
    body.input = { ...body.input, email: 'alice@secret.example', 'user.phone': '+33 6 12 34 56 78' } as typeof body.input;
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: project.key, body })).status).toBe(201);
    const reviewer = await createUser(app, admin, 'reviewer', project);
    const rater = await createUser(app, admin, 'rater', project);
    const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
    expect(claimed.body.task.input).not.toHaveProperty('user.phone');
    expect(claimed.body.task.input).not.toHaveProperty('email');
    const opened = await app.request('GET', `/api/v1/projects/${project.slug}/explorer/predictions/${body.id}`, { token: reviewer.token });
    expect(JSON.stringify(opened.body)).not.toContain('12 34 56');
    expect(JSON.stringify(opened.body)).not.toContain('alice@secret');
    // a value guessed a character at a time is found by an admin only
    for (const q of ['alice@secret', '"email": "a', '12 34 56']) {
      expect((await project.search({ q }, reviewer.token)).body.items).toEqual([]);
      expect((await project.search({ q })).body.items.map((i: { id: string }) => i.id)).toEqual([body.id]);
    }
    expect((await project.search({ q: 'Offer number' }, reviewer.token)).body.items.map((i: { id: string }) => i.id)).toEqual([body.id]);
  });

  it('opens one example with its feedback, task, every answer, label history, the span that exported it and who relabeled it', async () => {
    const project = await seeded(0, {
      maskedFields: ['sender_domain'],
      overlap: 2,
      feedbackRules: { rules: [{ eventType: 'report', label: 'spam', windowMinutes: 60 }] },
    });
    const body = predictionBody({ scores: { ham: 0.55, spam: 0.45 } });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: project.key, body })).status).toBe(201);
    const [a, b] = [await createUser(app, admin, 'rater', project), await createUser(app, admin, 'rater', project)];
    for (const rater of [a, b]) {
      const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
      expect(claimed.body.task).toBeTruthy();
      const answered = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${claimed.body.task.id}/annotations`, {
        token: rater.token,
        body: { id: randomUUID(), label: 'ham' },
      });
      expect(answered.status).toBe(201);
    }
    const feedback = await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, {
      token: project.key,
      body: { id: `fb-${randomUUID()}`, predictionId: body.id, type: 'report' },
    });
    expect(feedback.status).toBeLessThan(300);
    // exported: the consensus label lands in span 1
    const writeKey = (await createApiKey(app, admin, project.slug, ['export:write'])).secret;
    const started = await app.request('POST', `/api/v1/projects/${project.slug}/exports`, { token: writeKey, body: {} });
    expect(started.status).toBe(202);
    for (let i = 0; i < 200; i++) {
      const job = await app.request('GET', `/api/v1/projects/${project.slug}/exports/${started.body.job.id}`, { token: writeKey });
      if (job.body.state !== 'writing') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const reviewer = await createUser(app, admin, 'reviewer', project);
    const relabeled = await app.request('POST', `/api/v1/projects/${project.slug}/explorer/predictions/${body.id}/label`, {
      token: reviewer.token,
      body: { label: 'spam', reason: 'reported, and the link is phishing' },
    });
    expect(relabeled.status).toBe(200);

    const opened = await app.request('GET', `/api/v1/projects/${project.slug}/explorer/predictions/${body.id}`, { token: reviewer.token });
    expect(opened.status).toBe(200);
    const example = opened.body;
    expect(example.prediction).toMatchObject({ id: body.id, predictedLabel: 'ham', confidence: 0.55, slice: body.slice, masked: ['sender_domain'] });
    // a reviewer never sees a masked field; an admin does
    expect(example.prediction.input).not.toHaveProperty('sender_domain');
    expect(example.prediction.input.subject).toBe(body.input.subject);
    const asAdmin = await app.request('GET', `/api/v1/projects/${project.slug}/explorer/predictions/${body.id}`, { token: admin });
    expect(asAdmin.body.prediction.input.sender_domain).toBe('example.com');
    expect(example.task).toMatchObject({ state: 'completed', reason: 'uncertain', requiredAnnotations: 2 });
    expect(example.answers.map((x: any) => [x.rater, x.label])).toEqual([
      [a.email, 'ham'],
      [b.email, 'ham'],
    ]);
    expect(example.feedback).toEqual([expect.objectContaining({ type: 'report' })]);
    // newest first: the relabel (current), the consensus (exported in span 1, now history) and the feedback label below it
    expect(example.labels.map((l: any) => [l.source, l.value, l.current])).toEqual([
      ['review', 'spam', true],
      ...example.labels.slice(1).map((l: any) => [l.source, l.value, false]),
    ]);
    const consensus = example.labels.find((l: any) => l.source === 'consensus');
    expect(consensus).toMatchObject({ value: 'ham', exported: [{ span: 1, at: expect.any(String) }] });
    expect(example.history).toEqual([
      expect.objectContaining({
        actor: reviewer.email,
        action: 'relabel',
        details: { previous: 'ham', label: 'spam', reason: 'reported, and the link is phishing' },
      }),
    ]);
    const [audit] = await app.sql(`SELECT action, details FROM audit_log WHERE target_id = $1`, [body.id]);
    expect(audit).toMatchObject({ action: 'label.relabeled', details: { previous: 'ham', label: 'spam' } });

    // refused at the door, nothing stored
    const unknown = await app.request('POST', `/api/v1/projects/${project.slug}/explorer/predictions/${body.id}/label`, {
      token: reviewer.token,
      body: { label: 'phish', reason: 'x' },
    });
    expect(unknown.body).toMatchObject({ code: 'explorer/unknown_label', field: 'label' });
    const noReason = await app.request('POST', `/api/v1/projects/${project.slug}/explorer/predictions/${body.id}/label`, {
      token: reviewer.token,
      body: { label: 'ham', reason: '  ' },
    });
    expect(noReason.body).toMatchObject({ field: 'reason' });
    expect((await app.request('GET', `/api/v1/projects/${project.slug}/explorer/predictions/${randomUUID()}`, { token: reviewer.token })).body.code).toBe(
      'explorer/prediction_not_found',
    );
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM relabels WHERE prediction_id = $1`, [body.id]);
    expect(n).toBe(1);
  });

  it("lists and opens a prediction by the model server's own request id", async () => {
    const project = await seeded(0);
    const body = predictionBody({ id: 'req-2026-12-05/42' });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: project.key, body })).status).toBe(201);
    const listed = await project.search({});
    expect(listed.body.items.map((i: any) => i.id)).toEqual(['req-2026-12-05/42']);
    const path = `/api/v1/projects/${project.slug}/explorer/predictions/${encodeURIComponent('req-2026-12-05/42')}`;
    const opened = await app.request('GET', path, { token: admin });
    expect(opened.status).toBe(200);
    expect(opened.body.prediction.id).toBe('req-2026-12-05/42');
    const relabeled = await app.request('POST', `${path}/label`, { token: admin, body: { label: 'spam', reason: 'checked by hand' } });
    expect(relabeled.body.labels[0]).toMatchObject({ value: 'spam', source: 'review', current: true });
    expect((await project.search({ label: 'spam' })).body.items.map((i: any) => i.id)).toEqual(['req-2026-12-05/42']);
  });

  it('keeps saved views per project, by name', async () => {
    const project = await seeded(0);
    const reviewer = await createUser(app, admin, 'reviewer', project);
    const views = `/api/v1/projects/${project.slug}/explorer/views`;
    const saved = await app.request('POST', views, {
      token: reviewer.token,
      body: { name: 'French mobile', filters: { slice: ['country:FR'], maxConfidence: 0.6 } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ name: 'French mobile', filters: { slice: ['country:FR'], maxConfidence: 0.6 }, createdBy: reviewer.email });
    // the same name (in any case) replaces it
    const replaced = await app.request('POST', views, { token: admin, body: { name: 'french MOBILE', filters: { source: 'none' } } });
    expect(replaced.body.id).toBe(saved.body.id);
    expect((await app.request('GET', views, { token: reviewer.token })).body).toEqual([
      expect.objectContaining({ id: saved.body.id, filters: { source: 'none' } }),
    ]);
    expect((await app.request('POST', views, { token: admin, body: { name: 'x', filters: { nope: 1 } } })).status).toBe(400);
    expect((await app.request('DELETE', `${views}/${saved.body.id}`, { token: reviewer.token })).status).toBe(204);
    expect((await app.request('DELETE', `${views}/${saved.body.id}`, { token: reviewer.token })).body.code).toBe('explorer/view_not_found');
    expect((await app.request('GET', views, { token: admin })).body).toEqual([]);
  });
});

import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';
import { labelBody, LABELS, seeded, traffic } from '../factories/routing-traffic';

// the routing rules (target rate, exploration, thresholds per model version, budget, dedupe, contradiction) are in test/service/routing.service-spec.ts

describe('routing: preview and backfill over HTTP', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  async function setUp(routing: Record<string, unknown>) {
    const project = await createProject(app, admin, { labels: labelBody(LABELS), routing });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const tasks = () => app.sql(`SELECT t.id FROM tasks t WHERE t.project_id = $1`, [project.id]);
    return { ...project, key, tasks };
  }

  it('routes a sensible share by default: a project created with no policy sends the 5% least confident and a 1% sample to people', async () => {
    const project = await createProject(app, admin, { labels: labelBody(LABELS) });
    const read = await app.request('GET', `/api/v1/projects/${project.slug}`, { token: admin });
    expect(read.body.routing).toMatchObject({ strategy: 'least_confidence', targetRate: 0.05, explorationRate: 0.01 });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const body = traffic(seeded(7), 1_000, { sharpness: 1 });
    for (let i = 0; i < body.length; i += 250)
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: body.slice(i, i + 250) })).status).toBe(200);
    const [counts] = await app.sql(
      `SELECT count(*) FILTER (WHERE reason = 'uncertain')::int AS uncertain, count(*) FILTER (WHERE reason = 'exploration')::int AS exploration
         FROM tasks WHERE project_id = $1`,
      [project.id],
    );
    // the target rate is worked out over the scores seen so far: about 50 of 1,000, and about 10 explored
    expect(counts.uncertain).toBeGreaterThanOrEqual(30);
    expect(counts.uncertain).toBeLessThanOrEqual(80);
    expect(counts.exploration).toBeGreaterThanOrEqual(2);
    expect(counts.exploration).toBeLessThanOrEqual(25);
  });

  it('backfills older predictions under a changed policy, a capped page at a time', async () => {
    const project = await setUp({ threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 });
    const ingested = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: project.key,
      body: traffic(seeded(21), 250, { sharpness: 1 }),
    });
    expect(ingested.status).toBe(200);
    expect(await project.tasks()).toHaveLength(0);
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { routing: { threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 } },
    });
    expect(patched.status).toBe(200);

    const backfill = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token: admin, body });
    const first = await backfill({ limit: 100 });
    expect(first.status).toBe(200);
    expect(first.body.examined).toBe(100);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await backfill({ limit: 100, cursor: first.body.nextCursor });
    const third = await backfill({ limit: 100, cursor: second.body.nextCursor });
    expect(third.body.examined).toBe(50);
    expect(third.body.nextCursor).toBeNull();
    const [{ expected }] = await app.sql(`SELECT count(*)::int AS expected FROM predictions WHERE project_id = $1 AND uncertainty >= 0.3`, [project.id]);
    expect(first.body.routed.total + second.body.routed.total + third.body.routed.total).toBe(expected);
    expect(await project.tasks()).toHaveLength(expected);
    // nothing left to route: a second pass creates nothing
    expect((await backfill({ limit: 1_000 })).body.routed.total).toBe(0);
    const [audit] = await app.sql(`SELECT action FROM audit_log WHERE project_id = $1 AND action = 'routing.backfill' LIMIT 1`, [project.id]);
    expect(audit).toBeDefined();
  });

  it('says in the batch reply how many tasks it made, by reason, and what the budget left out', async () => {
    const project = await setUp({ threshold: 0.3, explorationRate: 0.05, dedupeWindowMinutes: 0, budget: { perHour: 40 } });
    const send = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: project.key, body });
    const batch = traffic(seeded(5), 300, { sharpness: 1 });
    const first = await send(batch);
    expect(first.status).toBe(200);
    const rows: Array<{ reason: string; n: number }> = await app.sql(`SELECT reason, count(*)::int AS n FROM tasks WHERE project_id = $1 GROUP BY reason`, [
      project.id,
    ]);
    const made = Object.fromEntries(rows.map((r) => [r.reason, r.n]));
    expect(first.body.routed).toEqual({
      tasks: 40,
      byReason: { uncertain: made.uncertain ?? 0, exploration: made.exploration ?? 0, contradiction: 0, drift: 0, gold: 0, weak: 0 },
      droppedByBudget: expect.any(Number),
      deduplicated: 0,
    });
    const [{ chosen }] = await app.sql(`SELECT count(*)::int AS chosen FROM predictions WHERE project_id = $1 AND uncertainty >= 0.3`, [project.id]);
    // every uncertain prediction was chosen; the hour's budget of 40 took the highest priorities
    expect(first.body.routed.droppedByBudget).toBeGreaterThanOrEqual(chosen - 40);
    // a retry stores nothing and makes nothing
    expect((await send(batch)).body).toEqual({
      accepted: 0,
      duplicates: 300,
      routed: { tasks: 0, byReason: expect.any(Object), droppedByBudget: 0, deduplicated: 0 },
    });
  });

  it('caps the tasks of each window of predictions received, whether they come as batches, one by one, as a stream or at once', async () => {
    // every prediction is a candidate (threshold 0): each window of 100 predictions gets its 5 most uncertain
    const project = await setUp({ threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perPredictions: { predictions: 100, tasks: 5 } } });
    const random = seeded(8);
    const batch = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: project.key, body });
    const first = traffic(random, 250, { sharpness: 1 });
    // windows 0 and 1 are full, window 2 holds 50 so far
    expect((await batch(first)).body.routed).toMatchObject({ tasks: 15, droppedByBudget: 235 });
    const chosen: Array<{ prediction_id: string }> = await app.sql(`SELECT prediction_id FROM tasks WHERE project_id = $1`, [project.id]);
    const top = (rows: typeof first) =>
      rows
        .map((p) => ({ id: p.id, uncertainty: 1 - Math.max(...Object.values(p.scores)) }))
        .sort((a, b) => b.uncertainty - a.uncertainty)
        .slice(0, 5)
        .map((p) => p.id);
    expect(new Set(chosen.map((t) => t.prediction_id))).toEqual(
      new Set([...top(first.slice(0, 100)), ...top(first.slice(100, 200)), ...top(first.slice(200))]),
    );
    // the rest of window 2: spent already
    expect((await batch(traffic(random, 50, { sharpness: 1 }))).body.routed.tasks).toBe(0);
    // one at a time: the 301st prediction opens window 3
    const single = await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
      token: project.key,
      body: traffic(random, 1, { sharpness: 1 })[0],
    });
    expect(single.body.routed.tasks).toBe(1);
    // a stream of 120: the rest of window 3 (4 more) and 21 of window 4 (5)
    const stream = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: project.key,
      headers: { 'content-type': 'application/x-ndjson' },
      raw: traffic(random, 120, { sharpness: 1 })
        .map((p) => JSON.stringify(p))
        .join('\n'),
    });
    expect(stream.status).toBe(200);
    expect(stream.body.routed.tasks).toBe(9);
    // a duplicate is not received twice
    expect((await batch(first.slice(0, 10))).body).toMatchObject({ accepted: 0, routed: { tasks: 0 } });
    const [windowRow] = await app.sql(`SELECT received::int, window_index::int, used FROM routing_prediction_windows WHERE project_id = $1`, [project.id]);
    expect(windowRow).toEqual({ received: 421, window_index: 4, used: 5 });
    expect(await project.tasks()).toHaveLength(25);

    // concurrent batches take their predictions' places one after another: 300 more make three windows of 5, no more
    const before = (await project.tasks()).length;
    const replies = await Promise.all(Array.from({ length: 4 }, () => batch(traffic(random, 75, { sharpness: 1 }))));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // windows 4 (79 more of it, 0 left), 5, 6 (full) and 7 (the first 21 of it)
    expect((await project.tasks()).length - before).toBe(15);
    expect(replies.reduce((n, r) => n + r.body.routed.tasks, 0)).toBe(15);
  });

  it('caps the tasks one request makes, across the chunks of a stream', async () => {
    const project = await setUp({ threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perBatch: 7 } });
    const random = seeded(9);
    const first = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: project.key, body: traffic(random, 100) });
    expect(first.body.routed).toMatchObject({ tasks: 7, droppedByBudget: 93 });
    // 2,500 lines are stored in three chunks of one transaction: still 7
    const stream = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: project.key,
      headers: { 'content-type': 'application/x-ndjson' },
      raw: traffic(random, 2_500)
        .map((p) => JSON.stringify(p))
        .join('\n'),
    });
    expect(stream.body.routed).toMatchObject({ tasks: 7, droppedByBudget: 2_493 });
    expect(await project.tasks()).toHaveLength(14);
  });

  it('routes by a committee’s disagreement (vote entropy, KL to the consensus), the committee stored with its prediction', async () => {
    const project = await setUp({ strategy: 'vote_entropy', threshold: 0.5, explorationRate: 0, dedupeWindowMinutes: 0 });
    const send = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: project.key, body });
    const base = traffic(seeded(12), 4, { sharpness: 1 });
    // the champion says ham; the challenger agrees on the first two and not on the last two; the fourth has no committee
    const committee = [
      { challenger: { ham: 0.7, spam: 0.2, promo: 0.1 } },
      { challenger: { ham: 0.6, spam: 0.3, promo: 0.1 }, shadow: { ham: 0.5, spam: 0.4, promo: 0.1 } },
      { challenger: { ham: 0.1, spam: 0.8, promo: 0.1 } },
    ];
    const batch = base.map((p, i) => ({ ...p, scores: { ham: 0.9, spam: 0.05, promo: 0.05 }, ...(committee[i] ? { committee: committee[i] } : {}) }));
    const reply = await send(batch);
    expect(reply.status).toBe(200);
    expect(reply.body.routed.byReason.uncertain).toBe(1);
    const stored: Array<{ id: string; uncertainty: number; committee: unknown }> = await app.sql(
      `SELECT id, uncertainty, committee FROM predictions WHERE project_id = $1`,
      [project.id],
    );
    const byId = new Map(stored.map((r) => [r.id, r]));
    expect(byId.get(batch[0].id)).toMatchObject({ uncertainty: 0, committee: committee[0] });
    expect(byId.get(batch[1].id)?.uncertainty).toBe(0);
    // two members, two votes apart: the most disagreement there is
    expect(byId.get(batch[2].id)?.uncertainty).toBeCloseTo(1, 12);
    // no committee: the model's own entropy stands in
    expect(byId.get(batch[3].id)?.committee).toBeNull();
    const [task] = await app.sql(`SELECT prediction_id FROM tasks WHERE project_id = $1`, [project.id]);
    expect(task.prediction_id).toBe(batch[2].id);

    // KL to the consensus, over a backfill of the same predictions under the changed strategy
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { routing: { strategy: 'kl_divergence', threshold: 0.01, explorationRate: 0, dedupeWindowMinutes: 0 } },
    });
    expect(patched.status).toBe(200);
    const backfill = await app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token: admin, body: { limit: 100 } });
    // the champion and challenger of the second differ a little, the first less: both past 0.01; the fourth's entropy too
    expect(backfill.body.routed.total).toBeGreaterThanOrEqual(2);

    // a large batch (COPY) and a single prediction keep their committees exactly as sent
    const large = traffic(seeded(14), 100).map((p, i) => ({
      ...p,
      committee: { challenger: { ham: 0.25, spam: 0.5, promo: 0.25 }, shadow: { ham: i / 100, spam: 1 - i / 100, promo: 0 } },
    }));
    expect((await send(large)).body.accepted).toBe(100);
    const single = { ...traffic(seeded(15), 1)[0], committee: { challenger: { ham: 0.125, spam: 0.75, promo: 0.125 } } };
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: project.key, body: single })).status).toBe(201);
    const kept: Array<{ id: string; committee: unknown }> = await app.sql(
      `SELECT id, committee FROM predictions WHERE project_id = $1 AND id = ANY($2::uuid[])`,
      [project.id, [...large.map((p) => p.id), single.id]],
    );
    const sent = new Map([...large, single].map((p) => [p.id, p.committee]));
    expect(kept).toHaveLength(101);
    for (const row of kept) expect(row.committee).toEqual(sent.get(row.id));

    // a member's scores are checked as the model's are, naming the member
    const refused = await send([{ ...traffic(seeded(13), 1)[0], committee: { challenger: { ham: 0.5, phish: 0.5 } } }]);
    expect(refused.status).toBe(400);
    expect(refused.body.details.rejected[0]).toMatchObject({ code: 'predictions/unknown_label', field: 'committee.challenger.phish' });
  });

  it('spreads a budget over the embedding space, and drops near-duplicates by cosine distance', async () => {
    // thirty predictions in three tight clusters; the most uncertain ten are all in the first
    const cluster = (axis: number, i: number) => [0, 1, 2].map((k) => (k === axis ? 1 : 0.001 * (i + 1)));
    const batch = traffic(seeded(16), 30, { sharpness: 1 }).map((p, i) => {
      const axis = i < 10 ? 0 : i < 20 ? 1 : 2;
      const top = axis === 0 ? 0.4 + i * 0.001 : 0.8 + i * 0.001;
      return { ...p, scores: { ham: top, spam: 1 - top - 0.05, promo: 0.05 }, embedding: cluster(axis, i) };
    });
    const budgeted = await setUp({ threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perBatch: 3 }, diversity: { spread: true } });
    const send = (project: typeof budgeted, body: unknown) =>
      app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: project.key, body });
    expect((await send(budgeted, batch)).body.routed.tasks).toBe(3);
    const axisOf = new Map(batch.map((p, i) => [p.id, i < 10 ? 0 : i < 20 ? 1 : 2]));
    const routedAxes = async (project: typeof budgeted) =>
      (await app.sql<{ prediction_id: string }>(`SELECT prediction_id FROM tasks WHERE project_id = $1`, [project.id]))
        .map((t) => axisOf.get(t.prediction_id))
        .sort();
    // one from each cluster, where priority alone takes three of the first
    expect(await routedAxes(budgeted)).toEqual([0, 1, 2]);
    const byPriority = await setUp({ threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perBatch: 3 } });
    await send(byPriority, batch);
    expect(await routedAxes(byPriority)).toEqual([0, 0, 0]);

    // near-duplicates: one task per cluster, then none for the same clusters within the window
    const deduped = await setUp({ threshold: 0, explorationRate: 0, dedupeWindowMinutes: 60, diversity: { minDistance: 0.01 } });
    const first = await send(deduped, batch);
    expect(first.body.routed).toMatchObject({ tasks: 3, deduplicated: 27 });
    expect(await routedAxes(deduped)).toEqual([0, 1, 2]);
    const again = traffic(seeded(17), 3).map((p, i) => ({ ...p, embedding: cluster(i, 5) }));
    expect((await send(deduped, again)).body.routed).toMatchObject({ tasks: 0, deduplicated: 3 });
    // the embedding is kept as float32: 0.001 is stored as the float32 nearest it, and read back by its shortest decimals
    const [row] = await app.sql(`SELECT embedding, embedding[2]::float8 AS exact FROM predictions WHERE project_id = $1 AND id = $2`, [
      deduped.id,
      batch[0].id,
    ]);
    expect(row.exact).toBe(Math.fround(0.001));
    expect(row.embedding).toEqual([1, 0.001, 0.001]);
    // refused: out of float32's range, or so small it would round to 0; a float32 subnormal is kept
    const refused = await send(deduped, [{ ...traffic(seeded(18), 1)[0], embedding: [1, 1e39] }]);
    expect(refused.status).toBe(400);
    expect(refused.body.details.rejected[0].field).toBe('embedding.1');
    const tiny = await send(deduped, [{ ...traffic(seeded(19), 1)[0], embedding: [1, 1e-50] }]);
    expect([tiny.status, tiny.body.details?.rejected[0].field]).toEqual([400, 'embedding.1']);
    const subnormal = { ...traffic(seeded(20), 1)[0], embedding: [1, 1e-40] };
    expect((await send(deduped, [subnormal])).status).toBe(200);
    const [kept] = await app.sql(`SELECT embedding[2]::float8 AS v FROM predictions WHERE project_id = $1 AND id = $2`, [deduped.id, subnormal.id]);
    expect(kept.v).toBe(Math.fround(1e-40));
  });

  it('refuses bad requests with a code and the field, and non-admins', async () => {
    const project = await setUp({});
    const preview = (body: unknown, token = admin) => app.request('POST', `/api/v1/projects/${project.slug}/routing/preview`, { token, body });
    const backfill = (body: unknown, token = admin) => app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token, body });
    for (const [response, field] of [
      [await preview({ threshold: 2 }), 'threshold'],
      [await preview({ threshold: 0.2, targetRate: 0.1 }), 'targetRate'],
      [await preview({ budget: { perSlice: { perHour: 3 } } }), 'budget.perSlice.key'],
      [await preview({ limit: 200_000 }), 'limit'],
      [await backfill({ limit: 10_001 }), 'limit'],
      [await backfill({ cursor: 'bm90IGEgY3Vyc29y' }), 'cursor'],
    ] as const) {
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
      expect(response.body.code).toEqual(expect.stringMatching(/^(validation|routing)\//));
    }
    const rater = await createUser(app, admin, 'rater', project);
    expect((await preview({}, rater.token)).status).toBe(403);
    expect((await backfill({}, rater.token)).status).toBe(403);
    expect((await preview({}, project.key)).status).toBe(403);
    const empty = await preview({});
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ sampled: 0, routed: { total: 0 } });
  });
});

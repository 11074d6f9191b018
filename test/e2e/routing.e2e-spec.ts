import { hajekEstimate } from '@backflow/sampling';
import { DomainEventMap, DomainEvents } from '../../server/src/common/events/domain-events';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

/** A seeded generator, so every run routes the same predictions (the exploration draw hashes their ids). */
function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
    hex[12] = '4';
    hex[16] = '8';
    return `${hex.slice(0, 8).join('')}-${hex.slice(8, 12).join('')}-${hex.slice(12, 16).join('')}-${hex.slice(16, 20).join('')}-${hex.slice(20).join('')}`;
  };
  return { next, uuid };
}

const LABELS = ['ham', 'spam', 'promo'];
const labelBody = (names: string[]) => names.map((name, i) => ({ name, hotkey: String(i + 1) }));

/**
 * A calibrated three-class model: the true label is drawn from the scores, so the model
 * is right with probability equal to its confidence. `sharpness` sets how sure it is.
 */
function traffic(random: ReturnType<typeof seeded>, n: number, options: { version?: string; sharpness?: number } = {}) {
  return Array.from({ length: n }, (_, i) => {
    const weights = LABELS.map(() => random.next() ** (options.sharpness ?? 3));
    const total = weights.reduce((a, b) => a + b, 0);
    const scores = Object.fromEntries(LABELS.map((label, k) => [label, weights[k] / total]));
    let draw = random.next();
    const truth = LABELS.find((label) => (draw -= scores[label]) < 0) ?? LABELS[LABELS.length - 1];
    return {
      id: random.uuid(),
      model: { name: 'mail', version: options.version ?? '1' },
      input: { n: i, version: options.version ?? '1', seed: random.next() },
      scores,
      slice: { country: ['FR', 'DE', 'US', 'BR'][i % 4] },
      metadata: { truth },
    };
  });
}

describe('routing: uncertain, explored and contradicted predictions become tasks', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '5000', INGEST_MAX_BODY_MB: '8' });
    admin = await app.login();
  });
  afterAll(() => app.close());

  async function setUp(routing: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, { labels: labelBody(LABELS), routing, ...extra });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const post = (path: string, body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}${path}`, { body, token: key });
    const ingest = async (items: unknown[], size = 1_000) => {
      for (let i = 0; i < items.length; i += size) {
        const response = await post('/predictions/batch', items.slice(i, i + size));
        if (response.status !== 200) throw new Error(`batch -> ${response.status} ${JSON.stringify(response.body)}`);
      }
    };
    const tasks = (where = 'true') =>
      app.sql(
        `SELECT t.reason, t.priority, t.inclusion_probability, t.uncertainty, t.state, t.required_annotations, t.created_at, p.id AS prediction_id,
                p.model_version, p.slice, p.predicted_label, p.metadata, p.uncertainty AS prediction_uncertainty
           FROM tasks t JOIN predictions p ON p.project_id = t.project_id AND p.id = t.prediction_id
          WHERE t.project_id = $1 AND ${where}`,
        [project.id],
      );
    return { ...project, key, post, ingest, tasks };
  }

  describe('20,000 predictions of a known score distribution', () => {
    let project: Awaited<ReturnType<typeof setUp>>;
    let all: ReturnType<typeof traffic>;

    beforeAll(async () => {
      project = await setUp({ strategy: 'least_confidence', targetRate: 0.05, explorationRate: 0.01, dedupeWindowMinutes: 0 });
      all = traffic(seeded(11), 20_000);
      await project.ingest(all);
    }, 240_000);

    it('routes the target rate of 5% as uncertain (within one point)', async () => {
      const uncertain = await project.tasks(`t.reason = 'uncertain'`);
      expect(uncertain.length / all.length).toBeGreaterThan(0.04);
      expect(uncertain.length / all.length).toBeLessThan(0.06);
      // each one recorded with probability 1, its score, and the project's overlap
      expect(
        uncertain.every(
          (t) => t.inclusion_probability === 1 && t.uncertainty === t.prediction_uncertainty && t.required_annotations === 1 && t.state === 'queued',
        ),
      ).toBe(true);
    });

    it('explores ε of the rest, and the inclusion probabilities weight the tasks back to the true accuracy', async () => {
      const tasks = await project.tasks();
      const explored = tasks.filter((t) => t.reason === 'exploration');
      expect(explored.length).toBeGreaterThan(0.006 * all.length);
      expect(explored.length).toBeLessThan(0.014 * all.length);
      expect(explored.every((t) => t.inclusion_probability === 0.01)).toBe(true);

      const correct = (t: { predicted_label: string; metadata: { truth: string } }) => (t.predicted_label === t.metadata.truth ? 1 : 0);
      const rows = await app.sql(`SELECT predicted_label, metadata FROM predictions WHERE project_id = $1`, [project.id]);
      const trueAccuracy = rows.reduce((sum: number, r: { predicted_label: string; metadata: { truth: string } }) => sum + correct(r), 0) / rows.length;
      const naive = tasks.reduce((sum, t) => sum + correct(t), 0) / tasks.length;
      const weighted = hajekEstimate(tasks.map((t) => ({ value: correct(t), inclusionProbability: t.inclusion_probability })))!;
      // the tasks are mostly uncertain predictions, where the model is often wrong: unweighted, they understate accuracy badly
      expect(trueAccuracy - naive).toBeGreaterThan(0.15);
      // weighted, they land on it: within four standard errors (a false alarm once in 15,000 runs), and ~200 explored make that error small
      if (process.env.ROUTING_FIGURES) console.log(JSON.stringify({ tasks: tasks.length, explored: explored.length, trueAccuracy, naive, weighted }));
      expect(weighted.standardError).toBeLessThan(0.04);
      expect(Math.abs(weighted.mean - trueAccuracy)).toBeLessThan(4 * weighted.standardError);
    });

    it('previews a candidate policy over the stored predictions, writing nothing', async () => {
      const before = (await project.tasks()).length;
      const response = await app.request('POST', `/api/v1/projects/${project.slug}/routing/preview`, {
        token: admin,
        body: { limit: 20_000, targetRate: 0.1, explorationRate: 0, sliceBoosts: { 'country=FR': 2 }, dedupeWindowMinutes: 0 },
      });
      expect(response.status).toBe(200);
      expect(response.body.sampled).toBe(20_000);
      expect(response.body.routed.uncertain / 20_000).toBeCloseTo(0.1, 2);
      expect(response.body.routed.exploration).toBe(0);
      expect(response.body.thresholds).toEqual([{ model: 'mail', version: '1', threshold: expect.any(Number) }]);
      expect(response.body.bySlice).toHaveLength(4);
      expect(response.body.bySlice.reduce((sum: number, s: { routed: number }) => sum + s.routed, 0)).toBe(response.body.routed.total);
      expect(response.body.expectedTasksPerHour).toBeGreaterThan(0);
      expect((await project.tasks()).length).toBe(before);

      const capped = await app.request('POST', `/api/v1/projects/${project.slug}/routing/preview`, {
        token: admin,
        body: { limit: 20_000, threshold: 0, budget: { perHour: 100 } },
      });
      expect(capped.body.routed.total).toBeLessThanOrEqual(200); // at most two clock hours
      expect(capped.body.droppedByBudget).toBeGreaterThan(19_000);
      expect(capped.body.expectedTasksPerHour).toBeLessThanOrEqual(100);
    });
  });

  it('re-adapts the threshold when a new model version is far more confident', async () => {
    const project = await setUp({ targetRate: 0.05, explorationRate: 0, dedupeWindowMinutes: 0 });
    const random = seeded(5);
    await project.ingest(traffic(random, 6_000, { version: '1', sharpness: 1 }));
    await project.ingest(traffic(random, 6_000, { version: '2', sharpness: 12 }));
    for (const version of ['1', '2']) {
      const routed = await project.tasks(`p.model_version = '${version}'`);
      expect(routed.length / 6_000).toBeGreaterThan(0.035);
      expect(routed.length / 6_000).toBeLessThan(0.065);
    }
    // v2's scores sit far below v1's threshold: one threshold for both would have routed almost none of v2
    const [{ v1 }] = await app.sql(
      `SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY uncertainty) AS v1 FROM predictions WHERE project_id = $1 AND model_version = '1'`,
      [project.id],
    );
    const [{ above }] = await app.sql(`SELECT count(*)::int AS above FROM predictions WHERE project_id = $1 AND model_version = '2' AND uncertainty >= $2`, [
      project.id,
      v1,
    ]);
    expect(above / 6_000).toBeLessThan(0.01);
  }, 120_000);

  it('never exceeds the budget with 16 ingesters at once, and leaves a task for the highest priorities', async () => {
    const project = await setUp({
      threshold: 0,
      explorationRate: 0,
      dedupeWindowMinutes: 0,
      budget: { perHour: 50, perSlice: { key: 'country', perDay: 20 } },
    });
    const random = seeded(99);
    await Promise.all(
      Array.from({ length: 16 }, async (_, ingester) => {
        for (let round = 0; round < 6; round++) {
          const items = traffic(random, 20);
          if (round % 2 === ingester % 2) await project.ingest(items);
          else for (const item of items.slice(0, 5)) expect((await project.post('/predictions', item)).status).toBe(201);
        }
      }),
    );
    const tasks = await project.tasks();
    const perHour = new Map<string, number>();
    const perCountry = new Map<string, number>();
    for (const t of tasks) {
      const hour = new Date(t.created_at).toISOString().slice(0, 13);
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
      perCountry.set(t.slice.country, (perCountry.get(t.slice.country) ?? 0) + 1);
    }
    for (const count of perHour.values()) expect(count).toBeLessThanOrEqual(50);
    for (const count of perCountry.values()) expect(count).toBeLessThanOrEqual(20);
    // demand (over 900 predictions, all uncertain) exceeds both caps: the budget is used up, not left idle
    expect(tasks.length).toBeGreaterThanOrEqual(50);
    const [{ used }] = await app.sql(`SELECT sum(used)::int AS used FROM routing_budget_usage WHERE project_id = $1 AND period = 'hour' AND scope = '*'`, [
      project.id,
    ]);
    expect(used).toBe(tasks.length);
  }, 120_000);

  it('routes identical inputs once within the dedupe window, whatever their key order', async () => {
    const project = await setUp({ threshold: 0, explorationRate: 0, dedupeWindowMinutes: 60 });
    const body = (input: Record<string, unknown>) =>
      predictionBody({ model: { name: 'mail', version: '1' }, input, scores: { ham: 0.5, spam: 0.3, promo: 0.2 } }, LABELS);
    expect((await project.post('/predictions', body({ a: 1, b: [1, 2] }))).status).toBe(201);
    expect((await project.post('/predictions', body({ b: [1, 2], a: 1 }))).status).toBe(201);
    await project.ingest([body({ a: 1, b: [1, 2] }), body({ a: 1, b: [1, 2] }), body({ a: 2 })]);
    expect((await project.tasks()).map((t) => t.reason)).toEqual(['uncertain', 'uncertain']);
    // once the window has passed, the same input is routed again
    await app.sql(`UPDATE routing_fingerprints SET routed_until = now() - interval '1 second' WHERE project_id = $1`, [project.id]);
    await project.post('/predictions', body({ a: 1, b: [1, 2] }));
    expect(await project.tasks()).toHaveLength(3);
  });

  it('routes each acknowledged prediction exactly once, however its request is retried', async () => {
    const project = await setUp({ threshold: 0.4, explorationRate: 0, dedupeWindowMinutes: 0 });
    const random = seeded(3);
    const items = traffic(random, 600);
    const seen: DomainEventMap['task.created'][] = [];
    const off = app.app.get(DomainEvents).on('task.created', (event) => void seen.push(event));
    try {
      await project.ingest(items.slice(0, 400), 100);
      await project.ingest(items.slice(0, 400), 100); // a client retrying everything
      for (const item of items.slice(400, 450)) {
        await project.post('/predictions', item);
        await project.post('/predictions', item);
      }
      const stream = items
        .slice(450)
        .map((item) => JSON.stringify(item))
        .join('\n');
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
          token: project.key,
          raw: stream,
          headers: { 'content-type': 'application/x-ndjson' },
        });
        expect(response.status).toBe(200);
      }
    } finally {
      off();
    }
    const [{ expected }] = await app.sql(`SELECT count(*)::int AS expected FROM predictions WHERE project_id = $1 AND uncertainty >= 0.4`, [project.id]);
    const tasks = await project.tasks();
    expect(tasks.length).toBe(expected);
    expect(tasks.every((t) => t.prediction_uncertainty >= 0.4)).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(new Set(seen.filter((e) => e.projectId === project.id).map((e) => e.predictionId)).size).toBe(expected);
    expect(seen.filter((e) => e.projectId === project.id)).toHaveLength(expected);
  });

  it('makes a high-priority contradiction task when feedback contradicts a confident prediction', async () => {
    const routing = { threshold: 0.45, explorationRate: 0, contradictionConfidence: 0.8, dedupeWindowMinutes: 0 };
    const project = await setUp({ ...routing, threshold: 0 }, { feedbackRules: { rules: [{ eventType: 'correction', label: '$value', windowMinutes: 60 }] } });
    const body = (top: number) => predictionBody({ model: { name: 'mail', version: '1' }, scores: { ham: top, spam: 1 - top - 0.01, promo: 0.01 } }, LABELS);
    // routed while the policy sent everything to raters
    const tasked = body(0.95);
    await project.post('/predictions', tasked);
    expect((await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { routing } })).status).toBe(200);
    const confident = body(0.95);
    const lukewarm = body(0.7); // wrong too, but below the contradiction confidence
    const agreed = body(0.9);
    for (const item of [confident, lukewarm, agreed]) await project.post('/predictions', item);
    expect((await project.tasks()).map((t) => t.prediction_id)).toEqual([tasked.id]);

    const seen: DomainEventMap['task.created'][] = [];
    const off = app.app.get(DomainEvents).on('task.created', (event) => void seen.push(event));
    try {
      const events = [tasked, confident, lukewarm, agreed].map((p, i) => ({
        id: `fix-${p.id}`,
        predictionId: p.id,
        type: 'correction',
        value: i === 3 ? 'ham' : 'spam',
      }));
      expect((await project.post('/feedback', events)).status).toBe(201);
    } finally {
      off();
    }
    const byPrediction = new Map((await project.tasks()).map((t) => [t.prediction_id, t]));
    expect(byPrediction.get(confident.id)).toMatchObject({ reason: 'contradiction', inclusion_probability: 1 });
    expect(byPrediction.get(confident.id)!.priority).toBeGreaterThan(3);
    // a prediction that had a task keeps that one task, raised to contradiction priority
    expect(byPrediction.get(tasked.id)).toMatchObject({ reason: 'uncertain' });
    expect(byPrediction.get(tasked.id)!.priority).toBeGreaterThan(3);
    expect(byPrediction.has(lukewarm.id)).toBe(false);
    expect(byPrediction.has(agreed.id)).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.map((e) => [e.predictionId, e.reason])).toEqual([[confident.id, 'contradiction']]);
  });

  describe('backfill and access', () => {
    it('backfills older predictions under a changed policy, a capped page at a time', async () => {
      const project = await setUp({ threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 });
      await project.ingest(traffic(seeded(21), 250, { sharpness: 1 }));
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
});

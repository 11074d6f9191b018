import { createHmac, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fleissKappaOfLabels, krippendorffAlphaNominal } from '@backflow/agreement';
import { unitDraw } from '@backflow/sampling';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';
import { LABELS, prediction } from '../factories/quality-traffic';
import { backdatePredictions } from '../helpers/backdate';

// Dawid-Skene re-estimation, inclusion-weighted accuracy and accuracy alerts are in test/service/quality-monitoring.service-spec.ts

describe('quality and monitoring', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-quality-'));
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '5000', EXPORT_ROOT: exportRoot });
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  async function setUp(settings: Record<string, unknown>) {
    const project = await createProject(app, admin, { labels: LABELS, ...settings });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const ingest = async (predictions: unknown[]) => {
      const reply = await app.request('POST', path('/predictions/batch'), { body: predictions, token: key });
      expect(reply.status).toBe(200);
    };
    /** Claims and answers until nothing is left for this rater; `answer` picks the label from the task's input. */
    const labelAll = async (token: string, answer: (input: Record<string, any>) => string) => {
      let n = 0;
      for (;;) {
        const { body } = await app.request('POST', path('/tasks/claim'), { token, body: {} });
        if (!body.task) return n;
        const submitted = await app.request('POST', path(`/tasks/${body.task.id}/annotations`), {
          token,
          body: { id: randomUUID(), label: answer(body.task.input), timeSpentMs: 1000 + n },
        });
        expect(submitted.status).toBe(201);
        n++;
      }
    };
    return { ...project, key, path, ingest, labelAll };
  }

  it('reports agreement between raters as libs/agreement computes it, with each rater’s reliability, to admins and reviewers only', async () => {
    const p = await setUp({ overlap: 2, routing: { threshold: 0, explorationRate: 0 } });
    await p.ingest(
      Array.from({ length: 24 }, (_, i) =>
        prediction(i, { country: i % 2 ? 'FR' : 'DE', truth: ['ham', 'spam', 'phish'][i % 3], predicted: 'ham', confidence: 0.5 }),
      ),
    );
    const a = await createUser(app, admin, 'rater', p);
    const b = await createUser(app, admin, 'rater', p);
    // a answers the truth; b agrees except on every fourth item, where b says spam
    const truthOf = (input: Record<string, any>) => input.truth as string;
    const bAnswer = (input: Record<string, any>) => (input.k === 0 ? 'spam' : input.truth);
    expect(await p.labelAll(a.token, truthOf)).toBe(24);
    expect(await p.labelAll(b.token, bAnswer)).toBe(24);

    const reply = await app.request('GET', p.path('/quality'), { token: admin });
    expect(reply.status).toBe(200);
    const items = Array.from({ length: 24 }, (_, i) => [['ham', 'spam', 'phish'][i % 3], i % 4 === 0 ? 'spam' : ['ham', 'spam', 'phish'][i % 3]]);
    expect(reply.body.agreement).toMatchObject({ tasks: 24, answers: 48, fleissTasks: 24, pairableAnswers: 48 });
    expect(reply.body.agreement.fleissKappa).toBeCloseTo(fleissKappaOfLabels(items, 2).kappa, 10);
    expect(reply.body.agreement.krippendorffAlpha).toBeCloseTo(krippendorffAlphaNominal(items).alpha, 10);
    // 24 items with 4 (i % 4 = 0, truth ham or phish) disagreeing
    const disagreeing = items.filter(([x, y]) => x !== y).length;
    expect(reply.body.agreement.unanimous).toBeCloseTo((24 - disagreeing) / 24, 10);
    expect(reply.body.classes).toEqual(['ham', 'spam', 'phish']);
    // the confusion between raters counts each ordered pair: 2 per task
    expect(reply.body.confusion.flat().reduce((x: number, y: number) => x + y, 0)).toBe(48);
    expect(reply.body.confusion[0][1]).toBe(reply.body.confusion[1][0]);
    const raters = Object.fromEntries(reply.body.raters.map((r: any) => [r.email, r]));
    expect(raters[a.email]).toMatchObject({ tasks: 24, medianTimeMs: 1011.5 });
    expect(raters[a.email].confusion).toHaveLength(3);
    // two raters alone cannot say which of them is right: Dawid-Skene gives each an estimate, no more
    for (const r of [raters[a.email], raters[b.email]]) expect(r.estimatedAccuracy).toBeGreaterThan(0.5);
    expect(raters[a.email].agreementWithFinal).toBe(1);
    expect(reply.body.days).toHaveLength(1);
    expect(reply.body.dawidSkene.iterations).toBeGreaterThan(0);

    const reviewer = await createUser(app, admin, 'reviewer', p);
    expect((await app.request('GET', p.path('/quality'), { token: reviewer.token })).status).toBe(200);
    expect((await app.request('GET', p.path('/quality'), { token: a.token })).status).toBe(403);
    expect((await app.request('GET', p.path('/quality'), { token: p.key })).status).toBe(403);
    const bad = await app.request('GET', p.path('/quality?days=0'), { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('query.days');
  });

  it('re-estimates a Dawid-Skene project on request, and refuses a majority project', async () => {
    const dawidSkene = await setUp({ labeling: { consensus: 'dawid_skene' } });
    const reestimated = await app.request('POST', dawidSkene.path('/quality/reestimate'), { token: admin });
    expect(reestimated.status).toBe(200);
    expect(reestimated.body).toMatchObject({ relabeled: 0, keptExported: 0 });
    // a majority project has nothing to re-estimate
    const majority = await setUp({});
    const refused = await app.request('POST', majority.path('/quality/reestimate'), { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('quality/not_dawid_skene');
  });

  it('raises a drift alert on a shifted feature in one slice (not on a stable one), boosts that slice, and routes it with reason drift', async () => {
    const secret = 'a-monitoring-secret-of-length';
    const deliveries: Array<{ body: string; signature: string; event: string }> = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        deliveries.push({ body, signature: String(request.headers['x-backflow-signature']), event: String(request.headers['x-backflow-event']) });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
      const p = await setUp({
        routing: { threshold: 0.99, explorationRate: 0 },
        monitoring: { drift: { minCount: 50 }, boost: { factor: 20, hours: 2 }, webhook: { url, secret } },
      });
      const batch = (from: number, n: number, shiftFR: number) =>
        Array.from({ length: n }, (_, k) => {
          const i = from + k;
          const country = i % 2 ? 'FR' : 'DE';
          return prediction(i, {
            country,
            truth: 'ham',
            predicted: 'ham',
            confidence: 0.9,
            x: unitDraw(`x${i}`) * 100 + (country === 'FR' ? shiftFR : 0),
            y: ['a', 'b', 'c'][i % 3],
          });
        });
      // the reference window: two days ago, nothing shifted
      const baseline = batch(0, 400, 0);
      await p.ingest(baseline);
      await backdatePredictions(app, p.id, `now() - interval '2 days'`);
      // now: x moves up by 60 in FR only; y stays as it was
      await p.ingest(batch(400, 400, 60));

      const evaluated = await app.request('POST', p.path('/monitoring/evaluate'), { token: admin });
      expect(evaluated.status).toBe(200);
      const subjects = evaluated.body.raised.map((a: any) => `${a.kind}:${a.feature}:${a.slice}`);
      expect(subjects).toContain('drift:x:country=FR');
      expect(subjects).not.toContain('drift:x:country=DE');
      expect(subjects.filter((s: string) => s.startsWith('drift:y'))).toEqual([]);
      // evaluating again raises nothing new: the alerts are open
      expect((await app.request('POST', p.path('/monitoring/evaluate'), { token: admin })).body.raised).toEqual([]);

      const reply = (await app.request('GET', p.path('/monitoring'), { token: admin })).body;
      const x = reply.drift.find((d: any) => d.feature === 'x');
      const y = reply.drift.find((d: any) => d.feature === 'y');
      expect(x).toMatchObject({ kind: 'numeric', metric: 'jensen_shannon', drifted: true });
      expect(x.slices[0].slice).toBe('country=FR');
      expect(x.slices[0].value).toBeGreaterThan(0.3);
      expect(y).toMatchObject({ kind: 'categorical', metric: 'l_infinity', drifted: false });
      expect(reply.boosts).toEqual([expect.objectContaining({ slice: 'country=FR', factor: 20 })]);

      // with the boost, new FR traffic is sampled (1% × 20) and tagged drift; DE is not routed at all
      await p.ingest(batch(800, 1000, 60));
      const tasks: Array<{ reason: string; country: string; inclusion_probability: number }> = await app.sql(
        `SELECT t.reason, p.slice->>'country' AS country, t.inclusion_probability FROM tasks t JOIN predictions p ON p.project_id = t.project_id AND p.id = t.prediction_id WHERE t.project_id = $1`,
        [p.id],
      );
      expect(tasks.length).toBeGreaterThan(20);
      expect(new Set(tasks.map((t) => `${t.reason}:${t.country}`))).toEqual(new Set(['drift:FR']));
      for (const t of tasks) expect(t.inclusion_probability).toBeCloseTo(0.2, 10);

      // the alert went to the webhook, signed
      const alerts = deliveries.find((d) => d.event === 'alert.raised')!;
      expect(alerts.signature).toBe(`sha256=${createHmac('sha256', secret).update(alerts.body).digest('hex')}`);
      expect(JSON.parse(alerts.body).alerts.map((a: any) => a.feature)).toContain('x');
    } finally {
      hook.close();
    }
  });

  it('measures distribution skew against uploaded training statistics (drift stays window against window)', async () => {
    const p = await setUp({ routing: { threshold: 0.99, explorationRate: 0 }, monitoring: { drift: { minCount: 50 } } });
    // training saw x only under 50, and y evenly
    const baseline = {
      features: { x: { kind: 'numeric', edges: [25, 50, 75], counts: [500, 500, 0, 0] }, y: { kind: 'categorical', frequencies: { a: 1, b: 1, c: 1 } } },
    };
    const uploaded = await app.request('PUT', p.path('/monitoring/baseline'), { token: admin, body: baseline });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body.features).toEqual(['x', 'y']);
    await p.ingest(
      Array.from({ length: 300 }, (_, i) => prediction(i, { country: 'FR', truth: 'ham', predicted: 'ham', confidence: 0.9, x: unitDraw(`u${i}`) * 100 })),
    );
    const reply = (await app.request('GET', p.path('/monitoring'), { token: admin })).body;
    expect(reply.skew).toMatchObject({ trainingStatistics: true, schema: 'inferred', feature: null });
    const x = reply.skew.distribution.find((d: any) => d.feature === 'x');
    expect(x).toMatchObject({ skewed: true, comparator: 'settings', metric: 'jensen_shannon', threshold: 0.1 });
    expect(x.value).toBeGreaterThan(0.2);
    expect(x.slices).toEqual([expect.objectContaining({ slice: 'country=FR', value: x.value, count: 300 })]);
    expect(reply.skew.distribution.find((d: any) => d.feature === 'y')).toMatchObject({ skewed: false });
    // no reference window yet: nothing to call drift
    expect(reply.drift.find((d: any) => d.feature === 'x')).toMatchObject({ baseline: 'reference_window', value: null, drifted: false });
    const raised = (await app.request('POST', p.path('/monitoring/evaluate'), { token: admin })).body.raised;
    expect(raised.map((a: any) => [a.kind, a.feature, a.slice, a.anomalyType])).toEqual([
      ['skew', 'x', null, 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH'],
      ['skew', 'x', 'country=FR', 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH'],
    ]);

    const bad = await app.request('PUT', p.path('/monitoring/baseline'), {
      token: admin,
      body: { features: { x: { kind: 'numeric', edges: [1, 2], counts: [1, 2] } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('features.x.counts');
    const rater = await createUser(app, admin, 'rater', p);
    expect((await app.request('PUT', p.path('/monitoring/baseline'), { token: rater.token, body: baseline })).status).toBe(403);
  });

  it('infers a schema from traffic, counts anomalies against it (kept, not refused), and takes an uploaded one', async () => {
    const p = await setUp({ routing: { threshold: 0.99, explorationRate: 0 } });
    await p.ingest(Array.from({ length: 100 }, (_, i) => prediction(i, { country: 'FR', truth: 'ham', predicted: 'ham', confidence: 0.9 })));
    await backdatePredictions(app, p.id, `now() - interval '2 days'`);
    const odd = [
      ...Array.from({ length: 10 }, (_, i) => ({
        ...prediction(100 + i, { country: 'FR', truth: 'ham', predicted: 'ham', confidence: 0.9 }),
        input: { truth: 'ham', k: i % 4, x: 3 },
      })),
      ...Array.from({ length: 10 }, (_, i) => prediction(110 + i, { country: 'FR', truth: 'ham', predicted: 'ham', confidence: 0.9, y: 'zzz' })),
      ...Array.from({ length: 10 }, (_, i) => ({
        ...prediction(120 + i, { country: 'FR', truth: 'ham', predicted: 'ham', confidence: 0.9 }),
        input: { truth: 'ham', k: i % 4, x: 'many', y: 'a' },
      })),
    ];
    await p.ingest(odd);
    const reply = (await app.request('GET', p.path('/monitoring'), { token: admin })).body;
    expect(reply.anomalies.examined).toBe(30);
    expect(reply.anomalies.features).toEqual(
      expect.arrayContaining([
        { feature: 'y', missing: 10, wrongType: 0, newCategory: 10 },
        { feature: 'x', missing: 0, wrongType: 10, newCategory: 0 },
      ]),
    );
    expect((await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [p.id]))[0].n).toBe(130);
    const schema = (await app.request('GET', p.path('/monitoring/schema'), { token: admin })).body;
    expect(schema.source).toBe('inferred');
    expect(schema.features.find((f: any) => f.name === 'y')).toEqual({ name: 'y', type: 'string', required: true, domain: ['a', 'b', 'c'] });

    const uploaded = await app.request('PUT', p.path('/monitoring/schema'), {
      token: admin,
      body: { features: [{ name: 'y', type: 'string', domain: ['a', 'b', 'c', 'zzz'] }] },
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body.source).toBe('uploaded');
    const after = (await app.request('GET', p.path('/monitoring'), { token: admin })).body;
    expect(after.anomalies.features).toEqual([]);
    const bad = await app.request('PUT', p.path('/monitoring/schema'), { token: admin, body: { features: [{ name: 'y', type: 'text' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('features.0.type');
  });
});

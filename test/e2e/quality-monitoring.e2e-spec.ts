import { createHmac, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fleissKappaOfLabels, krippendorffAlphaNominal } from '@backflow/agreement';
import { unitDraw } from '@backflow/sampling';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';

const LABELS = [
  { name: 'ham', hotkey: '1' },
  { name: 'spam', hotkey: '2' },
  { name: 'phish', hotkey: '3' },
];

/** A prediction whose input carries its true label (raters read it) and a feature or two to drift. */
function prediction(i: number, options: { country: string; truth: string; predicted: string; confidence: number; x?: number; y?: string }) {
  const others = LABELS.map((l) => l.name).filter((l) => l !== options.predicted);
  const rest = (1 - options.confidence) / others.length;
  return {
    id: randomUUID(),
    model: { name: 'mail', version: '1' },
    input: { truth: options.truth, k: i % 4, x: options.x ?? (i * 37) % 100, y: options.y ?? ['a', 'b', 'c'][i % 3] },
    scores: Object.fromEntries([[options.predicted, options.confidence], ...others.map((o) => [o, rest])]),
    slice: { country: options.country },
  };
}

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

  it('re-decides unexported consensus labels by Dawid-Skene, keeps exported ones, and beats majority vote against the truth', async () => {
    const classes = LABELS.map((l) => l.name);
    const p = await setUp({
      overlap: 5,
      labeling: { consensus: 'dawid_skene', agreementThreshold: 0, goldRate: 0 },
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    // one careful rater and four careless ones; an answer is a fixed draw per item and rater
    const accuracy: Record<string, number> = { expert: 0.95, a: 0.5, b: 0.45, c: 0.45, d: 0.5 };
    const raters = Object.fromEntries(await Promise.all(Object.keys(accuracy).map(async (name) => [name, await createUser(app, admin, 'rater', p)] as const)));
    const answer = (name: string) => (input: Record<string, any>) => {
      const truth = input.truth as string;
      if (unitDraw(`${name}:${input.k}`) < accuracy[name]) return truth;
      const others = classes.filter((c) => c !== truth);
      return unitDraw(`${name}:${input.k}:wrong`) < 2 / 3 ? others[0] : others[1];
    };
    const items = (from: number, n: number) =>
      Array.from({ length: n }, (_, j) => {
        const i = from + j;
        return {
          ...prediction(i, { country: 'FR', truth: classes[Math.floor(unitDraw(`truth${i}`) * 3)], predicted: 'ham', confidence: 0.4 }),
          input: { truth: classes[Math.floor(unitDraw(`truth${i}`) * 3)], k: i },
        };
      });
    const labelEveryone = async () => {
      for (const name of Object.keys(accuracy)) await p.labelAll(raters[name].token, answer(name));
    };
    // the first 150 are labelled and exported; the next 150 are labelled after
    await p.ingest(items(0, 150));
    await labelEveryone();
    const started = await app.request('POST', p.path('/exports'), { token: admin, body: {} });
    expect(started.status).toBe(202);
    for (let i = 0; i < 200 && (await app.request('GET', p.path(`/exports/${started.body.job.job}`), { token: admin })).body.state === 'writing'; i++)
      await new Promise((r) => setTimeout(r, 50));
    const exported: Array<{ id: string; value: string }> = await app.sql(
      `SELECT l.id::text, l.value FROM labels l JOIN span_labels s ON s.label_id = l.id WHERE l.project_id = $1`,
      [p.id],
    );
    expect(exported.length).toBeGreaterThan(100);
    await p.ingest(items(150, 150));
    await labelEveryone();

    const current = () =>
      app.sql<{ id: string; value: string; truth: string; k: number; rule: string | null }>(
        `SELECT l.id::text, l.value, p.input->>'truth' AS truth, (p.input->>'k')::int AS k, l.rule FROM labels l JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
          WHERE l.project_id = $1 AND l.superseded_at IS NULL`,
        [p.id],
      );
    const before = await current();
    const reestimated = await app.request('POST', p.path('/quality/reestimate'), { token: admin });
    expect(reestimated.status).toBe(200);
    expect(reestimated.body.relabeled).toBeGreaterThan(0);
    const after = await current();
    // every exported label is still current and unchanged; what Dawid-Skene would change there is counted, not done
    const afterIds = new Set(after.map((l) => l.id));
    for (const label of exported) expect(afterIds.has(label.id)).toBe(true);
    expect(after.filter((l) => l.rule === 'dawid_skene').every((l) => l.k >= 150)).toBe(true);
    expect(after.filter((l) => l.rule === 'dawid_skene')).toHaveLength(reestimated.body.relabeled);
    // the labels replaced stay as history
    const history = await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND superseded_at IS NOT NULL`, [p.id]);
    expect(history[0].n).toBe(reestimated.body.relabeled);
    // on the unexported half, the re-decided labels are right more often than the majority's were
    const right = (labels: typeof before) => labels.filter((l) => l.k >= 150 && l.value === l.truth).length;
    expect(right(after)).toBeGreaterThan(right(before));
    const quality = (await app.request('GET', p.path('/quality'), { token: admin })).body;
    expect(quality.consensus).toBe('dawid_skene');
    expect(quality.lastReestimate).toMatchObject({ relabeled: reestimated.body.relabeled, keptExported: reestimated.body.keptExported });
    const expert = quality.raters.find((r: any) => r.email === raters.expert.email);
    for (const name of ['a', 'b', 'c', 'd'])
      expect(expert.estimatedAccuracy).toBeGreaterThan(quality.raters.find((r: any) => r.email === raters[name].email).estimatedAccuracy);

    // a majority project has nothing to re-estimate
    const majority = await setUp({});
    const refused = await app.request('POST', majority.path('/quality/reestimate'), { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('quality/not_dawid_skene');
  });

  it('weights each label by 1 / its inclusion probability, so accuracy describes all traffic, per slice', async () => {
    // uncertain predictions (confidence 0.4) are all routed; confident ones (0.9) explored at 25%
    const p = await setUp({ routing: { threshold: 0.5, explorationRate: 0.25, dedupeWindowMinutes: 0 } });
    const predictions = Array.from({ length: 400 }, (_, i) => {
      const uncertain = i % 2 === 0;
      // the model is right on the confident ones 9 times in 10, on the uncertain ones 1 in 2
      const right = uncertain ? i % 4 === 0 : i % 20 !== 1;
      return prediction(i, { country: i % 3 ? 'FR' : 'DE', truth: right ? 'ham' : 'spam', predicted: 'ham', confidence: uncertain ? 0.4 : 0.9 });
    });
    await p.ingest(predictions);
    const rater = await createUser(app, admin, 'rater', p);
    const labelled = await p.labelAll(rater.token, (input) => input.truth);
    expect(labelled).toBeGreaterThan(220);

    const reply = await app.request('GET', p.path('/monitoring'), { token: admin });
    expect(reply.status).toBe(200);
    const rows: Array<{ inclusion_probability: number; correct: boolean; country: string }> = await app.sql(
      `SELECT t.inclusion_probability, l.value = p.predicted_label AS correct, p.slice->>'country' AS country
         FROM labels l JOIN tasks t ON t.id = l.task_id JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
        WHERE l.project_id = $1 AND l.superseded_at IS NULL`,
      [p.id],
    );
    const hajek = (subset: typeof rows) =>
      subset.reduce((s, r) => s + (r.correct ? 1 / r.inclusion_probability : 0), 0) / subset.reduce((s, r) => s + 1 / r.inclusion_probability, 0);
    const row = (key: string, value: string) => reply.body.accuracy.find((r: any) => r.modelVersion === '*' && r.sliceKey === key && r.sliceValue === value);
    const all = row('*', '*');
    expect(all.accuracy.n).toBe(rows.length);
    expect(all.accuracy.value).toBeCloseTo(hajek(rows), 10);
    // over all 400 the model is right (100 + 180) / 400 = 0.7 times; the weighted estimate is nearer that than the naive share
    const naive = rows.filter((r) => r.correct).length / rows.length;
    expect(Math.abs(all.accuracy.value - 0.7)).toBeLessThan(Math.abs(naive - 0.7));
    expect(all.accuracy.effectiveN).toBeLessThan(all.accuracy.n);
    expect(all.accuracy.low).toBeLessThan(all.accuracy.value);
    expect(all.accuracy.high).toBeGreaterThan(all.accuracy.value);
    expect(row('country', 'FR').accuracy.value).toBeCloseTo(hajek(rows.filter((r) => r.country === 'FR')), 10);
    expect(row('country', 'DE').accuracy.n).toBe(rows.filter((r) => r.country === 'DE').length);
    expect(all.perClass.find((c: any) => c.label === 'ham').precision.value).toBeCloseTo(all.accuracy.value, 10);
    expect(all.series.length).toBeGreaterThan(0);
    expect(all.calibrationError).toBeGreaterThanOrEqual(0);
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
      await app.sql(`UPDATE predictions SET received_at = now() - interval '2 days' WHERE project_id = $1`, [p.id]);
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

  it('alerts when a slice’s accuracy falls significantly below its baseline, and resolves it when it recovers', async () => {
    const p = await setUp({ routing: { threshold: 0, explorationRate: 0 }, monitoring: { minLabels: 20 } });
    const batch = (from: number, n: number, frRight: number) =>
      Array.from({ length: n }, (_, k) => {
        const i = from + k;
        const country = i % 2 ? 'FR' : 'DE';
        const right = country === 'DE' ? i % 10 !== 0 : unitDraw(`r${i}`) < frRight;
        return prediction(i, { country, truth: right ? 'ham' : 'spam', predicted: 'ham', confidence: 0.9 });
      });
    const rater = await createUser(app, admin, 'rater', p);
    await p.ingest(batch(0, 120, 0.9));
    await p.labelAll(rater.token, (input) => input.truth);
    await app.sql(`UPDATE predictions SET received_at = now() - interval '3 days' WHERE project_id = $1`, [p.id]);
    await p.ingest(batch(120, 120, 0.4));
    await p.labelAll(rater.token, (input) => input.truth);

    const raised = (await app.request('POST', p.path('/monitoring/evaluate'), { token: admin })).body.raised;
    const subjects = raised.map((a: any) => `${a.kind}:${a.slice}`);
    // FR fell, and with it all traffic; DE did not
    expect(subjects).toContain('accuracy:country=FR');
    expect(subjects).not.toContain('accuracy:country=DE');
    // (the input's "truth" feature drifts too, as the share of spam grew: that is a drift alert, not checked here)
    const fr = raised.find((a: any) => a.slice === 'country=FR');
    expect(fr.value).toBeLessThan(fr.baseline - 0.05);

    // FR recovers: the current window is now good everywhere, and the alert is resolved
    await app.sql(`UPDATE predictions SET received_at = now() - interval '3 days' WHERE project_id = $1`, [p.id]);
    await p.ingest(batch(240, 120, 0.95));
    await p.labelAll(rater.token, (input) => input.truth);
    const again = (await app.request('POST', p.path('/monitoring/evaluate'), { token: admin })).body;
    expect(again.raised).toEqual([]);
    expect(again.resolved).toBeGreaterThanOrEqual(1);
    const alerts = (await app.request('GET', p.path('/monitoring'), { token: admin })).body.alerts;
    expect(alerts.find((a: any) => a.slice === 'country=FR').resolvedAt).not.toBeNull();
  });

  it('measures drift against uploaded training statistics when there is no reference window', async () => {
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
    const x = reply.drift.find((d: any) => d.feature === 'x');
    expect(x).toMatchObject({ baseline: 'uploaded', drifted: true });
    expect(x.value).toBeGreaterThan(0.2);
    expect(reply.drift.find((d: any) => d.feature === 'y')).toMatchObject({ baseline: 'uploaded', drifted: false });
    const raised = (await app.request('POST', p.path('/monitoring/evaluate'), { token: admin })).body.raised;
    expect(raised.map((a: any) => a.feature)).toEqual(['x']);

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
    await app.sql(`UPDATE predictions SET received_at = now() - interval '2 days' WHERE project_id = $1`, [p.id]);
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

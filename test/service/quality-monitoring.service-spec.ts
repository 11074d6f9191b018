import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unitDraw } from '@backflow/sampling';
import { MonitoringQuery, QualityQuery, qualityWindow } from '@backflow/contracts';
import { ExportsService } from '../../server/src/exports/exports.service';
import { MonitoringService } from '../../server/src/monitoring/monitoring.service';
import { PredictionsService } from '../../server/src/predictions/predictions.service';
import { QualityService } from '../../server/src/quality/quality.service';
import { startServiceContext, ServiceContext } from '../helpers/test-context';
import { LABELS, prediction } from '../factories/quality-traffic';
import { labelAll, seedProject, seedUser } from '../factories/services';
import { backdatePredictions } from '../helpers/backdate';

describe('quality and monitoring', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-quality-'));
  let context: ServiceContext;

  beforeAll(async () => {
    context = await startServiceContext({ INGEST_MAX_BATCH: '5000', EXPORT_ROOT: exportRoot });
  });
  afterAll(async () => {
    await context.close();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  async function setUp(settings: Record<string, unknown>) {
    const project = await seedProject(context, { labels: LABELS, ...settings });
    const ingest = (predictions: unknown[]) => context.get(PredictionsService).ingestBatch(project, predictions, false);
    const quality = () => context.get(QualityService).quality(project, qualityWindow(QualityQuery.parse({})));
    const monitoring = () => context.get(MonitoringService).monitoring(project, MonitoringQuery.parse({}).hours, { showMasked: true });
    const evaluate = () => context.get(MonitoringService).evaluate(project);
    const rater = async () => {
      const user = await seedUser(context, 'rater', project);
      return { ...user, labelAll: (answer: (input: Record<string, any>) => string) => labelAll(context, project, user.id, answer) };
    };
    return { project, id: project.id, ingest, quality, monitoring, evaluate, rater };
  }

  it('re-decides unexported consensus labels by Dawid-Skene, keeps exported ones, and beats majority vote against the truth', async () => {
    const classes = LABELS.map((l) => l.name);
    const p = await setUp({
      overlap: 5,
      labeling: { consensus: 'dawid_skene', agreementThreshold: 0, goldRate: 0 },
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    // one careful rater and four careless ones; an answer is a fixed draw per item and rater
    const accuracy: Record<string, number> = { expert: 0.95, a: 0.5, b: 0.45, c: 0.45, d: 0.5 };
    const raters = Object.fromEntries(await Promise.all(Object.keys(accuracy).map(async (name) => [name, await p.rater()] as const)));
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
      for (const name of Object.keys(accuracy)) await raters[name].labelAll(answer(name));
    };
    // the first 150 are labelled and exported; the next 150 are labelled after
    await p.ingest(items(0, 150));
    await labelEveryone();
    expect(await context.get(ExportsService).run(p.project, {})).toBeDefined();
    const exported: Array<{ id: string; value: string }> = await context.sql(
      `SELECT l.id::text, l.value FROM labels l JOIN span_labels s ON s.label_id = l.id WHERE l.project_id = $1`,
      [p.id],
    );
    expect(exported.length).toBeGreaterThan(100);
    await p.ingest(items(150, 150));
    await labelEveryone();

    const current = () =>
      context.sql<{ id: string; value: string; truth: string; k: number; rule: string | null }>(
        `SELECT l.id::text, l.value, p.input->>'truth' AS truth, (p.input->>'k')::int AS k, l.rule FROM labels l JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
          WHERE l.project_id = $1 AND l.superseded_at IS NULL`,
        [p.id],
      );
    const before = await current();
    const reestimated = await context.get(QualityService).reestimate(p.project);
    expect(reestimated.relabeled).toBeGreaterThan(0);
    const after = await current();
    // every exported label is still current and unchanged; what Dawid-Skene would change there is counted, not done
    const afterIds = new Set(after.map((l) => l.id));
    for (const label of exported) expect(afterIds.has(label.id)).toBe(true);
    expect(after.filter((l) => l.rule === 'dawid_skene').every((l) => l.k >= 150)).toBe(true);
    expect(after.filter((l) => l.rule === 'dawid_skene')).toHaveLength(reestimated.relabeled);
    // the labels replaced stay as history
    const history = await context.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND superseded_at IS NOT NULL`, [p.id]);
    expect(history[0].n).toBe(reestimated.relabeled);
    // on the unexported half, the re-decided labels are right more often than the majority's were
    const right = (labels: typeof before) => labels.filter((l) => l.k >= 150 && l.value === l.truth).length;
    expect(right(after)).toBeGreaterThan(right(before));
    const quality = await p.quality();
    expect(quality.consensus).toBe('dawid_skene');
    expect(quality.lastReestimate).toMatchObject({ relabeled: reestimated.relabeled, keptExported: reestimated.keptExported });
    const expert = quality.raters.find((r) => r.email === raters.expert.email)!;
    for (const name of ['a', 'b', 'c', 'd'])
      expect(expert.estimatedAccuracy).toBeGreaterThan(quality.raters.find((r) => r.email === raters[name].email)!.estimatedAccuracy!);
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
    const rater = await p.rater();
    const labelled = await rater.labelAll((input) => input.truth);
    expect(labelled).toBeGreaterThan(220);

    const reply = await p.monitoring();
    const rows: Array<{ inclusion_probability: number; correct: boolean; country: string }> = await context.sql(
      `SELECT t.inclusion_probability, l.value = p.predicted_label AS correct, p.slice->>'country' AS country
         FROM labels l JOIN tasks t ON t.id = l.task_id JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
        WHERE l.project_id = $1 AND l.superseded_at IS NULL`,
      [p.id],
    );
    const hajek = (subset: typeof rows) =>
      subset.reduce((s, r) => s + (r.correct ? 1 / r.inclusion_probability : 0), 0) / subset.reduce((s, r) => s + 1 / r.inclusion_probability, 0);
    const row = (key: string, value: string) => reply.accuracy.find((r) => r.modelVersion === '*' && r.sliceKey === key && r.sliceValue === value)!;
    const all = row('*', '*');
    const accuracy = all.accuracy!;
    expect(accuracy.n).toBe(rows.length);
    expect(accuracy.value).toBeCloseTo(hajek(rows), 10);
    // over all 400 the model is right (100 + 180) / 400 = 0.7 times; the weighted estimate is nearer that than the naive share
    const naive = rows.filter((r) => r.correct).length / rows.length;
    expect(Math.abs(accuracy.value - 0.7)).toBeLessThan(Math.abs(naive - 0.7));
    expect(accuracy.effectiveN).toBeLessThan(accuracy.n);
    expect(accuracy.low).toBeLessThan(accuracy.value);
    expect(accuracy.high).toBeGreaterThan(accuracy.value);
    expect(row('country', 'FR').accuracy?.value).toBeCloseTo(hajek(rows.filter((r) => r.country === 'FR')), 10);
    expect(row('country', 'DE').accuracy?.n).toBe(rows.filter((r) => r.country === 'DE').length);
    expect(all.perClass.find((c) => c.label === 'ham')?.precision?.value).toBeCloseTo(accuracy.value, 10);
    expect(all.series.length).toBeGreaterThan(0);
    expect(all.calibrationError).toBeGreaterThanOrEqual(0);
    // the confident half was drawn at random (explored labels enough): the estimate stands for the traffic
    const explored = rows.filter((r) => r.inclusion_probability < 1).length;
    expect(explored).toBeGreaterThan(30);
    expect(all.support).toEqual({ explored, coverage: expect.any(Number), supported: true });
    expect(all.support.coverage).toBeCloseTo(rows.reduce((s, r) => s + 1 / r.inclusion_probability, 0) / 400, 10);
  });

  it('marks an estimate whose labels are the uncertain predictions only, and estimates accuracy from the calibrated confidence beside it', async () => {
    // exploration off: the uncertain quarter (confidence 0.4, right 1 in 2) is labelled, the confident rest (0.9, right 9 in 10) never is
    const p = await setUp({ routing: { threshold: 0.5, explorationRate: 0, dedupeWindowMinutes: 0 } });
    const predictions = Array.from({ length: 400 }, (_, i) => {
      const uncertain = i % 4 === 0;
      const right = uncertain ? i % 8 === 0 : i % 10 !== 1;
      return prediction(i, { country: 'FR', truth: right ? 'ham' : 'spam', predicted: 'ham', confidence: uncertain ? 0.4 : 0.9 });
    });
    await p.ingest(predictions);
    expect(await (await p.rater()).labelAll((input) => input.truth)).toBe(100);
    const all = (await p.monitoring()).accuracy.find((r) => r.modelVersion === '*' && r.sliceKey === '*')!;
    // the truth is 0.8 = (50 + 270) / 400; the labels say 0.5 and describe the uncertain quarter alone
    expect(all.accuracy?.value).toBeCloseTo(0.5, 10);
    expect(all.support).toEqual({ explored: 0, coverage: 0.25, supported: false });
    // CBPE: the 0.4 bin from its 100 labels, (50 + 5 × 0.4) / 105; the 0.9 bin has none and takes 0.9
    const chance = 52 / 105;
    expect(all.confidenceBased?.value).toBeCloseTo((100 * chance + 300 * 0.9) / 400, 10);
    expect(all.confidenceBased).toMatchObject({ predictions: 400, calibratedShare: 0.25 });
    expect(Math.abs(all.confidenceBased!.value - 0.8)).toBeLessThan(0.01);
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
    const rater = await p.rater();
    await p.ingest(batch(0, 120, 0.9));
    await rater.labelAll((input) => input.truth);
    await backdatePredictions(context, p.id, `now() - interval '3 days'`);
    await p.ingest(batch(120, 120, 0.4));
    await rater.labelAll((input) => input.truth);

    const raised = (await p.evaluate()).raised;
    const subjects = raised.map((a: any) => `${a.kind}:${a.slice}`);
    // FR fell, and with it all traffic; DE did not
    expect(subjects).toContain('accuracy:country=FR');
    expect(subjects).not.toContain('accuracy:country=DE');
    // (the input's "truth" feature drifts too, as the share of spam grew: that is a drift alert, not checked here)
    const fr = raised.find((a: any) => a.slice === 'country=FR')!;
    expect(fr.value).toBeLessThan(fr.baseline! - 0.05);

    // FR recovers: the current window is now good everywhere, and the alert is resolved
    await backdatePredictions(context, p.id, `now() - interval '3 days'`);
    await p.ingest(batch(240, 120, 0.95));
    await rater.labelAll((input) => input.truth);
    const again = await p.evaluate();
    expect(again.raised).toEqual([]);
    expect(again.resolved).toBeGreaterThanOrEqual(1);
    const alerts = (await p.monitoring()).alerts;
    expect(alerts.find((a: any) => a.slice === 'country=FR')!.resolvedAt).not.toBeNull();
  });
});

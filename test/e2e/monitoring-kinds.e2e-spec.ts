import { randomUUID } from 'node:crypto';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';
import { backdatePredictions } from '../helpers/backdate';

// per-kind figures over the monitoring endpoint, each against a value worked out by hand below;
// the formulas themselves are unit-tested in libs/questions/src/metrics.spec.ts

const BODY = 'Ada Lovelace met Charles Babbage at the Royal Society';
// "Ada Lovelace" 0–12, "Charles Babbage" 17–32, "Royal Society" 40–53 (end exclusive)
const span = (start: number, end: number, label: string) => ({ start, end, label });

/** One labelled item: the model's output, the answer both raters would give, its slice, and the probability routing had of taking it. */
interface Item {
  output: Record<string, unknown>;
  answer: unknown;
  country: string;
  version?: string;
  inclusionProbability?: number;
}

describe('monitoring per question kind: figures of the routing question against its labels, weighted, per slice and model version', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
  });

  /**
   * A project asking `question` (routing on it), one prediction per item, every one routed; the
   * items with an inclusion probability get it on their task (as exploration at that rate would
   * have); two raters over REST take turns answering until nothing is left (overlap 1).
   */
  async function labelled(question: Record<string, unknown>, items: Item[], monitoring: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [question],
      routingQuestion: question.name,
      overlap: 1,
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      monitoring,
    });
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const raters = [await createUser(app, admin, 'rater', project), await createUser(app, admin, 'rater', project)];
    let next = 0;
    const add = async (batch: Item[]) => {
      const from = next;
      next += batch.length;
      const ingested = await app.request('POST', path('/predictions/batch'), {
        token: key,
        body: batch.map((item, i) => ({
          id: randomUUID(),
          model: { name: 'm', version: item.version ?? '1' },
          input: { body: BODY, n: from + i },
          slice: { country: item.country },
          ...item.output,
        })),
      });
      expect(ingested.body).toMatchObject({ accepted: batch.length, duplicates: 0 });
      for (const [i, item] of batch.entries()) {
        if (item.inclusionProbability === undefined) continue;
        await app.sql(
          `UPDATE tasks t SET inclusion_probability = $3 FROM predictions p
            WHERE t.project_id = $1 AND p.project_id = t.project_id AND p.id = t.prediction_id AND (p.input->>'n')::int = $2`,
          [project.id, from + i, item.inclusionProbability],
        );
      }
      let answered = 0;
      for (let turn = 0; ; turn++) {
        const { token } = raters[turn % 2];
        const claimed = await app.request('POST', path('/tasks/claim'), { token, body: {} });
        expect(claimed.status).toBe(200);
        if (!claimed.body.task) break;
        const item = batch[(claimed.body.task.input.n as number) - from];
        const submitted = await app.request('POST', path(`/tasks/${claimed.body.task.id}/annotations`), {
          token,
          body: { id: randomUUID(), answers: { [question.name as string]: item.answer } },
        });
        expect([submitted.status, submitted.body.code]).toEqual([201, undefined]);
        answered++;
      }
      expect(answered).toBe(batch.length);
    };
    await add(items);
    const monitoringReply = async () => {
      const reply = await app.request('GET', path('/monitoring'), { token: admin });
      expect(reply.status).toBe(200);

      return reply.body as { accuracy: any[]; alerts: any[]; boosts: any[] };
    };
    const rowOf = async (modelVersion = '*', sliceKey = '*', sliceValue = '*') =>
      (await monitoringReply()).accuracy.find((r) => r.modelVersion === modelVersion && r.sliceKey === sliceKey && r.sliceValue === sliceValue);
    return { project, path, add, monitoringReply, rowOf };
  }

  it('ranking: NDCG@k, MRR and precision@k of the model’s order (by score) against the graded items, weighted by inclusion', async () => {
    const grades = [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` }));
    const list = (...scores: number[]) => ({ suggestions: { runs: { candidates: scores.map((score, i) => ({ item: `r${i}`, score, position: i + 1 })) } } });
    const graded = (...values: number[]) => values.map((grade, i) => ({ item: `r${i}`, grade }));
    // list  model order (by score)  grades in that order  DCG@2                         ideal DCG@2          NDCG@2   RR    P@2  weight
    // 1     r0 r1 r2                3 1 0                 7 + 1/log2 3                  the same             1        1     1    1
    // 2     r1 r0 r2 (r1 scores up) 0 3 2 → r1=0, r0=3    0 + 7/log2 3                  7 + 3/log2 3         0.7579…  1/2   1/2  2
    // 3     r0 r1                   0 0                   no relevant item: no NDCG     —                    —        0     0    1
    const p = await labelled({ name: 'runs', kind: 'ranking', grades, k: 2 }, [
      { output: list(3, 2, 1), answer: graded(3, 1, 0), country: 'FR' },
      { output: list(2, 5, 1), answer: graded(3, 0, 2), country: 'FR', inclusionProbability: 0.5 },
      { output: list(2, 1), answer: graded(0, 0), country: 'DE' },
    ]);
    const all = await p.rowOf();
    expect(all.metrics.kind).toBe('ranking');
    const second = 7 / Math.log2(3) / (7 + 3 / Math.log2(3));
    expect(all.metrics.current).toEqual({
      kind: 'ranking',
      n: 3,
      effectiveN: 16 / 6,
      k: 2,
      ndcg: expect.closeTo((1 + 2 * second) / 3, 10),
      mrr: expect.closeTo((1 + 2 * 0.5 + 0) / 4, 10),
      precisionAtK: expect.closeTo((1 + 2 * 0.5 + 0) / 4, 10),
      withoutRelevant: 1,
    });
    expect(all.metrics.headline).toMatchObject({ metric: 'ndcg', better: 'higher', value: { value: expect.closeTo((1 + 2 * second) / 3, 10), n: 2 } });
  });

  it('multi-label: per-label and micro precision, recall and F1, Hamming loss and subset accuracy, from the scores at 0.5', async () => {
    // item  scores (≥ 0.5)                       model            label            weight  tp fp fn  wrong of 3
    // 1     sports .9 politics .2 tech .6        sports, tech     sports, tech     1       2  0  0   0
    // 2     sports .1 politics .7 tech .4        politics         politics, tech   1       1  0  1   1
    // 3     sports .8 politics .6 tech .1        sports, politics sports           2       1  1  0   1
    // 4     sports .3 politics .2 tech .55 (v2)  tech             sports           1       0  1  1   2
    const p = await labelled({ name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'tech' }] }, [
      { output: { scores: { sports: 0.9, politics: 0.2, tech: 0.6 } }, answer: ['tech', 'sports'], country: 'FR' },
      { output: { scores: { sports: 0.1, politics: 0.7, tech: 0.4 } }, answer: ['politics', 'tech'], country: 'FR' },
      { output: { scores: { sports: 0.8, politics: 0.6, tech: 0.1 } }, answer: ['sports'], country: 'DE', inclusionProbability: 0.5 },
      { output: { scores: { sports: 0.3, politics: 0.2, tech: 0.55 } }, answer: ['sports'], country: 'DE', version: '2' },
    ]);
    const all = await p.rowOf();
    expect(all.metrics.kind).toBe('multi_label');
    const m = all.metrics.current;
    expect(m.n).toBe(4);
    // weights 1, 1, 2, 1: TP 2 + 1 + 2·1 = 5, FP 2·1 + 1 = 3, FN 1 + 1 = 2
    expect(m.micro.precision).toBeCloseTo(5 / 8, 10);
    expect(m.micro.recall).toBeCloseTo(5 / 7, 10);
    expect(m.micro.f1).toBeCloseTo(10 / 15, 10);
    // (0 + 1/3 + 2·1/3 + 2/3) / 5
    expect(m.hammingLoss).toBeCloseTo(1 / 3, 10);
    expect(m.subsetAccuracy).toBeCloseTo(1 / 5, 10);
    // sports TP 1 + 2, FN 1; politics TP 1, FP 2; tech TP 1, FP 1, FN 1
    expect(m.perLabel).toEqual([
      { label: 'sports', precision: 1, recall: 0.75, f1: expect.closeTo(6 / 7, 10), support: 4 },
      { label: 'politics', precision: expect.closeTo(1 / 3, 10), recall: 1, f1: 0.5, support: 1 },
      { label: 'tech', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
    ]);
    expect(m.macroF1).toBeCloseTo((6 / 7 + 0.5 + 0.5) / 3, 10);
    expect(all.metrics.headline).toMatchObject({ metric: 'micro_f1', better: 'higher', baseline: null, value: { value: expect.closeTo(2 / 3, 10), n: 4 } });
    expect(all.metrics.headline.series.reduce((n: number, point: { value: { n: number } }) => n + point.value.n, 0)).toBe(4);
    // subset accuracy is today's accuracy on the text form (labels one per line, in the question's order)
    expect(all.accuracy.value).toBeCloseTo(1 / 5, 10);
    expect(all.perClass).toEqual([]);

    // FR holds items 1 and 2: TP 3, FN 1
    const fr = (await p.rowOf('*', 'country', 'FR')).metrics.current;
    expect(fr).toMatchObject({ n: 2, subsetAccuracy: 0.5 });
    expect(fr.micro.f1).toBeCloseTo(6 / 7, 10);
    expect(fr.hammingLoss).toBeCloseTo(1 / 6, 10);
    // model version 2 made item 4 alone: nothing right
    expect((await p.rowOf('2')).metrics.current).toMatchObject({ n: 1, micro: { precision: 0, recall: 0, f1: 0 }, subsetAccuracy: 0 });
  });

  it('numeric: MAE, RMSE and the coverage of the model’s intervals (as sent, or ± 1.96 std)', async () => {
    // item  model               label  |error|  inside  weight
    // 1     10 [8, 12]          11     1        yes     2
    // 2     20 std 2 (±3.92)    25     5        no      1
    // 3     30                  27     3        —       1
    // 4     40 [35, 50]         34     6        no      1
    // 5     20 std 2 (±3.92)    23.5   3.5      yes     1   (in DE)
    const p = await labelled({ name: 'price', kind: 'numeric', min: 0, max: 1000 }, [
      { output: { suggestions: { price: { value: 10, interval: [8, 12] } } }, answer: 11, country: 'FR', inclusionProbability: 0.5 },
      { output: { suggestions: { price: { value: 20, std: 2 } } }, answer: 25, country: 'FR' },
      { output: { suggestions: { price: { value: 30 } } }, answer: 27, country: 'FR' },
      { output: { suggestions: { price: { value: 40, interval: [35, 50] } } }, answer: 34, country: 'FR' },
      { output: { suggestions: { price: { value: 20, std: 2 } } }, answer: 23.5, country: 'DE' },
    ]);
    const all = await p.rowOf();
    const m = all.metrics.current;
    expect(all.metrics.kind).toBe('numeric');
    // total weight 6
    expect(m.mae).toBeCloseTo((2 * 1 + 5 + 3 + 6 + 3.5) / 6, 10);
    expect(m.rmse).toBeCloseTo(Math.sqrt((2 * 1 + 25 + 9 + 36 + 12.25) / 6), 10);
    // inside on weight 2 + 1 of the 2 + 1 + 1 + 1 with an interval
    expect(m.coverage).toBeCloseTo(3 / 5, 10);
    expect(m.withInterval).toBe(4);
    expect(all.metrics.headline).toMatchObject({ metric: 'mae', better: 'lower', value: { value: expect.closeTo(19.5 / 6, 10), n: 5 } });

    const fr = (await p.rowOf('*', 'country', 'FR')).metrics.current;
    expect(fr.mae).toBeCloseTo(16 / 5, 10);
    expect(fr.rmse).toBeCloseTo(Math.sqrt(72 / 5), 10);
    expect(fr.coverage).toBeCloseTo(2 / 4, 10);
    // the model sent no interval for item 3: nothing to cover
    const de = (await p.rowOf('*', 'country', 'DE')).metrics.current;
    expect(de).toMatchObject({ n: 1, mae: 3.5, coverage: 1 });
  });

  it('rating: exact and within-one accuracy on the scale, and Spearman’s ρ between the model’s value and the label', async () => {
    // item  model  nearest point  label  apart  weight
    // 1     4.2    4              4      0      1
    // 2     2.6    3              1      2      1
    // 3     3.4    3              4      1      2
    // 4     4.9    5              5      0      1
    // 5     1.2    1              2      1      1
    const p = await labelled({ name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) }, [
      { output: { suggestions: { quality: { value: 4.2 } } }, answer: 4, country: 'FR' },
      { output: { suggestions: { quality: { value: 2.6, std: 0.4 } } }, answer: 1, country: 'FR' },
      { output: { suggestions: { quality: { value: 3.4 } } }, answer: 4, country: 'FR', inclusionProbability: 0.5 },
      { output: { suggestions: { quality: { value: 4.9 } } }, answer: 5, country: 'DE' },
      { output: { suggestions: { quality: { value: 1.2 } } }, answer: 2, country: 'DE' },
    ]);
    const all = await p.rowOf();
    const m = all.metrics.current;
    // total weight 6: exact on 1 + 1, within one on 1 + 2 + 1 + 1
    expect(m.exactAccuracy).toBeCloseTo(2 / 6, 10);
    expect(m.withinOneAccuracy).toBeCloseTo(5 / 6, 10);
    // weighted midranks (weight below + half the weight equal): model [4.5, 1.5, 3, 5.5, 0.5], label [3.5, 0.5, 3.5, 5.5, 1.5];
    // both weighted means 3; Σw·dx·dy = 0.75 + 3.75 + 0 + 6.25 + 3.75 = 14.5, Σw·dx² = 17, Σw·dy² = 15.5
    expect(m.spearman).toBeCloseTo(14.5 / Math.sqrt(17 * 15.5), 10);
    expect(all.metrics.headline).toMatchObject({ metric: 'within_one_accuracy', value: { value: expect.closeTo(5 / 6, 10) } });
    // FR: items 1–3, weight 4: exact 1, within one 1 + 2; midranks model [3.5, 0.5, 2], label [2.5, 0.5, 2.5], both means 2
    // dx [1.5, −1.5, 0], dy [0.5, −1.5, 0.5]: Σw·dx·dy = 0.75 + 2.25 = 3, Σw·dx² = 4.5, Σw·dy² = 0.25 + 2.25 + 2·0.25 = 3
    const fr = (await p.rowOf('*', 'country', 'FR')).metrics.current;
    expect(fr.exactAccuracy).toBeCloseTo(1 / 4, 10);
    expect(fr.withinOneAccuracy).toBeCloseTo(3 / 4, 10);
    expect(fr.spearman).toBeCloseTo(3 / Math.sqrt(4.5 * 3), 10);
  });

  it('spans: span precision, recall and F1, matching start, end and label exactly, micro-averaged', async () => {
    // item  model                            label                    tp fp fn  weight
    // 1     0–12 PER, 17–32 PER, 40–53 ORG   the same                 3  0  0   1
    // 2     0–12 PER, 40–53 PER              0–12 PER, 40–53 ORG      1  1  1   2
    // 3     0–3 PER                          0–12 PER                 0  1  1   1
    // 4     none                             17–32 PER                0  0  1   1
    const all3 = [span(0, 12, 'PER'), span(17, 32, 'PER'), span(40, 53, 'ORG')];
    const p = await labelled({ name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }] }, [
      { output: { suggestions: { ents: { spans: all3.map((s) => ({ ...s, score: 0.9 })) } } }, answer: [...all3].reverse(), country: 'FR' },
      {
        output: { suggestions: { ents: { spans: [span(0, 12, 'PER'), span(40, 53, 'PER')] } } },
        answer: [span(0, 12, 'PER'), span(40, 53, 'ORG')],
        country: 'FR',
        inclusionProbability: 0.5,
      },
      { output: { suggestions: { ents: { spans: [{ ...span(0, 3, 'PER'), score: 0.3 }] } } }, answer: [span(0, 12, 'PER')], country: 'DE' },
      { output: { suggestions: { ents: { spans: [] } } }, answer: [span(17, 32, 'PER')], country: 'DE' },
    ]);
    const all = await p.rowOf();
    // TP 3 + 2·1 = 5, FP 2·1 + 1 = 3, FN 2·1 + 1 + 1 = 4
    expect(all.metrics.current).toEqual({
      kind: 'spans',
      n: 4,
      effectiveN: expect.closeTo(25 / 7, 10),
      precision: expect.closeTo(5 / 8, 10),
      recall: expect.closeTo(5 / 9, 10),
      f1: expect.closeTo(10 / 17, 10),
    });
    expect(all.metrics.headline).toMatchObject({ metric: 'span_f1', value: { value: expect.closeTo(10 / 17, 10) } });
    // DE: items 3 and 4, TP 0, FP 1, FN 2
    expect((await p.rowOf('*', 'country', 'DE')).metrics.current).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });

  it('text: exact-match accuracy, ends trimmed', async () => {
    const p = await labelled({ name: 'summary', kind: 'text' }, [
      { output: { suggestions: { summary: { value: 'A meeting. ' } } }, answer: 'A meeting.', country: 'FR' },
      { output: { suggestions: { summary: { value: 'A meting', confidence: 0.4 } } }, answer: 'A meeting', country: 'FR', inclusionProbability: 0.5 },
      { output: { suggestions: { summary: { value: 'Done' } } }, answer: 'Done', country: 'FR' },
    ]);
    // right on weight 1 + 1 of 1 + 2 + 1
    expect((await p.rowOf()).metrics).toMatchObject({ kind: 'text', headline: { metric: 'exact_accuracy' }, current: { n: 3, exactAccuracy: 0.5 } });
  });

  it('generation: the first response (the one the user saw) against the correction, exact match and how far it was moved', async () => {
    const reply = (text: string) => ({
      suggestions: { reply: { messages: [{ role: 'user', content: 'Plan my run' }], responses: [{ text }, { text: 'other' }] } },
    });
    const p = await labelled({ name: 'reply', kind: 'generation' }, [
      { output: reply('Run 5 km.'), answer: 'Run 5 km.', country: 'FR' },
      { output: reply('Run 5 km.'), answer: 'Run 5 km!', country: 'FR', inclusionProbability: 0.5 },
      { output: reply('abcd'), answer: 'wxyz', country: 'DE' },
    ]);
    // weights 1, 2, 1: right on 1 of 4; distances 0, 1/9 (weight 2), 1
    expect((await p.rowOf()).metrics).toMatchObject({
      kind: 'text',
      headline: { metric: 'exact_accuracy' },
      current: { n: 3, exactAccuracy: 0.25, meanEditDistance: expect.closeTo((2 / 9 + 1) / 4, 10) },
    });
  });

  it('a label question keeps its accuracy rows, with no per-kind metrics', async () => {
    const p = await labelled({ name: 'label', kind: 'label', labels: [{ name: 'ham' }, { name: 'spam' }] }, [
      { output: { scores: { ham: 0.8, spam: 0.2 } }, answer: 'ham', country: 'FR' },
      { output: { scores: { ham: 0.3, spam: 0.7 } }, answer: 'ham', country: 'FR' },
    ]);
    const all = await p.rowOf();
    expect(all.metrics).toBeNull();
    expect(all.accuracy).toMatchObject({ value: 0.5, n: 2 });
    expect(all.perClass.map((c: { label: string }) => c.label)).toEqual(['ham', 'spam']);
  });

  it('alerts when a numeric model’s MAE rises past its baseline, on all traffic and its slice, and boosts the slice', async () => {
    const errors = (model: number[], error: number[]) =>
      model.map((value, i) => ({ output: { suggestions: { price: { value } } }, answer: value + error[i], country: 'FR' }));
    // the reference window: errors 1, 2, 1, 2, 1, 2 (MAE 1.5)
    const p = await labelled({ name: 'price', kind: 'numeric' }, errors([10, 20, 30, 40, 50, 60], [1, -2, 1, -2, 1, -2]), { minLabels: 5 });
    await backdatePredictions(app, p.project.id, `now() - interval '3 days'`);
    // the current window: errors 8, 9, 10, 8, 9, 10 (MAE 9)
    await p.add(errors([10, 20, 30, 40, 50, 60], [8, 9, -10, 8, -9, 10]));

    const evaluated = await app.request('POST', p.path('/monitoring/evaluate'), { token: admin });
    expect(evaluated.status).toBe(200);
    const raised = evaluated.body.raised as Array<Record<string, unknown>>;
    expect(raised.map((a) => [a.kind, a.metric, a.slice])).toHaveLength(2);
    expect(raised.map((a) => [a.kind, a.metric, a.slice])).toEqual(
      expect.arrayContaining([
        ['accuracy', 'mae', null],
        ['accuracy', 'mae', 'country=FR'],
      ]),
    );
    const overall = raised.find((a) => a.slice === null)!;
    expect(overall).toMatchObject({ value: 9, baseline: 1.5, threshold: expect.closeTo(1.5 * 1.2, 10) });
    expect(overall.message).toMatch(/^MAE on all traffic rose to 9\.000 from 1\.500/);
    const reply = await p.monitoringReply();
    expect(reply.boosts.map((b: { slice: string }) => b.slice)).toEqual(['country=FR']);
    expect(reply.alerts.filter((a: { metric: string }) => a.metric === 'mae')).toHaveLength(2);
    const row = reply.accuracy.find((r) => r.modelVersion === '*' && r.sliceKey === '*');
    expect(row.metrics.headline).toMatchObject({ value: { value: 9, n: 6 }, baseline: { value: 1.5, n: 6 } });
  });
});

import { Questions, type Answers } from '@backflow/questions';
import { questionAgreement, raterQuestionReliability, type AnswerSet } from './question-agreement';

const questions = Questions.parse([
  { name: 'verdict', kind: 'label', labels: [{ name: 'ok' }, { name: 'bad' }] },
  { name: 'stars', kind: 'rating', points: [0, 10, 20, 30].map((value) => ({ value, name: `s${value}` })) },
  { name: 'price', kind: 'numeric', tolerance: 1, relativeTolerance: 0.1, required: false },
  { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }] },
]);
const [verdict, stars, price, ents] = questions;

const set = (taskId: string, raterId: string, answers: Answers, finalAnswers: Answers | null = null): AnswerSet => ({ taskId, raterId, answers, finalAnswers });

describe('agreement per question', () => {
  it('leaves a blank answer out, so a task with one answer to a question is not pairable', () => {
    const sets = [
      set('t1', 'a', { verdict: 'ok', price: 5 }),
      set('t1', 'b', { verdict: 'ok' }),
      set('t2', 'a', { verdict: 'bad', price: 7 }),
      set('t2', 'b', { verdict: 'ok', price: 9 }),
    ];
    const [v, , p, e] = questionAgreement(questions, sets);
    // nominal, ok ok / bad ok: n_ok = 3, n_bad = 1, o(ok, bad) = 1, so α = 1 − (n − 1)·1 / (n_ok · n_bad) = 1 − 3/3 = 0
    expect(v).toEqual({
      name: 'verdict',
      kind: 'label',
      measure: 'alpha',
      distance: 'nominal',
      value: 0,
      pairable: 4,
      fleissKappa: expect.any(Number),
      fleissTasks: 2,
    });
    // κ: P̄ = (1 + 0)/2, P_e = (3/4)² + (1/4)² = 5/8, so κ = (1/2 − 5/8)/(3/8) = −1/3
    expect(v.fleissKappa).toBeCloseTo(-1 / 3, 12);
    // only t2 pairs on price: one unit of 7 and 9 is all the data, so α = 1 − (2 − 1)·4 / (1·1·4) = 0
    expect(p).toMatchObject({ distance: 'interval', value: 0, pairable: 2 });
    // nobody marked spans: nothing to measure
    expect(e).toEqual({ name: 'ents', kind: 'spans', measure: 'span_f1', value: null, pairable: 0 });
  });

  it('ranks ratings ordinally: by the marginal counts between two values, not by their difference', () => {
    const pairs: Array<[number, number]> = [
      [0, 10],
      [10, 10],
      [20, 30],
      [30, 30],
      [0, 0],
    ];
    const sets = pairs.flatMap(([x, y], i) => [set(`t${i}`, 'a', { stars: x }), set(`t${i}`, 'b', { stars: y })]);
    // n_0 = 3, n_10 = 3, n_20 = 1, n_30 = 3 (n = 10): mid-ranks 1.5, 4.5, 6.5, 8.5, δ² their squared differences.
    // Observed: o(0,10)·9 + o(20,30)·4 = 13. Expected: Σ n_c n_k δ² = 9·9 + 3·25 + 9·49 + 3·4 + 9·16 + 3·4 = 765.
    // α = 1 − (n − 1)·13/765 = 72/85 (the interval distance would give 0.875)
    const [agreement] = questionAgreement([stars], sets);
    expect(agreement).toMatchObject({ name: 'stars', kind: 'rating', measure: 'alpha', distance: 'ordinal', pairable: 10 });
    expect(agreement.value).toBeCloseTo(72 / 85, 12);
  });
});

describe('agreement on preferences', () => {
  const [, better] = Questions.parse([
    { name: 'reply', kind: 'generation' },
    { name: 'better', kind: 'preference', of: 'reply' },
  ]);
  const pick = (preferred: string) => ({ better: { preferred, left: 'first' } });

  it("gives Fleiss' κ beside α, over the tasks with the commonest number of raters", () => {
    const answers: string[][] = [
      ['first', 'first'],
      ['second', 'second'],
      ['first', 'second'],
      ['tie', 'tie'],
      ['first', 'first', 'second'],
    ];
    const sets = answers.flatMap((unit, t) => unit.map((preferred, r) => set(`t${t}`, `r${r}`, pick(preferred))));
    const [agreement] = questionAgreement([better], sets);
    // four tasks of two: P_i = 1, 1, 0, 1 so P̄ = 3/4; p = 3/8 first, 3/8 second, 2/8 tie, P_e = 22/64; κ = (48/64 − 22/64)/(42/64) = 13/21
    expect(agreement).toMatchObject({ measure: 'alpha', distance: 'nominal', fleissTasks: 4, pairable: 11 });
    expect(agreement.fleissKappa).toBeCloseTo(13 / 21, 12);
    // with no task answered twice there is nothing to measure
    expect(questionAgreement([better], [set('t1', 'a', pick('first'))])[0]).toMatchObject({ fleissKappa: null, fleissTasks: 0 });
  });
});

describe('a rater against the final answers, per question', () => {
  it('counts a label exactly, and only where both the rater and the final answer hold one', () => {
    const sets = [
      set('t1', 'a', { verdict: 'ok' }, { verdict: 'ok' }),
      set('t2', 'a', { verdict: 'ok' }, { verdict: 'bad' }),
      set('t3', 'a', { verdict: 'ok' }, null),
      set('t4', 'a', {}, { verdict: 'ok' }),
    ];
    expect(raterQuestionReliability(verdict, sets)).toEqual({ name: 'verdict', kind: 'label', compared: 2, measure: 'exact', value: 0.5 });
  });

  it('measures a rating in points of the scale, not in its values', () => {
    // 10 against 20 is one point away; 0 against 20 two
    const sets = [set('t1', 'a', { stars: 10 }, { stars: 20 }), set('t2', 'a', { stars: 0 }, { stars: 20 })];
    expect(raterQuestionReliability(stars, sets)).toMatchObject({ compared: 2, measure: 'within_one', value: 0.5 });
  });

  it('gives a number its mean absolute error and the share within the tolerance around the final answer', () => {
    // tolerance: max(1, 0.1 × |final|): 1 around 4, 10 around 100
    const sets = [set('t1', 'a', { price: 6 }, { price: 4 }), set('t2', 'a', { price: 109 }, { price: 100 }), set('t3', 'a', { price: 5 }, {})];
    expect(raterQuestionReliability(price, sets)).toEqual({
      name: 'price',
      kind: 'numeric',
      compared: 2,
      measure: 'within_tolerance',
      value: 0.5,
      meanAbsoluteError: 5.5,
    });
  });

  it('averages span F1, exact spans only', () => {
    const per = { start: 0, end: 3, label: 'PER' };
    const sets = [
      set('t1', 'a', { ents: [per] }, { ents: [per, { start: 5, end: 8, label: 'PER' }] }),
      set('t2', 'a', { ents: [{ start: 0, end: 4, label: 'PER' }] }, { ents: [per] }),
    ];
    // 2·1/(1 + 2) and 0
    expect(raterQuestionReliability(ents, sets)).toMatchObject({ compared: 2, measure: 'mean_span_f1', value: 1 / 3 });
  });

  it('has nothing to say of a rater who never answered', () => {
    expect(raterQuestionReliability(stars, [])).toEqual({ name: 'stars', kind: 'rating', compared: 0, measure: 'within_one', value: null });
  });
});

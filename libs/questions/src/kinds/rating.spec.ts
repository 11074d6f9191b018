import { RatingQuestion } from '../definitions';
import { ratingKind } from './rating';

const points = (...values: number[]) => values.map((value) => ({ value, name: `p${value}` }));
const stars = RatingQuestion.parse({ name: 'stars', kind: 'rating', points: points(1, 2, 3, 4, 5) });
const tiered = RatingQuestion.parse({ name: 'stars', kind: 'rating', points: points(1, 2, 3, 4, 5), decisionThresholds: [3] });

describe('rating suggestions', () => {
  it('takes a value between the points (an expected rating) within the scale', () => {
    expect(ratingKind.suggestion(stars, { value: 4.2, std: 0.3 })).toEqual({ ok: true, value: { value: 4.2, std: 0.3 } });
    expect(ratingKind.suggestion(stars, { value: 1, interval: [1, 2] })).toEqual({ ok: true, value: { value: 1, interval: [1, 2] } });
  });

  it.each([
    ['below the scale', { value: 0.9 }, ['value'], 'within the scale, 1 to 5'],
    ['above the scale', { value: 5.5 }, ['value'], 'within the scale, 1 to 5'],
    ['a negative std', { value: 3, std: -1 }, ['std'], 'a finite number, at least 0'],
    ['an interval upside down', { value: 3, interval: [4, 2] }, ['interval'], '[low, high]: two finite numbers, low at most high'],
    ['an interval of three', { value: 3, interval: [2, 3, 4] }, ['interval'], '[low, high]: two finite numbers, low at most high'],
    ['an unknown key', { value: 3, mean: 3 }, ['mean'], 'unknown key "mean"'],
    ['a bare number', 3, [], 'expected an object: {"value": …, "std"?: …, "interval"?: [low, high]}'],
  ])('refuses %s', (_what, raw, path, message) => {
    expect(ratingKind.suggestion(stars, raw)).toEqual({ ok: false, issue: { path, message } });
  });
});

describe('rating uncertainty', () => {
  it('is the predictive interval over the scale (5 − 1 = 4)', () => {
    // a std counts as a 95% interval of 2 · 1.959964 · 0.5 = 1.959964 points: 1.959964 / 4
    expect(ratingKind.uncertainty(stars, { value: 3, std: 0.5 }, 'entropy')).toBeCloseTo(0.489991, 6);
    expect(ratingKind.uncertainty(stars, { value: 3, interval: [2, 4] }, 'entropy')).toBe(0.5);
    expect(ratingKind.uncertainty(stars, { value: 3 }, 'entropy')).toBe(0);
    expect(ratingKind.confidence(stars, { value: 3, interval: [2.5, 3.5] })).toBe(0.75);
  });

  it('rises near a decision threshold', () => {
    expect(ratingKind.uncertainty(tiered, { value: 3 }, 'entropy')).toBe(1); // on the threshold, no spread given
    expect(ratingKind.uncertainty(tiered, { value: 4 }, 'entropy')).toBe(0);
    // 1σ = 0.5 from 3: 2Φ(−1) = 0.317311 is below the width term 0.489991, which wins
    expect(ratingKind.uncertainty(tiered, { value: 3.5, std: 0.5 }, 'entropy')).toBeCloseTo(0.489991, 6);
    // 0.25 = ½σ from 3: 2Φ(−0.5) = 0.617075
    expect(ratingKind.uncertainty(tiered, { value: 3.25, std: 0.5 }, 'entropy')).toBeCloseTo(0.617075, 6);
  });

  it('predicts the nearest point, the lower one on a tie', () => {
    expect(ratingKind.predicted(stars, { value: 3.5 })).toBe(3);
    expect(ratingKind.predicted(stars, { value: 3.51 })).toBe(4);
    expect(ratingKind.predicted(stars, { value: 4.6 })).toBe(5);
    expect(ratingKind.predicted(stars, { value: 1 })).toBe(1);
  });
});

describe('rating answers', () => {
  it('takes a point of the scale', () => {
    expect(ratingKind.answer(stars, 4)).toEqual({ ok: true, value: 4 });
  });

  it.each([[2.5], [0], [6], ['3'], [null], [NaN]])('refuses %j', (raw) => {
    const checked = ratingKind.answer(stars, raw);
    expect(checked).toEqual({ ok: false, issue: { path: [], message: "one of the scale's values: 1 (p1), 2 (p2), 3 (p3), 4 (p4), 5 (p5)" } });
  });
});

describe('rating consensus', () => {
  it.each([
    // lower median of [1, 2, 5] is 2; 1 is one point away, 5 three: 2 of 3 within maxSpread 1
    [[1, 2, 5], 1, 0.6, { decided: true, value: 2, agreement: 2 / 3 }],
    [[5, 1, 2], 1, 0.7, { decided: false, agreement: 2 / 3 }],
    // [2, 4]: the lower median is 2 (an answer, not 3); 4 is two points away
    [[4, 2], 1, 0.5, { decided: true, value: 2, agreement: 0.5 }],
    [[4, 2], 2, 1, { decided: true, value: 2, agreement: 1 }],
    [[3, 3, 4, 4], 0, 0.5, { decided: true, value: 3, agreement: 0.5 }],
    [[3, 3, 4, 4], 0, 0.6, { decided: false, agreement: 0.5 }],
    [[5], 0, 1, { decided: true, value: 5, agreement: 1 }],
    [[], 1, 0, { decided: false, agreement: 0 }],
  ])('%j with maxSpread %d at %f → %j', (answers, maxSpread, threshold, decision) => {
    expect(ratingKind.consensus({ ...stars, maxSpread }, answers, threshold)).toEqual(decision);
  });

  it('counts the spread in points of the scale, not in values', () => {
    const sparse = RatingQuestion.parse({ name: 'risk', kind: 'rating', points: points(-10, 0, 10) });
    // −10 and 10 are two points apart (index 0 and 2) although 20 apart in value
    expect(ratingKind.consensus(sparse, [-10, 10], 0.5)).toEqual({ decided: true, value: -10, agreement: 0.5 });
    // 0 is one point from both
    expect(ratingKind.consensus(sparse, [-10, 0, 10], 1)).toEqual({ decided: true, value: 0, agreement: 1 });
  });

  it('measures agreement by ordinal α and exports one int', () => {
    expect(ratingKind.agreement(stars)).toEqual({ kind: 'alpha', distance: 'ordinal' });
    const columns = ratingKind.columns(stars);
    expect(columns.map((c) => [c.name, c.type, c.list, c.values(4)])).toEqual([['stars', 'int', false, [4]]]);
  });
});

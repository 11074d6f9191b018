import { NumericQuestion } from '../definitions';
import { numericKind, numericTolerance } from './numeric';

const Z95 = 1.959963984540054;
const bounded = NumericQuestion.parse({ name: 'price', kind: 'numeric', min: 0, max: 200 });
const tiered = NumericQuestion.parse({ name: 'price', kind: 'numeric', min: 0, max: 200, decisionThresholds: [100] });
const unbounded = NumericQuestion.parse({ name: 'price', kind: 'numeric' });

describe('numeric suggestions', () => {
  it("takes a value outside the answer bounds: it is still the model's output", () => {
    expect(numericKind.suggestion(bounded, { value: 300, std: 2 })).toEqual({ ok: true, value: { value: 300, std: 2 } });
  });

  it('refuses a value that is not a finite number', () => {
    expect(numericKind.suggestion(bounded, { value: Infinity })).toEqual({ ok: false, issue: { path: ['value'], message: 'a finite number' } });
    expect(numericKind.suggestion(bounded, { std: 1 })).toEqual({ ok: false, issue: { path: ['value'], message: 'a finite number' } });
  });
});

describe('numeric uncertainty', () => {
  it('is the interval width over max − min (200)', () => {
    expect(numericKind.uncertainty(bounded, { value: 100, interval: [90, 110] }, 'entropy')).toBe(0.1); // 20 / 200
    // a std of 5 is a 95% interval 2 · 1.959964 · 5 = 19.59964 wide: 19.59964 / 200
    expect(numericKind.uncertainty(bounded, { value: 100, std: 5 }, 'entropy')).toBeCloseTo(0.0979982, 7);
    expect(numericKind.uncertainty(bounded, { value: 100, interval: [0, 400] }, 'entropy')).toBe(1); // 400 / 200, clamped
    expect(numericKind.confidence(bounded, { value: 100, interval: [90, 110] })).toBe(0.9);
  });

  it('takes the interval over the std when both are sent', () => {
    expect(numericKind.uncertainty(bounded, { value: 100, std: 50, interval: [90, 110] }, 'entropy')).toBe(0.1);
  });

  it('without bounds, scales by the value itself, or by 1 at 0; uncertaintyScale overrides both', () => {
    expect(numericKind.uncertainty(unbounded, { value: 50, interval: [40, 60] }, 'entropy')).toBe(0.4); // 20 / 50
    expect(numericKind.uncertainty(unbounded, { value: -50, interval: [-60, -40] }, 'entropy')).toBe(0.4); // 20 / |−50|
    expect(numericKind.uncertainty(unbounded, { value: 0, interval: [-0.25, 0.25] }, 'entropy')).toBe(0.5); // 0.5 / 1
    expect(numericKind.uncertainty({ ...unbounded, uncertaintyScale: 100 }, { value: 50, interval: [40, 60] }, 'entropy')).toBe(0.2);
    expect(numericKind.uncertainty({ ...bounded, uncertaintyScale: 40 }, { value: 50, interval: [40, 60] }, 'entropy')).toBe(0.5);
  });

  it('near a decision threshold is 2Φ(−|v − t| / σ), the larger of it and the width term', () => {
    // on the threshold: 2Φ(0) = 1
    expect(numericKind.uncertainty(tiered, { value: 100, std: 5 }, 'entropy')).toBeCloseTo(1, 6);
    // one σ away: 2Φ(−1) = 0.3173105 (above the width term 0.0979982)
    expect(numericKind.uncertainty(tiered, { value: 105, std: 5 }, 'entropy')).toBeCloseTo(0.3173105, 6);
    expect(numericKind.uncertainty(tiered, { value: 95, std: 5 }, 'entropy')).toBeCloseTo(0.3173105, 6);
    // the same σ from a 95% interval 2 · 1.959964 · 5 wide
    expect(numericKind.uncertainty(tiered, { value: 105, interval: [105 - Z95 * 5, 105 + Z95 * 5] }, 'entropy')).toBeCloseTo(0.3173105, 6);
    // two σ away: 2Φ(−2) = 0.0455003 is below the width term 0.0979982, which wins
    expect(numericKind.uncertainty(tiered, { value: 110, std: 5 }, 'entropy')).toBeCloseTo(0.0979982, 7);
  });

  it('reads the nearest of several thresholds', () => {
    // 95 is 1σ from 100 and 9σ from 50
    const twoTiers = { ...tiered, decisionThresholds: [50, 100] };
    expect(numericKind.uncertainty(twoTiers, { value: 95, std: 5 }, 'entropy')).toBeCloseTo(0.3173105, 6);
  });

  it('takes a model that sends no spread at its word: uncertain only exactly on a threshold', () => {
    expect(numericKind.uncertainty(tiered, { value: 100 }, 'entropy')).toBe(1);
    expect(numericKind.uncertainty(tiered, { value: 100, std: 0 }, 'entropy')).toBe(1);
    expect(numericKind.uncertainty(tiered, { value: 100.5 }, 'entropy')).toBe(0);
    expect(numericKind.uncertainty(bounded, { value: 100 }, 'entropy')).toBe(0);
    expect(numericKind.confidence(tiered, { value: 100 })).toBe(0);
  });

  it('predicts the value itself', () => {
    expect(numericKind.predicted(bounded, { value: 12.5, std: 1 })).toBe(12.5);
  });
});

describe('numeric answers', () => {
  const count = NumericQuestion.parse({ name: 'count', kind: 'numeric', min: 0, max: 10, integer: true });

  it('takes a number within the bounds, fractional unless the question wants whole numbers', () => {
    expect(numericKind.answer(count, 10)).toEqual({ ok: true, value: 10 });
    expect(numericKind.answer(count, 0)).toEqual({ ok: true, value: 0 });
    expect(numericKind.answer(bounded, 2.5)).toEqual({ ok: true, value: 2.5 });
    expect(numericKind.answer(unbounded, -1e9)).toEqual({ ok: true, value: -1e9 });
  });

  it.each([
    [11, 'at most 10'],
    [-1, 'at least 0'],
    [2.5, 'a whole number (within ±(2^53 − 1))'],
    [NaN, 'a finite number'],
    [Infinity, 'a finite number'],
    ['3', 'a finite number'],
  ])('refuses %j: %s', (raw, message) => {
    expect(numericKind.answer(count, raw)).toEqual({ ok: false, issue: { path: [], message } });
  });

  it('refuses a whole number past 2^53 − 1', () => {
    expect(numericKind.answer({ ...count, max: undefined }, 2 ** 53).ok).toBe(false);
  });
});

describe('numeric consensus', () => {
  const at = (settings: Partial<NumericQuestion>) => ({ ...unbounded, ...settings });

  it.each([
    // median 10.2, tolerance 0.05 · 10.2 = 0.51: 50 is an outlier; the lower median of [10, 10.2] is 10
    [[10, 10.2, 50], { relativeTolerance: 0.05 }, 0.6, { decided: true, value: 10, agreement: 2 / 3 }],
    [[50, 10, 10.2], { relativeTolerance: 0.05 }, 0.7, { decided: false, agreement: 2 / 3 }],
    // an absolute tolerance of 100 keeps all three: the lower median of them is 10.2
    [[10, 10.2, 50], { relativeTolerance: 0, tolerance: 100 }, 1, { decided: true, value: 10.2, agreement: 1 }],
    // the larger of the two tolerances applies: max(1, 0.05 · 10.2) = 1
    [[10, 10.2, 11.1], { relativeTolerance: 0.05, tolerance: 1 }, 1, { decided: true, value: 10.2, agreement: 1 }],
    // exact matching: median 3, [3, 3] kept
    [[3, 4, 3], { relativeTolerance: 0, tolerance: 0 }, 0.6, { decided: true, value: 3, agreement: 2 / 3 }],
    // two answers apart: the lower median 1 keeps only itself
    [[2, 1], { relativeTolerance: 0, tolerance: 0 }, 0.6, { decided: false, agreement: 0.5 }],
    // a negative median: 0.05 · |−100| = 5 keeps −104 and −96
    [[-100, -104, -96], { relativeTolerance: 0.05 }, 1, { decided: true, value: -100, agreement: 1 }],
    [[-100, -104, -96], { relativeTolerance: 0.03 }, 0.3, { decided: true, value: -100, agreement: 1 / 3 }],
    [[7], {}, 1, { decided: true, value: 7, agreement: 1 }],
    [[], {}, 0, { decided: false, agreement: 0 }],
  ])('%j with %j at %f → %j', (answers, settings, threshold, decision) => {
    expect(numericKind.consensus(at(settings), answers, threshold)).toEqual(decision);
  });

  it('numericTolerance is the larger of the absolute and relative tolerances', () => {
    expect(numericTolerance(at({ tolerance: 2, relativeTolerance: 0.1 }), -10)).toBe(2);
    expect(numericTolerance(at({ tolerance: 2, relativeTolerance: 0.1 }), -40)).toBe(4);
  });

  it('measures agreement by interval α and exports one float', () => {
    expect(numericKind.agreement(bounded)).toEqual({ kind: 'alpha', distance: 'interval' });
    expect(numericKind.columns(bounded).map((c) => [c.name, c.type, c.list, c.values(2.5)])).toEqual([['price', 'float', false, [2.5]]]);
  });
});

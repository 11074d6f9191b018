import { entropy, leastConfidence, margin, uncertainty } from './uncertainty';

describe('uncertainty scores', () => {
  it.each([
    // scores,                      least confidence, margin, entropy
    [[1, 0], 0, 0, 0],
    [[0, 1], 0, 0, 0],
    [[0.5, 0.5], 0.5, 1, 1],
    [[0.9, 0.1], 0.1, 0.2, 0.4689955935892812],
    [[1 / 3, 1 / 3, 1 / 3], 2 / 3, 1, 1],
    [[0.7, 0.2, 0.1], 0.3, 0.5, 0.7298466991620975],
    [[0.25, 0.25, 0.25, 0.25], 0.75, 1, 1],
    [[1, 0, 0, 0, 0], 0, 0, 0],
    // H = −(0.6 ln 0.6 + 0.4 ln 0.4) = 0.67301 nats over ln 4: zero-probability classes still count in K
    [[0.6, 0.4, 0, 0], 0.4, 0.8, 0.4854752972273344],
  ])('%j: least confidence %f, margin %f, entropy %f', (scores, lc, m, h) => {
    expect(leastConfidence(scores)).toBeCloseTo(lc, 12);
    expect(margin(scores)).toBeCloseTo(m, 12);
    expect(entropy(scores)).toBeCloseTo(h, 12);
  });

  it('reads scores by label the same as an array', () => {
    expect(entropy({ ham: 0.9, spam: 0.1 })).toBeCloseTo(entropy([0.9, 0.1]), 15);
    expect(uncertainty('margin', { a: 0.7, b: 0.2, c: 0.1 })).toBeCloseTo(0.5, 12);
    expect(uncertainty('least_confidence', { a: 0.7, b: 0.3 })).toBeCloseTo(0.3, 12);
  });

  it('stays finite and in [0, 1] at the edges', () => {
    for (const scores of [[], [1], [0], [0, 0], [1, 1], [NaN, 1], [-0.1, 1.1], [1e-300, 1 - 1e-300]]) {
      for (const strategy of ['least_confidence', 'margin', 'entropy'] as const) {
        const value = uncertainty(strategy, scores);
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
    }
  });

  it('orders predictions from sure to unsure consistently', () => {
    const sure = [0.98, 0.01, 0.01];
    const unsure = [0.4, 0.35, 0.25];
    for (const strategy of ['least_confidence', 'margin', 'entropy'] as const) {
      expect(uncertainty(strategy, unsure)).toBeGreaterThan(uncertainty(strategy, sure));
    }
  });
});

import { entropy, klToConsensus, leastConfidence, margin, uncertainty, voteEntropy } from './uncertainty';

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

describe('query-by-committee', () => {
  it('vote entropy: the entropy of the members’ votes, over log min(members, labels)', () => {
    const spam = { ham: 0.2, spam: 0.8 };
    const ham = { ham: 0.9, spam: 0.1 };
    expect(voteEntropy([spam, spam, spam])).toBe(0);
    // two labels, three members voting 2:1: −(2/3 ln 2/3 + 1/3 ln 1/3) / ln 2
    expect(voteEntropy([spam, spam, ham])).toBeCloseTo(-((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3)) / Math.log(2), 12);
    expect(voteEntropy([spam, ham])).toBeCloseTo(1, 12);
    // three labels, three members, three votes: the most
    expect(
      voteEntropy([
        { a: 1, b: 0, c: 0 },
        { a: 0, b: 1, c: 0 },
        { a: 0, b: 0, c: 1 },
      ]),
    ).toBeCloseTo(1, 12);
    expect(voteEntropy([spam])).toBe(0);
  });

  it('KL to the consensus: the members’ mean divergence from their mean distribution, over log min(members, labels)', () => {
    const p = { ham: 0.2, spam: 0.8 };
    const q = { ham: 0.6, spam: 0.4 };
    expect(klToConsensus([p, p])).toBeCloseTo(0, 12);
    const m = [0.4, 0.6];
    const kl = (a: number[]) => a.reduce((sum, x, k) => sum + x * Math.log(x / m[k]), 0);
    expect(klToConsensus([p, q])).toBeCloseTo((kl([0.2, 0.8]) + kl([0.6, 0.4])) / 2 / Math.log(2), 12);
    // certain members that disagree: the bound
    expect(
      klToConsensus([
        { ham: 1, spam: 0 },
        { ham: 0, spam: 1 },
      ]),
    ).toBeCloseTo(1, 12);
    // unnormalised scores are made distributions first; a label one member left out is 0 for it
    expect(klToConsensus([{ ham: 2, spam: 8 }, p])).toBeCloseTo(0, 12);
    expect(klToConsensus([{ ham: 1 }, { spam: 1 }])).toBeCloseTo(1, 12);
  });
});

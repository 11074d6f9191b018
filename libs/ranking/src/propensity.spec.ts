import { powerLawExamination, simulateClickLog, simulateSwapExperiment, type ClickLogRow, type SimulatedContext, type SwapRecord } from './click-model';
import { estimatePropensitiesEM, estimatePropensitiesFromSwaps, inversePropensityWeights, unbiasedItemRelevance, type PropensityEstimate } from './propensity';
import { mulberry32 } from './random';

const POSITIONS = 20;
// θ_k = 1 / k^0.8: position 2 is examined 57% as often as position 1, position 20 9%
const THETA = powerLawExamination(POSITIONS, 0.8);

/** Contexts of 20 items, each shown by a noisy ranker to `lists` impressions. */
function personalSearchLog(seed: number, shape: { contexts: number; lists: number; withFeatures: boolean }): ClickLogRow[] {
  const { withFeatures } = shape;
  const random = mulberry32(seed);
  const contexts: SimulatedContext[] = Array.from({ length: shape.contexts }, (_, q) => ({
    contextId: `q${q}`,
    items: Array.from({ length: POSITIONS }, (_, i) => {
      const features = [random() * 2 - 1, random() * 2 - 1];
      // relevance follows the features: logit γ = −1 + 2·x₁ − x₂
      return { itemId: `d${i}`, attraction: 1 / (1 + Math.exp(-(-1 + 2 * features[0] - features[1]))), features: withFeatures ? features : undefined };
    }),
  }));
  return simulateClickLog({ contexts, examination: THETA, listsPerContext: shape.lists, rankingNoise: 1.5, random });
}

/** How many positions after the first fall inside their interval, and the largest miss of the true θ. */
function recovery(estimates: readonly PropensityEstimate[]) {
  const rest = estimates.filter((e) => e.position > 1);
  return {
    covered: rest.filter((e) => e.low <= THETA[e.position - 1] && THETA[e.position - 1] <= e.high).length,
    largestError: Math.max(...rest.map((e) => Math.abs(e.value - THETA[e.position - 1]))),
  };
}

describe('regression EM (Wang et al., WSDM 2018)', () => {
  // Coverage measured over 20 seeds: 93% of positions inside their 95% interval with a γ per pair seen 50 times (90% at 25:
  // the per-pair γ are nuisance parameters), 95% for regression EM and for swaps. The thresholds below allow for that.
  it('recovers known position bias from a confounded log: every position within 0.05, at least 15 of 19 inside their 95% interval', () => {
    // 100 contexts × 50 impressions: 5,000 lists, 100,000 rows
    const rows = personalSearchLog(11, { contexts: 100, lists: 50, withFeatures: false });
    const fit = estimatePropensitiesEM(rows)!;
    expect(fit.converged).toBe(true);
    expect(fit.propensities).toHaveLength(POSITIONS);
    expect(fit.propensities[0]).toEqual({ position: 1, value: 1, low: 1, high: 1, observations: 5_000 });
    for (const estimate of fit.propensities) expect(estimate.observations).toBe(5_000);
    const { covered, largestError } = recovery(fit.propensities);
    expect(largestError).toBeLessThan(0.05);
    expect(covered).toBeGreaterThanOrEqual(15);
    // the raw click-through rate per position credits position with what the ranker's order did
    const ctr = (position: number) => {
      const at = rows.filter((row) => row.position === position);
      return at.filter((row) => row.clicked).length / at.length;
    };
    expect(ctr(10) / ctr(1)).toBeLessThan(THETA[9] - 0.05);
    expect(Math.abs(fit.propensities[9].value - THETA[9])).toBeLessThan(0.05);
  });

  it('fits relevance from features when rows carry them (200 contexts × 25 impressions), recovering the position bias and the relevance model', () => {
    const fit = estimatePropensitiesEM(personalSearchLog(12, { contexts: 200, lists: 25, withFeatures: true }))!;
    expect(fit.converged).toBe(true);
    const { covered, largestError } = recovery(fit.propensities);
    expect(largestError).toBeLessThan(0.05);
    expect(covered).toBeGreaterThanOrEqual(16);
    const [intercept, first, second] = fit.coefficients!;
    expect(Math.abs(intercept + 1)).toBeLessThan(0.25);
    expect(Math.abs(first - 2)).toBeLessThan(0.25);
    expect(Math.abs(second + 1)).toBeLessThan(0.25);
    // relevance is on the position-1 scale: a click probability
    for (const pair of fit.relevance) expect(pair.value >= 0 && pair.value <= 1).toBe(true);
  });

  it('gives a position without clicks a bounded interval from zero, and an unidentifiable position an unbounded one', () => {
    const rows: ClickLogRow[] = [];
    // items a and b swap between positions 1 and 2; position 3 never draws a click; c is only ever at 4
    for (let i = 0; i < 400; i++) {
      const [top, second] = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      rows.push({ contextId: 'q', itemId: top, position: 1, clicked: i % 4 < 2 });
      rows.push({ contextId: 'q', itemId: second, position: 2, clicked: i % 8 === 1 });
      rows.push({ contextId: 'q', itemId: 'a', position: 3, clicked: false });
      rows.push({ contextId: 'q', itemId: 'c', position: 4, clicked: i % 5 === 0 });
    }
    const fit = estimatePropensitiesEM(rows)!;
    const [, second, third, fourth] = fit.propensities;
    expect(second.high).toBeLessThan(1);
    expect(third.value).toBeLessThan(1e-3);
    expect(third.low).toBe(0);
    expect(third.high).toBeGreaterThan(0);
    expect(third.high).toBeLessThan(0.1);
    expect(fourth.high).toBe(Infinity);
  });

  it.each([
    ['no row', []],
    ['no click', [{ contextId: 'q', itemId: 'a', position: 1, clicked: false }]],
    ['nothing at position 1', [{ contextId: 'q', itemId: 'a', position: 2, clicked: true }]],
  ])('has nothing to say with %s', (_name, rows) => {
    expect(estimatePropensitiesEM(rows as ClickLogRow[])).toBeUndefined();
  });

  it('refuses a position that is not a positive integer, and features on some rows only', () => {
    expect(() => estimatePropensitiesEM([{ contextId: 'q', itemId: 'a', position: 0, clicked: true }])).toThrow(RangeError);
    expect(() =>
      estimatePropensitiesEM([
        { contextId: 'q', itemId: 'a', position: 1, clicked: true, features: [1] },
        { contextId: 'q', itemId: 'b', position: 2, clicked: true },
      ]),
    ).toThrow(RangeError);
  });
});

describe('propensities from randomized swaps (RandPair)', () => {
  // the logging ranker's order: attraction falls with rank, 0.7/√k, each list scaled by a draw in [0.5, 1.5)
  const RANKED = Array.from({ length: POSITIONS }, (_, i) => 0.7 / Math.sqrt(i + 1));

  function swapExperiment(seed: number, lists: number, swapProbability?: number): SwapRecord[] {
    const random = mulberry32(seed);
    return simulateSwapExperiment({
      lists,
      examination: THETA,
      drawAttractions: (draw) => {
        const scale = 0.5 + draw();
        return RANKED.map((attraction) => (attraction * scale < 0.95 ? attraction * scale : 0.95));
      },
      swapProbability,
      random,
    });
  }

  it('recovers θ_k / θ_1 over 20 positions from 100,000 lists: every position within 0.05, at least 16 of 19 inside their interval', () => {
    const estimates = estimatePropensitiesFromSwaps(swapExperiment(21, 100_000))!;
    expect(estimates.map((e) => e.position)).toEqual(Array.from({ length: POSITIONS }, (_, i) => i + 1));
    expect(estimates[0]).toEqual({ position: 1, value: 1, low: 1, high: 1, observations: 100_000 });
    const { covered, largestError } = recovery(estimates);
    expect(largestError).toBeLessThan(0.05);
    expect(covered).toBeGreaterThanOrEqual(16);
    for (const estimate of estimates.slice(1)) expect(Math.abs(estimate.observations - 100_000 / 19)).toBeLessThan(400);
  });

  it('stays unbiased when the pair is swapped four times in five, by averaging the two arms', () => {
    const { largestError } = recovery(estimatePropensitiesFromSwaps(swapExperiment(22, 100_000, 0.8))!);
    expect(largestError).toBeLessThan(0.05);
  });

  it('computes the ratio of mean click-through rates and its delta-method interval by hand', () => {
    // unswapped: 100 lists, 40 clicks on top, 10 on the pivot, 4 on both; swapped: 100, 30, 20, 6
    // value = ((10 + 20) / 200) / ((40 + 30) / 200) = 3/7; interval from the variances and covariances of the four means
    const records: SwapRecord[] = [];
    const arm = (swapped: boolean, top: number, pivot: number, both: number) => {
      for (let i = 0; i < 100; i++) records.push({ pivot: 3, swapped, clickedTop: i < top, clickedPivot: i < both || (i >= top && i < top + pivot - both) });
    };
    arm(false, 40, 10, 4);
    arm(true, 30, 20, 6);
    const [, third] = estimatePropensitiesFromSwaps(records)!;
    expect(third.position).toBe(3);
    expect(third.value).toBeCloseTo(3 / 7, 12);
    expect(third.low).toBeCloseTo(0.293462, 5);
    expect(third.high).toBeCloseTo(0.625885, 5);
    expect(third.observations).toBe(200);
  });

  it('leaves out a pivot with one arm only (always-swapped lists need unswapped controls) and refuses a pivot below 2', () => {
    const records: SwapRecord[] = Array.from({ length: 50 }, (_, i) => ({ pivot: 2, swapped: true, clickedTop: i % 2 === 0, clickedPivot: i % 3 === 0 }));
    expect(estimatePropensitiesFromSwaps(records)).toBeUndefined();
    expect(estimatePropensitiesFromSwaps([])).toBeUndefined();
    expect(() => estimatePropensitiesFromSwaps([{ pivot: 1, swapped: false, clickedTop: true, clickedPivot: false }])).toThrow(RangeError);
  });

  it('bounds a position that drew no click from zero', () => {
    const records: SwapRecord[] = Array.from({ length: 200 }, (_, i) => ({ pivot: 5, swapped: i % 2 === 0, clickedTop: i % 4 < 2, clickedPivot: false }));
    const [, fifth] = estimatePropensitiesFromSwaps(records)!;
    expect(fifth.value).toBe(0);
    expect(fifth.low).toBe(0);
    expect(fifth.high).toBeGreaterThan(0);
    expect(fifth.high).toBeLessThan(0.2);
  });
});

describe('inverse-propensity weights and debiased relevance', () => {
  it.each([
    [[1, 0.5, 0.1], Infinity, [1, 2, 10]],
    [[1, 0.5, 0.1], 5, [1, 2, 5]],
    [[1, 0], 20, [1, 20]],
  ])('weights %j with clip %f are %j', (propensities, clip, expected) => {
    expect(inversePropensityWeights(propensities, clip)).toEqual(expected);
  });

  it('refuses a propensity of 0 without a clip, and a clip below 1', () => {
    expect(() => inversePropensityWeights([1, 0])).toThrow(RangeError);
    expect(() => inversePropensityWeights([1], 0.5)).toThrow(RangeError);
  });

  it('recovers an item’s click-through rate at position 1 from impressions spread over the list', () => {
    const random = mulberry32(31);
    const gamma = 0.3;
    const rows = Array.from({ length: 20_000 }, () => {
      const position = 1 + Math.floor(random() * POSITIONS);
      return { itemId: 'x', position, clicked: random() < THETA[position - 1] * gamma };
    });
    const [estimate] = unbiasedItemRelevance(rows, THETA);
    expect(estimate.impressions).toBe(20_000);
    // the raw rate is about γ times the mean θ, 0.23 of γ
    expect(estimate.clicks / estimate.impressions).toBeLessThan(0.1);
    for (const interval of [estimate.ips, estimate.ratio]) {
      expect(interval.low).toBeLessThan(gamma);
      expect(interval.high).toBeGreaterThan(gamma);
      expect(Math.abs(interval.value - gamma)).toBeLessThan(0.03);
    }
    // clicks over expected examinations varies less than the inverse-propensity mean
    expect(estimate.ratio.high - estimate.ratio.low).toBeLessThan(estimate.ips.high - estimate.ips.low);
  });

  it('computes both estimates by hand, gives a lone impression the whole [0, 1], and refuses a position without a propensity', () => {
    // two impressions at position 2 (θ = 0.5), one clicked: IPS = (2 + 0) / 2 = 1; ratio = 1 / (0.5 + 0.5) = 1
    const [pair, lone] = unbiasedItemRelevance(
      [
        { itemId: 'a', position: 2, clicked: true },
        { itemId: 'a', position: 2, clicked: false },
        { itemId: 'b', position: 1, clicked: true },
      ],
      [1, 0.5],
    );
    expect(pair.ips.value).toBe(1);
    expect(pair.ratio.value).toBe(1);
    expect(lone).toEqual({ itemId: 'b', impressions: 1, clicks: 1, ips: { value: 1, low: 0, high: 1 }, ratio: { value: 1, low: 0, high: 1 } });
    expect(() => unbiasedItemRelevance([{ itemId: 'a', position: 3, clicked: true }], [1, 0.5])).toThrow(RangeError);
  });
});

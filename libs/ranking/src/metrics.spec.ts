import { dcgAtK, evaluateRankings, ndcgAtK, precisionAtK, reciprocalRank, weightedMean, type JudgedRanking } from './metrics';
import { mulberry32 } from './random';

describe('DCG and NDCG (gain 2^grade − 1, discount log2(i + 1))', () => {
  // grades 3, 2, 3, 0, 1, 2: gains 7, 3, 7, 0, 1, 3 over discounts 1, 1.585, 2, 2.322, 2.585, 2.807
  const grades = [3, 2, 3, 0, 1, 2];
  it.each([
    [6, 13.848264, 0.948811],
    // the ideal first three are 3, 3, 2: 7 + 4.41651 + 1.5 = 12.91651
    [3, 12.392789, 0.959454],
    [1, 7, 1],
    // past the end of the list nothing more is gained, and the ideal is cut the same way
    [10, 13.848264, 0.948811],
  ])('at k = %i: DCG %f, NDCG %f', (k, dcg, ndcg) => {
    expect(dcgAtK(grades, k)).toBeCloseTo(dcg, 5);
    expect(ndcgAtK(grades, k)).toBeCloseTo(ndcg, 5);
  });

  it('is undefined for a list with no relevant item, and 0 when relevant items sit past k', () => {
    expect(ndcgAtK([0, 0, 0], 3)).toBeUndefined();
    expect(ndcgAtK([], 3)).toBeUndefined();
    expect(ndcgAtK([0, 0, 2], 2)).toBe(0);
  });

  it('normalises by the ideal of the judged pool when given, so a list that missed a relevant item loses credit', () => {
    expect(ndcgAtK([1, 0], 2)).toBe(1);
    // the pool also holds a grade-2 item the list never showed: DCG 1 over the ideal 3 + 1/log2(3)
    expect(ndcgAtK([1, 0], 2, [2, 1, 0])).toBeCloseTo(1 / (3 + 1 / Math.log2(3)), 12);
  });

  it('refuses a cut-off that is not a positive integer and a grade that is not a non-negative number', () => {
    expect(() => dcgAtK([1], 0)).toThrow(RangeError);
    expect(() => dcgAtK([1], 1.5)).toThrow(RangeError);
    expect(() => dcgAtK([-1], 1)).toThrow(RangeError);
    expect(() => precisionAtK([Number.NaN], 1)).toThrow(RangeError);
  });
});

describe('reciprocal rank and precision', () => {
  it.each([
    [[0, 0, 1, 0], 1, Infinity, 1 / 3],
    [[0, 1, 3], 2, Infinity, 1 / 3],
    [[2, 0], 1, Infinity, 1],
    [[0, 0, 0], 1, Infinity, 0],
    [[0, 0, 1], 1, 2, 0],
    [[], 1, Infinity, 0],
  ])('RR of %j with threshold %i and cut-off %f is %f', (grades, threshold, k, expected) => {
    expect(reciprocalRank(grades, threshold, k)).toBeCloseTo(expected, 12);
  });

  it.each([
    [[1, 0, 2, 0], 2, 1, 0.5],
    [[1, 0, 2, 0], 4, 2, 0.25],
    // a list shorter than k: the missing positions count as not relevant
    [[1, 1], 5, 1, 0.4],
    [[], 3, 1, 0],
  ])('P@k of %j at k = %i with threshold %i is %f', (grades, k, threshold, expected) => {
    expect(precisionAtK(grades, k, threshold)).toBeCloseTo(expected, 12);
  });
});

describe('weighted mean with a linearized interval', () => {
  it('is the ordinary mean with standard error s/√n when the weights are equal', () => {
    const values = [0.2, 0.4, 0.6, 0.8].map((value) => ({ value, weight: 3 }));
    const estimate = weightedMean(values)!;
    // s = 0.258199, s/√4 = 0.129099, ± 1.959964 × that
    expect(estimate.value).toBeCloseTo(0.5, 12);
    expect(estimate.high - estimate.value).toBeCloseTo(1.959964 * 0.129099, 5);
    expect(estimate.n).toBe(4);
    expect(estimate.effectiveN).toBeCloseTo(4, 12);
  });

  it('weights by the inverse inclusion probability (Hájek) and shrinks the effective size', () => {
    const estimate = weightedMean([
      { value: 1, weight: 1 },
      { value: 0, weight: 3 },
    ])!;
    expect(estimate.value).toBeCloseTo(0.25, 12);
    // Kish: (1 + 3)² / (1 + 9) = 1.6
    expect(estimate.effectiveN).toBeCloseTo(1.6, 12);
  });

  it('has no value without values, the given bounds as interval for one value, and refuses a weight that is not positive', () => {
    expect(weightedMean([])).toBeUndefined();
    expect(weightedMean([{ value: 0.7, weight: 2 }], { bounds: [0, 1] })).toEqual({ value: 0.7, low: 0, high: 1, n: 1, effectiveN: 1 });
    expect(() => weightedMean([{ value: 1, weight: 0 }])).toThrow(RangeError);
    expect(() => weightedMean([{ value: Number.NaN, weight: 1 }])).toThrow(RangeError);
  });
});

describe('evaluating labelled rankings', () => {
  it('recovers the population’s NDCG@3 from lists sampled unequally, where the plain mean would not', () => {
    // A population of 10,000 lists: 30% hard ones with the relevant item third (NDCG@3 = 0.5), 70% easy ones with it first (1).
    // Hard lists were sampled for labelling nine times as often as easy ones (π = 0.45 against 0.05).
    const random = mulberry32(41);
    const population = Array.from({ length: 10_000 }, (_, i) =>
      i % 10 < 3 ? { grades: [0, 0, 1], probability: 0.45 } : { grades: [1, 0, 0], probability: 0.05 },
    );
    const truth = 0.3 * 0.5 + 0.7 * 1;
    const sample: JudgedRanking[] = population
      .filter((list) => random() < list.probability)
      .map((list) => ({ grades: list.grades, inclusionProbability: list.probability }));
    const evaluation = evaluateRankings(sample, { k: 3 });
    const plainMean = sample.reduce((sum, list) => sum + ndcgAtK(list.grades, 3)!, 0) / sample.length;
    expect(plainMean).toBeLessThan(truth - 0.1);
    expect(evaluation.ndcg!.low).toBeLessThan(truth);
    expect(evaluation.ndcg!.high).toBeGreaterThan(truth);
    expect(Math.abs(evaluation.ndcg!.value - truth)).toBeLessThan(0.03);
    // RR of the hard lists is 1/3, P@3 is 1/3 for every list
    expect(evaluation.mrr!.value).toBeCloseTo(0.3 / 3 + 0.7, 1);
    expect(evaluation.precision!.value).toBeCloseTo(1 / 3, 12);
  });

  it('leaves lists without a relevant item out of NDCG, counts them, and scores them 0 for MRR and precision', () => {
    const evaluation = evaluateRankings([{ grades: [1, 0] }, { grades: [0, 0], inclusionProbability: 0.5 }], { k: 2 });
    expect(evaluation.lists).toBe(2);
    expect(evaluation.listsWithoutRelevant).toBe(1);
    expect(evaluation.ndcg).toEqual({ value: 1, low: 0, high: 1, n: 1, effectiveN: 1 });
    // weights 1 and 2: RR (1·1 + 2·0) / 3
    expect(evaluation.mrr!.value).toBeCloseTo(1 / 3, 12);
    expect(evaluation.precision!.value).toBeCloseTo(1 / 6, 12);
    for (const estimate of [evaluation.mrr!, evaluation.precision!]) {
      expect(estimate.low).toBeGreaterThanOrEqual(0);
      expect(estimate.high).toBeLessThanOrEqual(1);
    }
  });

  it('has no estimate for no list, and refuses an inclusion probability outside (0, 1]', () => {
    expect(evaluateRankings([], { k: 5 })).toEqual({ ndcg: undefined, mrr: undefined, precision: undefined, lists: 0, listsWithoutRelevant: 0 });
    expect(() => evaluateRankings([{ grades: [1], inclusionProbability: 0 }], { k: 1 })).toThrow(RangeError);
    expect(() => evaluateRankings([{ grades: [1], inclusionProbability: 1.5 }], { k: 1 })).toThrow(RangeError);
  });
});

import { inclusionWeight } from '@backflow/sampling';
import { frequencies, histogram, jensenShannon, lInfinity, quantileEdges } from './distance';
import { countProportion, expectedCalibrationError, fallPValue, normalCdf, normalQuantile, weightedProportion } from './estimates';
import { anomaliesOf, inferSchema, typeOf } from './schema';
import { DatasetStatisticsBuilder, summaryOf } from './dataset-statistics';

/** mulberry32: a seeded generator, so simulations are the same on every run */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Jensen-Shannon divergence (bits)', () => {
  it.each([
    // by the definition (Lin 1991): m = (0.75, 0.25); ½·[½·log2(0.5/0.75) + ½·log2(0.5/0.25)] + ½·log2(1/0.75) = 0.311278
    [[1, 1], [1, 0], 0.311278],
    [[5, 5], [1, 1], 0],
    [[1, 0], [0, 1], 1],
    // counts are normalised first: (2, 6) is (0.25, 0.75)
    [[2, 6], [3, 1], 0.188722],
  ])('%j vs %j = %f', (p, q, expected) => {
    expect(jensenShannon(p, q)).toBeCloseTo(expected, 5);
  });

  it('bins by the baseline deciles, so a shifted feature lands in the end bins', () => {
    const draw = random(3);
    const baseline = Array.from({ length: 5000 }, () => draw() * 100);
    const edges = quantileEdges(baseline);
    expect(edges).toHaveLength(9);
    const same = Array.from({ length: 5000 }, () => draw() * 100);
    const shifted = Array.from({ length: 5000 }, () => 50 + draw() * 100);
    const base = histogram(baseline, edges);
    expect(jensenShannon(base, histogram(same, edges))).toBeLessThan(0.01);
    expect(jensenShannon(base, histogram(shifted, edges))).toBeGreaterThan(0.3);
  });

  it('puts a value on an edge in the bin below it, and merges repeated edges', () => {
    expect(histogram([1, 2, 2.5, 3, 9], [2, 3])).toEqual([2, 2, 1]);
    expect(quantileEdges([1, 1, 1, 1, 2], 5)).toEqual([1, 2]);
  });
});

describe('L-infinity distance', () => {
  it('is the largest difference in one value’s share', () => {
    // shares (0.5, 0.5, 0) against (0.2, 0.5, 0.3): |0.5 − 0.2| = 0.3 on "a", and 0.3 on "c"; the first found is kept
    const { distance, value } = lInfinity(frequencies(['a', 'b']), frequencies(['a', 'a', 'b', 'b', 'b', 'b', 'b', 'c', 'c', 'c']));
    expect(distance).toBeCloseTo(0.3, 12);
    expect(value).toBe('a');
    expect(lInfinity(frequencies(['x']), frequencies(['y'])).distance).toBe(1);
    expect(lInfinity(frequencies(['x', 'y']), frequencies(['y', 'x'])).distance).toBe(0);
  });
});

describe('interval estimates', () => {
  it('computes the standard normal quantile and CDF', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.644854, 6);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
  });

  it('gives the Wilson interval of Newcombe (1998), example 81/263: 0.2553 to 0.3662', () => {
    // Newcombe, "Two-sided confidence intervals for the single proportion", Statistics in Medicine 17, Table II
    const units = Array.from({ length: 263 }, (_, i) => ({ outcome: i < 81 ? 1 : 0, weight: 1 }));
    const estimate = weightedProportion(units)!;
    expect(estimate.value).toBeCloseTo(81 / 263, 12);
    expect(estimate.low).toBeCloseTo(0.2553, 4);
    expect(estimate.high).toBeCloseTo(0.3662, 4);
    expect(estimate.effectiveN).toBeCloseTo(263, 9);
    // the same from counts
    const counted = countProportion(81, 263)!;
    expect([counted.low, counted.high]).toEqual([estimate.low, estimate.high]);
    expect(countProportion(0, 0)).toBeUndefined();
  });

  it('gives 0/10 the upper bound z²/(n + z²) = 0.2775', () => {
    const estimate = weightedProportion(Array.from({ length: 10 }, () => ({ outcome: 0, weight: 1 })))!;
    expect(estimate.low).toBe(0);
    expect(estimate.high).toBeCloseTo(0.2775, 4);
  });

  it('recovers the true accuracy of all traffic from a sample biased toward uncertain predictions', () => {
    const draw = random(11);
    // the model is right with probability equal to its confidence; routing takes every prediction under 0.6 and 2% of the rest
    const sample: Array<{ outcome: number; weight: number }> = [];
    let right = 0;
    const population = 200_000;
    for (let i = 0; i < population; i++) {
      const confidence = 0.34 + draw() * 0.66;
      const correct = draw() < confidence ? 1 : 0;
      right += correct;
      const inclusion = confidence < 0.6 ? 1 : 0.02;
      if (draw() < inclusion) sample.push({ outcome: correct, weight: inclusionWeight(inclusion) });
    }
    const truth = right / population;
    const weighted = weightedProportion(sample)!;
    const naive = sample.reduce((n, u) => n + u.outcome, 0) / sample.length;
    expect(Math.abs(weighted.value - truth)).toBeLessThan(0.01);
    expect(weighted.low).toBeLessThan(truth);
    expect(weighted.high).toBeGreaterThan(truth);
    // the unweighted share describes the uncertain sample, not the traffic
    expect(Math.abs(naive - truth)).toBeGreaterThan(0.1);
    expect(weighted.effectiveN).toBeLessThan(sample.length);
  });

  it('calls a fall significant only when the evidence is there', () => {
    expect(fallPValue({ value: 0.9, effectiveN: 400 }, { value: 0.7, effectiveN: 400 })).toBeLessThan(0.001);
    expect(fallPValue({ value: 0.9, effectiveN: 10 }, { value: 0.8, effectiveN: 10 })).toBeGreaterThan(0.05);
    expect(fallPValue({ value: 0.7, effectiveN: 400 }, { value: 0.9, effectiveN: 400 })).toBeGreaterThan(0.99);
  });

  it('measures calibration: 0 when confidence matches accuracy, the gap otherwise', () => {
    const calibrated = Array.from({ length: 8 }, (_, i) => ({ confidence: 0.85, correct: i < 7, weight: 1 }));
    // 7 of 8 right at confidence 0.85: gap |0.875 − 0.85| = 0.025
    expect(expectedCalibrationError(calibrated)).toBeCloseTo(0.025, 12);
    // two bins: (0.95, always wrong) weight 1 and (0.55, always right) weight 3: ¼·0.95 + ¾·0.45 = 0.575
    expect(
      expectedCalibrationError([
        { confidence: 0.95, correct: false, weight: 1 },
        { confidence: 0.55, correct: true, weight: 3 },
      ]),
    ).toBeCloseTo(0.575, 12);
    expect(expectedCalibrationError([])).toBeUndefined();
  });
});

describe('schema inference and anomalies (TFDV kinds)', () => {
  const examples = [
    { country: 'FR', amount: 3, tags: ['a', 'b'], premium: true },
    { country: 'DE', amount: 2.5, tags: ['b'], premium: false },
    { country: 'FR', amount: 7, tags: [], premium: true, note: 'hello' },
  ];

  it('infers types (int widened to float), presence and categorical domains', () => {
    expect(inferSchema(examples)).toEqual({
      features: [
        { name: 'amount', type: 'float', required: true },
        { name: 'country', type: 'string', required: true, domain: ['DE', 'FR'] },
        { name: 'note', type: 'string', required: false, domain: ['hello'] },
        { name: 'premium', type: 'bool', required: true, domain: ['false', 'true'] },
      ],
    });
    // "tags" is left out: its empty list reads as a float list, which no string list widens to
  });

  it('keeps a list feature whose lists agree', () => {
    expect(inferSchema([{ tags: ['a', 'b'] }, { tags: ['c'] }]).features).toEqual([
      { name: 'tags', type: 'string_list', required: true, domain: ['a', 'b', 'c'] },
    ]);
  });

  it.each([
    [{ country: 'FR', amount: 1, premium: true }, []],
    [{ amount: 1, premium: true }, [{ feature: 'country', kind: 'missing' }]],
    [{ country: 'IT', amount: 1, premium: true }, [{ feature: 'country', kind: 'new_category' }]],
    [{ country: 'FR', amount: 'lots', premium: true }, [{ feature: 'amount', kind: 'wrong_type' }]],
    [{ country: 'FR', amount: 1, premium: 'yes' }, [{ feature: 'premium', kind: 'wrong_type' }]],
  ])('%j → %j', (example, anomalies) => {
    expect(anomaliesOf(example, inferSchema(examples))).toEqual(anomalies);
  });

  it.each([
    [3, 'int'],
    [3.5, 'float'],
    ['x', 'string'],
    [false, 'bool'],
    [[1, 2.5], 'float_list'],
    [['a'], 'string_list'],
    [[1, 'a'], undefined],
    [{ nested: 1 }, undefined],
  ])('typeOf(%j) = %s', (value, type) => {
    expect(typeOf(value)).toBe(type);
  });
});

describe('streaming feature statistics', () => {
  it('counts presence, numeric moments and categorical frequencies in one pass', () => {
    const features = [
      { name: 'amount', type: 'FLOAT' as const },
      { name: 'country', type: 'STRING' as const },
    ];
    // two splits, summed up as one span
    const train = new DatasetStatisticsBuilder(features);
    const evaluation = new DatasetStatisticsBuilder(features);
    train.add([[2], ['FR']]);
    train.add([[4, 0], ['DE']]);
    evaluation.add([undefined, ['FR']]);
    evaluation.add([[6], undefined]);
    const [amount, country] = summaryOf([train, evaluation]);
    // values 2, 4, 0, 6: mean 3, population variance (1 + 1 + 9 + 9) / 4 = 5
    expect(amount).toEqual({ name: 'amount', present: 3, missing: 1, values: 4, numeric: { min: 0, max: 6, mean: 3, stdDev: Math.sqrt(5), zeros: 1 } });
    expect(country).toEqual({
      name: 'country',
      present: 3,
      missing: 1,
      values: 3,
      categorical: {
        unique: 2,
        uniqueCapped: false,
        top: [
          { value: 'FR', count: 2 },
          { value: 'DE', count: 1 },
        ],
        averageLength: 2,
      },
    });
  });
});

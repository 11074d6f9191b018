import { drawPrefix, hajekEstimate, inclusionWeight, inclusionWeightSql, unitDraw } from './inclusion';

describe('unitDraw', () => {
  it('is deterministic and in [0, 1)', () => {
    for (const key of ['', 'a', 'project:00000000-0000-0000-0000-000000000000', 'é✓']) {
      const u = unitDraw(key);
      expect(u).toBe(unitDraw(key));
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  it('draws what it always drew (stored tasks and previews were decided by these numbers)', () => {
    expect(unitDraw('')).toBe(0.37069325695158317);
    expect(unitDraw('project:00000000-0000-0000-0000-000000000000')).toBe(0.2577375257088571);
    expect(unitDraw('é✓')).toBe(0.13635586364582253);
  });

  it('from a prefix hashed once draws what the whole key draws', () => {
    const project = drawPrefix('project:');
    expect(unitDraw('00000000-0000-0000-0000-000000000000', project)).toBe(0.2577375257088571);
    expect(unitDraw('✓', drawPrefix('é'))).toBe(0.13635586364582253);
    expect(unitDraw('', drawPrefix(''))).toBe(unitDraw(''));
    for (let i = 0; i < 1_000; i++) {
      const id = `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
      expect(unitDraw(id, project)).toBe(unitDraw(`project:${id}`));
    }
  });

  it('is uniform enough that a fraction ε of keys falls below ε, even for sequential keys', () => {
    const n = 100_000;
    for (const epsilon of [0.01, 0.1, 0.5]) {
      let below = 0;
      for (let i = 0; i < n; i++) if (unitDraw(`p:${i.toString(16).padStart(12, '0')}`) < epsilon) below++;
      // three standard deviations of a binomial proportion
      expect(Math.abs(below / n - epsilon)).toBeLessThan(3 * Math.sqrt((epsilon * (1 - epsilon)) / n));
    }
  });
});

describe('inclusionWeight', () => {
  it.each([
    ['a unit routed with certainty', 1, 1, 1],
    ['an explored unit, taken one time in ten', 0.1, 1, 10],
    ['a unit with no task', null, 1, 1],
    ['a label of weight 2 taken one time in four', 0.25, 2, 8],
    ['a label of weight 0.5 with no task', null, 0.5, 0.5],
  ])('%s', (_name, probability, labelWeight, weight) => {
    expect(inclusionWeight(probability, labelWeight)).toBe(weight);
  });

  it('is spelt in SQL with the same default', () => {
    expect(inclusionWeightSql('t.inclusion_probability', 'l.weight')).toBe('l.weight / coalesce(t.inclusion_probability, 1)');
    expect(inclusionWeightSql('t.inclusion_probability')).toBe('1 / coalesce(t.inclusion_probability, 1)');
  });
});

describe('hajekEstimate', () => {
  it.each([
    ['none', []],
    ['no probability', [{ value: 1, inclusionProbability: 0 }]],
    ['a probability past one', [{ value: 1, inclusionProbability: 1.5 }]],
  ])('refuses or has nothing for %s', (name, samples) => {
    if (name === 'none') expect(hajekEstimate(samples)).toBeUndefined();
    else expect(() => hajekEstimate(samples)).toThrow(RangeError);
  });

  it('has no error when every unit was certain to be sampled', () => {
    expect(
      hajekEstimate([
        { value: 1, inclusionProbability: 1 },
        { value: 0, inclusionProbability: 1 },
      ]),
    ).toEqual({ mean: 0.5, standardError: 0 });
  });

  it('covers the true mean about as often as a normal interval should', () => {
    // a population of 20,000 with a known mean, Poisson-sampled at 1% many times over
    let seed = 1;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const population = Array.from({ length: 20_000 }, (_, i) => (i % 10 < 7 ? 1 : 0));
    const truth = 0.7;
    let covered = 0;
    const runs = 400;
    for (let run = 0; run < runs; run++) {
      const sample = population.filter(() => random() < 0.01).map((value) => ({ value, inclusionProbability: 0.01 }));
      const estimate = hajekEstimate(sample)!;
      if (Math.abs(estimate.mean - truth) <= 1.96 * estimate.standardError) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.9);
    expect(covered / runs).toBeLessThan(0.99);
  });
});

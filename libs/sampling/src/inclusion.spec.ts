import { hajekMean, horvitzThompsonMean, unitDraw } from './inclusion';

describe('unitDraw', () => {
  it('is deterministic and in [0, 1)', () => {
    for (const key of ['', 'a', 'project:00000000-0000-0000-0000-000000000000', 'é✓']) {
      const u = unitDraw(key);
      expect(u).toBe(unitDraw(key));
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
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

describe('weighted means', () => {
  it.each([
    ['all sampled', [{ value: 1, inclusionProbability: 1 }, { value: 3, inclusionProbability: 1 }], 2, 2, 2],
    ['one unit stands for ten', [{ value: 5, inclusionProbability: 0.1 }, { value: 1, inclusionProbability: 1 }], 11, 51 / 11, 51 / 11],
    ['nothing sampled', [], 10, 0, undefined],
  ])('%s', (_, samples, population, ht, hajek) => {
    expect(horvitzThompsonMean(samples, population)).toBeCloseTo(ht);
    if (hajek === undefined) expect(hajekMean(samples)).toBeUndefined();
    else expect(hajekMean(samples)).toBeCloseTo(hajek);
  });

  it('refuses an inclusion probability outside (0, 1]', () => {
    expect(() => hajekMean([{ value: 1, inclusionProbability: 0 }])).toThrow(RangeError);
    expect(() => horvitzThompsonMean([{ value: 1, inclusionProbability: 1.5 }], 1)).toThrow(RangeError);
  });
});

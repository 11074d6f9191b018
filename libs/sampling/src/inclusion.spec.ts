import { inclusionWeight, inclusionWeightSql, unitDraw } from './inclusion';

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

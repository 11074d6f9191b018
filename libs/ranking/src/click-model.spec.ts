import {
  positionBasedClickProbability,
  powerLawExamination,
  simulateClickLog,
  simulateListClicks,
  simulateSwapExperiment,
  type SimulatedContext,
} from './click-model';
import { integerDraw, mulberry32, normalDraw } from './random';

describe('seeded draws', () => {
  it('repeat for a seed, differ between seeds, and stay in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first);
    const random = mulberry32(1);
    let sum = 0;
    let lowest = 1;
    let highest = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = random();
      sum += u;
      lowest = Math.min(lowest, u);
      highest = Math.max(highest, u);
    }
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(highest).toBeLessThan(1);
    // the mean of 100,000 uniforms has standard error 0.0009
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('draw standard normals and uniform integers', () => {
    const random = mulberry32(2);
    const draws = Array.from({ length: 50_000 }, () => normalDraw(random));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws.length - 1);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(variance).toBeCloseTo(1, 1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[integerDraw(random, 3)]++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });
});

describe('position-based click model', () => {
  it.each([
    [1, 0, [1]],
    [3, 1, [1, 1 / 2, 1 / 3]],
    [4, 0.5, [1, 1 / Math.SQRT2, 1 / Math.sqrt(3), 1 / 2]],
  ])('the power law over %i positions with exponent %f is %j', (positions, exponent, expected) => {
    const theta = powerLawExamination(positions, exponent);
    expect(theta).toHaveLength(expected.length);
    theta.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 12));
  });

  it('multiplies examination by attraction, and refuses what is not a probability', () => {
    expect(positionBasedClickProbability(0.5, 0.4)).toBeCloseTo(0.2, 12);
    expect(() => positionBasedClickProbability(1.2, 0.4)).toThrow(RangeError);
    expect(() => positionBasedClickProbability(0.5, -0.1)).toThrow(RangeError);
    expect(() => powerLawExamination(0)).toThrow(RangeError);
  });

  it('clicks each position about θ_k·γ of the time', () => {
    const random = mulberry32(3);
    const examination = [1, 0.5, 0.25];
    const attractions = [0.6, 0.6, 0.6, 0.6];
    const clicks = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) simulateListClicks(attractions, examination, random).forEach((clicked, k) => (clicks[k] += clicked ? 1 : 0));
    // the list is cut at the three positions examination covers
    expect(simulateListClicks(attractions, examination, random)).toHaveLength(3);
    [0.6, 0.3, 0.15].forEach((expected, k) => expect(Math.abs(clicks[k] / 40_000 - expected)).toBeLessThan(0.01));
  });

  it('logs a noisy ranker that puts attractive items on top, so raw CTR per position overstates position bias', () => {
    const random = mulberry32(4);
    const contexts: SimulatedContext[] = Array.from({ length: 50 }, (_, q) => ({
      contextId: `q${q}`,
      items: Array.from({ length: 10 }, (_, i) => ({ itemId: `d${i}`, attraction: 0.05 + 0.9 * random() })),
    }));
    const examination = powerLawExamination(10, 1);
    const rows = simulateClickLog({ contexts, examination, listsPerContext: 40, rankingNoise: 1, random });
    expect(rows).toHaveLength(50 * 40 * 10);
    // every list shows each of its context's items once
    const first = rows.slice(0, 10);
    expect(new Set(first.map((row) => row.itemId)).size).toBe(10);
    expect(first.map((row) => row.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ctr = (position: number) => {
      const at = rows.filter((row) => row.position === position);
      return at.filter((row) => row.clicked).length / at.length;
    };
    // θ_10 / θ_1 is 0.1; the raw ratio also carries the ranker's preference for attractive items
    expect(ctr(10) / ctr(1)).toBeLessThan(0.07);
  });

  it('runs a swap experiment with pivots uniform over 2 … K and a fair coin by default', () => {
    const random = mulberry32(5);
    const records = simulateSwapExperiment({ lists: 9_000, examination: powerLawExamination(4), drawAttractions: () => [0.5, 0.4, 0.3, 0.2], random });
    for (const pivot of [2, 3, 4]) expect(Math.abs(records.filter((r) => r.pivot === pivot).length - 3_000)).toBeLessThan(200);
    expect(Math.abs(records.filter((r) => r.swapped).length - 4_500)).toBeLessThan(200);
    expect(() => simulateSwapExperiment({ lists: 1, examination: [1], drawAttractions: () => [0.5], random })).toThrow(RangeError);
  });
});

import { addP2, createP2, valueP2 } from './p2-quantile';
import { createWindowThreshold, highest, nextUp, warmStartOf, WindowThreshold } from './window-threshold';

/** A seeded generator (mulberry32), so every run sees the same scores. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Entropies as a confident classifier gives them: 91% below 1e-6 (the skewed case of issue 24), the rest spread up to 1. */
const skewed = (random: () => number) => () => (random() < 0.91 ? 10 ** (-6 - 6 * random()) : 1e-6 + random() * (1 - 1e-6));

/** Routes a stream as routing does (the threshold before each score, then the score added); the routed count per window. */
function route(window: WindowThreshold, scores: () => number, n: number, every: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % every === 0) counts.push(0);
    const score = scores();
    const t = window.threshold();
    if (t !== undefined && score >= t) counts[counts.length - 1]++;
    window.add(score);
  }
  return counts;
}

describe('the window threshold behind a target rate', () => {
  it('is the exact quantile of the window: round(rate × n) of distinct scores at or above it', () => {
    const random = seeded(1);
    const window = new WindowThreshold(createWindowThreshold(0.05, [], 1_000));
    const scores = Array.from({ length: 3_000 }, () => random());
    for (const s of scores) window.add(s);
    const last = scores.slice(-1_000);
    const t = window.threshold()!;
    expect(last.filter((s) => s >= t).length).toBe(50);
    // the same from a stored state
    const resumed = new WindowThreshold(window.snapshot());
    expect(resumed.threshold()).toBe(t);
  });

  it('routes a tie all or none, whichever is nearer the rate', () => {
    const window = new WindowThreshold(createWindowThreshold(0.1, [], 100));
    for (let i = 0; i < 100; i++) window.add(0);
    // every entropy 0: routing all of them would be 100% for a 10% rate
    expect(window.threshold()).toBe(nextUp(0));
    const some = new WindowThreshold(createWindowThreshold(0.3, [], 100));
    for (let i = 0; i < 75; i++) some.add(0);
    for (let i = 0; i < 25; i++) some.add(0.5 + i / 100);
    // 25 above, and 75 tied at 0: 25 is nearer 30 than 100
    expect(some.threshold()).toBe(nextUp(0));
    expect(nextUp(1)).toBeGreaterThan(1);
    expect(nextUp(0.5) - 0.5).toBeLessThan(1e-15);
  });

  it('holds 10% within ±10% in every window of 2,500 from a new version’s first prediction on a skewed distribution, where a streaming estimate started from nothing does not', () => {
    const random = seeded(24);
    const scores = skewed(random);
    // the version before it, 10,000 scores of the same distribution
    const v1 = new WindowThreshold(createWindowThreshold(0.1));
    route(v1, scores, 10_000, 10_000);
    const v2 = new WindowThreshold(createWindowThreshold(0.1, v1.snapshot().own));
    const windows = route(v2, scores, 10_000, 2_500);
    if (process.env.ROUTING_FIGURES) console.log(JSON.stringify(windows));
    for (const routed of windows) expect(Math.abs(routed - 250) / 250).toBeLessThanOrEqual(0.1);
  });

  it('routes as the true quantile would when every round is a new version, where a streaming estimate restarted each version strays', () => {
    // the demo's loop: a model retrained every round of 250 predictions (25 to route at 10%)
    const random = seeded(25);
    const scores = skewed(random);
    // the distribution's true 90th percentile: 0.09 of it lies above 1e-6, and 0.01 / 0.91 of the rest above 10^(-6 - 6 × 0.01 / 0.91)
    const truth = 10 ** (-6 - (6 * 0.01) / 0.91);
    const first = new WindowThreshold(createWindowThreshold(0.1));
    route(first, scores, 10_000, 10_000);
    let previous = first.snapshot();
    const rounds = { window: [] as number[], p2: [] as number[], truth: [] as number[] };
    for (let round = 0; round < 20; round++) {
      // the warm start: what the last version hands over (as the repository does)
      const version = new WindowThreshold(createWindowThreshold(0.1, warmStartOf(previous)));
      const p2 = createP2(0.9);
      for (const counts of Object.values(rounds)) counts.push(0);
      for (let i = 0; i < 250; i++) {
        const s = scores();
        const t = version.threshold();
        if (t !== undefined && s >= t) rounds.window[round]++;
        version.add(s);
        const q = valueP2(p2);
        if (q !== undefined && s >= q) rounds.p2[round]++;
        addP2(p2, s);
        if (s >= truth) rounds.truth[round]++;
      }
      previous = version.snapshot();
    }
    if (process.env.ROUTING_FIGURES) console.log(JSON.stringify(rounds));
    // a round routes what its scores hold above the true threshold (binomial about 25), give or take a few
    const strays = (counts: number[]) => counts.reduce((sum, n, round) => sum + Math.abs(n - rounds.truth[round]), 0);
    expect(strays(rounds.window)).toBeLessThanOrEqual(20);
    expect(strays(rounds.window)).toBeLessThan(strays(rounds.p2) / 2);
  });

  it('drops the warm start once a new version’s own scores show it scores unlike the old one, and holds its own rate', () => {
    const random = seeded(7);
    const old = new WindowThreshold(createWindowThreshold(0.05));
    route(old, () => 0.5 + random() / 2, 5_000, 5_000);
    // the new version is far more confident: its scores sit below every old one
    const next = new WindowThreshold(createWindowThreshold(0.05, old.snapshot().own));
    const windows = route(next, () => random() / 10, 4_000, 400);
    expect(next.snapshot()).toMatchObject({ unlike: true, warm: [] });
    // the first window routes few (the old threshold holds until the difference shows), every later one the rate
    expect(windows[0]).toBeLessThan(20);
    for (const routed of windows.slice(1)) expect(Math.abs(routed - 20)).toBeLessThanOrEqual(8);
  });

  it('places nothing while too few scores hold one routed, and takes any rate in (0, 1)', () => {
    const window = new WindowThreshold(createWindowThreshold(0.01, [], 10_000));
    for (let i = 0; i < 50; i++) window.add(i);
    // 50 scores at 1% is half a routed prediction
    expect(window.threshold()).toBeUndefined();
    for (const rate of [1e-300, 5e-324, 0.5, 0.999]) expect(() => new WindowThreshold(createWindowThreshold(rate)).threshold()).not.toThrow();
    expect(() => createWindowThreshold(0)).toThrow(RangeError);
  });
});

describe('the highest scores of a window, by selection', () => {
  it('are the count highest and every tie of the lowest of them, highest first, whatever the order and the ties', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const [n, decimals] of [
      [1, 3],
      [50, 1],
      [1000, 2],
      [10_000, 3],
      [10_000, 0],
      [2000, 6],
    ] as const) {
      const values = Float64Array.from({ length: n }, () => Number(random().toFixed(decimals)));
      const sorted = Array.from(values).sort((a, b) => b - a);
      for (const count of [0, 1, 2, Math.floor(n / 20), Math.floor(n / 2), n - 1, n, n + 5]) {
        const expected = count <= 0 ? [] : sorted.filter((v) => v >= sorted[Math.min(count, n) - 1]);
        expect(Array.from(highest(values.slice(), count))).toEqual(expected);
      }
    }
  });

  it('give the threshold a full sort gives, on windows with many ties and a warm start', () => {
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const rate of [0.01, 0.05, 0.3]) {
      const warm = Array.from({ length: 3000 }, () => Number(random().toFixed(2)));
      const window = new WindowThreshold(createWindowThreshold(rate, warm, 4000));
      for (let i = 0; i < 9000; i++) {
        window.add(Number((random() ** 2).toFixed(2)));
        if (i % 97 === 0) {
          // a window resumed from this one's state works its threshold out now (the running one recomputes every so often)
          const fresh = new WindowThreshold(window.snapshot());
          const threshold = fresh.threshold();
          // the rule itself: the share of all the weight at or above the threshold is the nearest the ties allow to the rate
          const { own, warm: kept } = fresh.snapshot();
          const warmEach = kept.length ? Math.max(0, 4000 - own.length) / kept.length : 0;
          const total = own.length + warmEach * kept.length;
          if (threshold === undefined) {
            expect(total * rate).toBeLessThan(1);
            continue;
          }
          const weightAtOrAbove = own.filter((x) => x >= threshold).length + warmEach * kept.filter((x) => x >= threshold).length;
          const values = [...new Set([...own, ...kept])].sort((a, b) => b - a);
          const shares = values.map((v) => (own.filter((x) => x >= v).length + warmEach * kept.filter((x) => x >= v).length) / total);
          const nearest = Math.min(...shares.map((share) => Math.abs(share - rate)), Math.abs(rate));
          expect(Math.abs(weightAtOrAbove / total - rate)).toBeCloseTo(nearest, 9);
        }
      }
    }
  });
});

import { addP2, createP2, valueP2 } from './p2-quantile';

// a small deterministic generator, so the test is the same every run
function lcg(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32;
  };
}

function exactQuantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1];
}

describe('P² streaming quantile', () => {
  it.each([
    ['uniform', 0.98, (r: () => number) => r()],
    ['uniform', 0.5, (r: () => number) => r()],
    ['exponential', 0.9, (r: () => number) => -Math.log(1 - r())],
    ['skewed uncertainty (most predictions sure)', 0.98, (r: () => number) => r() ** 4],
  ])('tracks the %s %f-quantile within 2%% of the range', (_, p, draw) => {
    const random = lcg(42);
    const values = Array.from({ length: 20_000 }, () => draw(random));
    const state = createP2(p);
    for (const value of values) addP2(state, value);
    const range = Math.max(...values) - Math.min(...values);
    expect(Math.abs(valueP2(state)! - exactQuantile(values, p))).toBeLessThan(0.02 * range);
  });

  it('follows a shift of the distribution (a new, more confident model version)', () => {
    const random = lcg(7);
    const state = createP2(0.9);
    for (let i = 0; i < 5_000; i++) addP2(state, random());
    const before = valueP2(state)!;
    for (let i = 0; i < 50_000; i++) addP2(state, random() * 0.2);
    expect(valueP2(state)!).toBeLessThan(before);
    expect(valueP2(state)!).toBeLessThan(0.3);
  });

  it('answers exactly before five observations, and nothing before one', () => {
    const state = createP2(0.5);
    expect(valueP2(state)).toBeUndefined();
    addP2(state, 3);
    addP2(state, 1);
    addP2(state, 2);
    expect(valueP2(state)).toBe(2);
    expect(() => createP2(1)).toThrow(RangeError);
  });

  it('keeps its state as plain data that survives JSON', () => {
    const random = lcg(3);
    const state = createP2(0.95);
    for (let i = 0; i < 1_000; i++) addP2(state, random());
    const resumed = JSON.parse(JSON.stringify(state));
    for (let i = 0; i < 1_000; i++) {
      const x = random();
      addP2(state, x);
      addP2(resumed, x);
    }
    expect(valueP2(resumed)).toBe(valueP2(state));
  });
});

// read once: a global looked up per draw costs thirtyfold inside Jest's vm sandbox, and simulations draw millions
const { imul, sqrt, log, cos, PI } = Math;

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): a seeded uniform draw in [0, 1), so a
 * simulation of clicks is the same on every run. Not for anything a user could exploit.
 */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = imul(state ^ (state >>> 15), 1 | state);
    t = (t + imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw by the Box–Muller transform (Box & Muller 1958) from two uniform draws. */
export function normalDraw(random: () => number): number {
  // 1 − u is in (0, 1], so the logarithm is finite
  const u = 1 - random();
  const v = random();
  return sqrt(-2 * log(u)) * cos(2 * PI * v);
}

/** A uniform integer in [0, n) from one uniform draw, for n below 2³¹. */
export function integerDraw(random: () => number, n: number): number {
  return (random() * n) | 0;
}

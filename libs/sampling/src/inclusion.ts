/** The hash state after the first part of a key: draws whose keys share that part (a project's) start from it. */
export interface DrawPrefix {
  readonly h1: number;
  readonly h2: number;
}

const SEED: DrawPrefix = { h1: 0xdeadbeef, h2: 0x41c6ce57 };

/** The state `unitDraw` reaches after `prefix`: `unitDraw(rest, drawPrefix(prefix))` is `unitDraw(prefix + rest)`. */
export function drawPrefix(prefix: string): DrawPrefix {
  let { h1, h2 } = SEED;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return { h1, h2 };
}

/**
 * A deterministic uniform draw in [0, 1) from a key (cyrb53: two 32-bit multiplicative
 * hashes combined into 53 bits). The same prediction always draws the same number, so a
 * retried or re-previewed prediction gets the same exploration decision. `from`: the state
 * after a first part of the key already hashed (`drawPrefix`).
 */
export function unitDraw(key: string, from: DrawPrefix = SEED): number {
  let h1 = from.h1;
  let h2 = from.h2;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
}

/** A label that came without a sampled task (feedback, an import, a task from before sampling) was taken with certainty. */
export const CERTAIN_INCLUSION = 1;

/**
 * The inverse-probability (Horvitz–Thompson) weight of a labelled unit: its label's own weight
 * over the probability its task had of being routed to raters, so figures over the labelled
 * sample describe all traffic. Estimators (`weightedProportion` in drift) take it as `weight`.
 */
export function inclusionWeight(inclusionProbability: number | null, labelWeight = 1): number {
  return labelWeight / (inclusionProbability ?? CERTAIN_INCLUSION);
}

/** `inclusionWeight` in SQL, over a query's columns (or expressions): the same division, the same default. */
export function inclusionWeightSql(inclusionProbability: string, labelWeight = '1'): string {
  return `${labelWeight} / coalesce(${inclusionProbability}, ${CERTAIN_INCLUSION})`;
}

/** One sampled unit: its value and the probability it had of being sampled. */
export interface WeightedSample {
  value: number;
  inclusionProbability: number;
}

/**
 * The Hájek mean (Σ w·y / Σ w, w the `inclusionWeight`) with its standard error (Taylor
 * linearisation, Poisson sampling): units taken with certainty (π = 1) add no variance; the
 * rarer a sampled unit, the more it adds. What routing's inclusion probabilities promise, as
 * its test holds them to it; monitoring's figures use drift's `weightedProportion` (a Wilson interval).
 */
export function hajekEstimate(samples: readonly WeightedSample[]): { mean: number; standardError: number } | undefined {
  let weights = 0;
  let total = 0;
  for (const sample of samples) {
    if (!(sample.inclusionProbability > 0 && sample.inclusionProbability <= 1)) throw new RangeError('an inclusion probability must be in (0, 1]');
    const weight = inclusionWeight(sample.inclusionProbability);
    weights += weight;
    total += sample.value * weight;
  }
  if (weights === 0) return undefined;
  const mean = total / weights;
  let variance = 0;
  for (const sample of samples) variance += ((1 - sample.inclusionProbability) / sample.inclusionProbability ** 2) * (sample.value - mean) ** 2;
  return { mean, standardError: Math.sqrt(variance) / weights };
}

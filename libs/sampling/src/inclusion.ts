/**
 * A deterministic uniform draw in [0, 1) from a key (cyrb53: two 32-bit multiplicative
 * hashes combined into 53 bits). The same prediction always draws the same number, so a
 * retried or re-previewed prediction gets the same exploration decision.
 */
export function unitDraw(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
}

/** One sampled unit: its value and the probability it had of being sampled. */
export interface WeightedSample {
  value: number;
  inclusionProbability: number;
}

function checked(sample: WeightedSample): number {
  if (!(sample.inclusionProbability > 0 && sample.inclusionProbability <= 1)) throw new RangeError('an inclusion probability must be in (0, 1]');
  return 1 / sample.inclusionProbability;
}

/** Horvitz–Thompson: the population mean from a sample, each unit weighted by 1 / its inclusion probability. */
export function horvitzThompsonMean(samples: readonly WeightedSample[], populationSize: number): number {
  if (populationSize <= 0) throw new RangeError('the population must not be empty');
  let total = 0;
  for (const sample of samples) total += sample.value * checked(sample);
  return total / populationSize;
}

/** Hájek: the weighted mean normalised by the sum of weights (lower variance; needs no population size). */
export function hajekMean(samples: readonly WeightedSample[]): number | undefined {
  let total = 0;
  let weights = 0;
  for (const sample of samples) {
    const weight = checked(sample);
    total += sample.value * weight;
    weights += weight;
  }
  return weights === 0 ? undefined : total / weights;
}

/**
 * The Hájek mean with its standard error (Taylor linearisation, Poisson sampling): units
 * taken with certainty (π = 1) add no variance; the rarer a sampled unit, the more it adds.
 */
export function hajekEstimate(samples: readonly WeightedSample[]): { mean: number; standardError: number } | undefined {
  const mean = hajekMean(samples);
  if (mean === undefined) return undefined;
  let weights = 0;
  let variance = 0;
  for (const sample of samples) {
    const weight = checked(sample);
    weights += weight;
    variance += ((1 - sample.inclusionProbability) / sample.inclusionProbability ** 2) * (sample.value - mean) ** 2;
  }
  return { mean, standardError: Math.sqrt(variance) / weights };
}

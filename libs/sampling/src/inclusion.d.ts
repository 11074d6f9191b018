/**
 * A deterministic uniform draw in [0, 1) from a key (cyrb53: two 32-bit multiplicative
 * hashes combined into 53 bits). The same prediction always draws the same number, so a
 * retried or re-previewed prediction gets the same exploration decision.
 */
export declare function unitDraw(key: string): number;
/** One sampled unit: its value and the probability it had of being sampled. */
export interface WeightedSample {
    value: number;
    inclusionProbability: number;
}
/** Horvitz–Thompson: the population mean from a sample, each unit weighted by 1 / its inclusion probability. */
export declare function horvitzThompsonMean(samples: readonly WeightedSample[], populationSize: number): number;
/** Hájek: the weighted mean normalised by the sum of weights (lower variance; needs no population size). */
export declare function hajekMean(samples: readonly WeightedSample[]): number | undefined;

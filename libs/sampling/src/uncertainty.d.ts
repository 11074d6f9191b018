export declare const UNCERTAINTY_STRATEGIES: readonly ["least_confidence", "margin", "entropy"];
export type UncertaintyStrategy = (typeof UNCERTAINTY_STRATEGIES)[number];
/** Class probabilities, as an array or by label. */
export type Scores = readonly number[] | Readonly<Record<string, number>>;
/** 1 − max p: 0 for a certain model, 1 − 1/K at the uniform distribution. */
export declare function leastConfidence(scores: Scores): number;
/** 1 − (p₁ − p₂) over the two most likely classes: 1 when they tie. */
export declare function margin(scores: Scores): number;
/** Shannon entropy normalised by log K, in [0, 1]; p = 0 terms contribute 0 (the limit of p log p). */
export declare function entropy(scores: Scores): number;
export declare function uncertainty(strategy: UncertaintyStrategy, scores: Scores): number;

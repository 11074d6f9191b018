import { normalQuantile, type Estimate } from '@backflow/drift';

/** A labelled list: the graded relevance (0 … G) of each item in the model's order, and the chance the list had of being sampled for labelling. */
export interface JudgedRanking {
  grades: readonly number[];
  /** in (0, 1]; 1 (taken with certainty) when absent */
  inclusionProbability?: number;
}

/**
 * Discounted cumulative gain at cut-off k in the form of Burges et al. ("Learning to Rank using
 * Gradient Descent", ICML 2005), the common variant of Järvelin & Kekäläinen's cumulated gain
 * (ACM TOIS 2002): Σ_{i ≤ k} (2^grade_i − 1) / log2(i + 1). A list shorter than k contributes
 * what it has.
 */
export function dcgAtK(grades: readonly number[], k: number): number {
  checkCutoff(k);
  checkGrades(grades);
  let total = 0;
  const shown = Math.min(k, grades.length);
  for (let i = 0; i < shown; i++) total += (2 ** grades[i] - 1) / Math.log2(i + 2);
  return total;
}

/**
 * Normalized DCG at k: DCG over the DCG of the ideal order of `idealGrades` (by default the
 * list's own grades; pass every judged item of the context when the list may have missed some,
 * which keeps NDCG ≤ 1 only if the list's grades are among them). Undefined when the ideal DCG
 * is 0 (no item with a positive grade), where NDCG has no meaning; `evaluateRankings` leaves
 * such lists out of the NDCG mean and counts them.
 */
export function ndcgAtK(grades: readonly number[], k: number, idealGrades: readonly number[] = grades): number | undefined {
  const ideal = dcgAtK(
    [...idealGrades].sort((a, b) => b - a),
    k,
  );
  if (ideal === 0) return undefined;
  return dcgAtK(grades, k) / ideal;
}

/**
 * The reciprocal rank (Voorhees, TREC-8 QA track, 1999) of the first item within the first k
 * whose grade is at least `threshold`; 0 when there is none, as trec_eval counts it.
 */
export function reciprocalRank(grades: readonly number[], threshold = 1, k = grades.length): number {
  checkGrades(grades);
  const shown = Math.min(k, grades.length);
  for (let i = 0; i < shown; i++) if (grades[i] >= threshold) return 1 / (i + 1);
  return 0;
}

/**
 * Precision at k: the share of the first k positions holding an item graded at least
 * `threshold`. The denominator is k even when the list is shorter (a missing item is not
 * relevant), as trec_eval's P@k does.
 */
export function precisionAtK(grades: readonly number[], k: number, threshold = 1): number {
  checkCutoff(k);
  checkGrades(grades);
  let relevant = 0;
  const shown = Math.min(k, grades.length);
  for (let i = 0; i < shown; i++) if (grades[i] >= threshold) relevant++;
  return relevant / k;
}

/** A per-list value and its weight (the inverse of its inclusion probability). */
export interface WeightedValue {
  value: number;
  weight: number;
}

/**
 * The weighted mean Σ w·y / Σ w (Hájek's ratio estimator) with a normal interval whose variance
 * is the Taylor linearization of a ratio under with-replacement sampling (Särndal, Swensson &
 * Wretman, "Model Assisted Survey Sampling", 1992, on the ratio estimator):
 * v = n/(n − 1) · Σ w²(y − ȳ)² / (Σ w)². Unlike sampling's `hajekEstimate`, which measures only
 * the error of sampling from a fixed set of lists, this treats the lists as a sample of the
 * traffic to come, so labelling every list still leaves an interval. With fewer than two
 * values the interval is `bounds`. Undefined when there is no value.
 */
export function weightedMean(
  values: readonly WeightedValue[],
  options: { confidence?: number; bounds?: readonly [number, number] } = {},
): Estimate | undefined {
  const [lowest, highest] = options.bounds ?? [-Infinity, Infinity];
  let weights = 0;
  let squares = 0;
  let total = 0;
  for (const v of values) {
    if (!(v.weight > 0 && Number.isFinite(v.weight))) throw new RangeError('a weight must be positive and finite');
    if (!Number.isFinite(v.value)) throw new RangeError('a value must be finite');
    weights += v.weight;
    squares += v.weight * v.weight;
    total += v.weight * v.value;
  }
  const n = values.length;
  if (n === 0) return undefined;
  const mean = total / weights;
  const effectiveN = (weights * weights) / squares;
  if (n < 2) return { value: mean, low: lowest, high: highest, n, effectiveN };
  let spread = 0;
  for (const v of values) spread += v.weight * v.weight * (v.value - mean) ** 2;
  const standardError = Math.sqrt((n / (n - 1)) * spread) / weights;
  const z = normalQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2);
  return { value: mean, low: Math.max(lowest, mean - z * standardError), high: Math.min(highest, mean + z * standardError), n, effectiveN };
}

export interface RankingEvaluation {
  /** NDCG@k over the lists with a relevant item */
  ndcg: Estimate | undefined;
  /** MRR@k: the reciprocal rank of the first item graded at least the threshold, 0 when none is in the first k */
  mrr: Estimate | undefined;
  /** precision@k with relevant meaning graded at least the threshold */
  precision: Estimate | undefined;
  lists: number;
  /** lists with no item of positive grade: outside the NDCG mean, inside MRR and precision (as 0) */
  listsWithoutRelevant: number;
}

/**
 * NDCG@k, MRR@k and precision@k over labelled lists, each a weighted mean over the lists with
 * weight 1 / inclusion probability (Hájek) and an interval by linearization (`weightedMean`),
 * clipped to [0, 1]. A list with no relevant item has no NDCG: it is left out of that mean (and
 * counted in `listsWithoutRelevant`); it scores 0 for MRR and precision.
 */
export function evaluateRankings(lists: readonly JudgedRanking[], options: { k: number; threshold?: number; confidence?: number }): RankingEvaluation {
  const { k } = options;
  checkCutoff(k);
  const threshold = options.threshold ?? 1;
  const ndcg: WeightedValue[] = [];
  const mrr: WeightedValue[] = [];
  const precision: WeightedValue[] = [];
  let listsWithoutRelevant = 0;
  for (const list of lists) {
    const probability = list.inclusionProbability ?? 1;
    if (!(probability > 0 && probability <= 1)) throw new RangeError('an inclusion probability must be in (0, 1]');
    const weight = 1 / probability;
    const gain = ndcgAtK(list.grades, k);
    if (gain === undefined) listsWithoutRelevant++;
    else ndcg.push({ value: gain, weight });
    mrr.push({ value: reciprocalRank(list.grades, threshold, k), weight });
    precision.push({ value: precisionAtK(list.grades, k, threshold), weight });
  }
  const estimate = { confidence: options.confidence, bounds: [0, 1] as const };
  return {
    ndcg: weightedMean(ndcg, estimate),
    mrr: weightedMean(mrr, estimate),
    precision: weightedMean(precision, estimate),
    lists: lists.length,
    listsWithoutRelevant,
  };
}

function checkCutoff(k: number): void {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError('a cut-off k must be a positive integer');
}

function checkGrades(grades: readonly number[]): void {
  for (const grade of grades) if (!(grade >= 0 && Number.isFinite(grade))) throw new RangeError('a relevance grade must be a non-negative number');
}

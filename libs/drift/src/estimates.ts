/** One labelled unit: whether the model was right (or any 0/1 outcome), and its sampling weight (`inclusionWeight` in sampling: 1/π). */
export interface WeightedOutcome {
  outcome: number;
  weight: number;
}

export interface Estimate {
  value: number;
  low: number;
  high: number;
  /** units measured */
  n: number;
  /** Kish's effective sample size, (Σw)² / Σw²: what the weights leave of n */
  effectiveN: number;
}

/** The standard normal quantile (Acklam's rational approximation, relative error under 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('a quantile needs p in (0, 1)');
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * A weighted proportion (the Hájek estimator: Σ w·y / Σ w) with a Wilson score interval on
 * the effective sample size, so an estimate resting on a few heavily weighted labels gets
 * the wide interval it deserves. Undefined when there is no unit.
 */
export function weightedProportion(units: readonly WeightedOutcome[], confidence = 0.95): Estimate | undefined {
  let weights = 0;
  let squares = 0;
  let hits = 0;
  for (const u of units) {
    weights += u.weight;
    squares += u.weight * u.weight;
    hits += u.weight * u.outcome;
  }
  if (units.length === 0 || weights <= 0) return undefined;
  const n = (weights * weights) / squares;
  return { ...wilson(hits / weights, n, confidence), n: units.length, effectiveN: n };
}

/** A share of counts (`hits` of `n`, each weighing one) with its Wilson score interval. Undefined when `n` is 0. */
export function countProportion(hits: number, n: number, confidence = 0.95): Estimate | undefined {
  return n > 0 ? { ...wilson(hits / n, n, confidence), n, effectiveN: n } : undefined;
}

/** The Wilson score interval of a proportion `p` measured on `n` units (Wilson, JASA 1927). */
function wilson(p: number, n: number, confidence: number): { value: number; low: number; high: number } {
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return { value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * One-sided test that a current proportion is below a baseline one (pooled two-proportion z
 * on effective sizes). Returns the p-value: small means the fall is unlikely to be chance.
 */
export function fallPValue(baseline: Pick<Estimate, 'value' | 'effectiveN'>, current: Pick<Estimate, 'value' | 'effectiveN'>): number {
  const pooled = (baseline.value * baseline.effectiveN + current.value * current.effectiveN) / (baseline.effectiveN + current.effectiveN);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.effectiveN + 1 / current.effectiveN));
  if (se === 0) return baseline.value > current.value ? 0 : 1;
  const z = (baseline.value - current.value) / se;
  return 1 - normalCdf(z);
}

/** Φ(x) by the complementary error function (Numerical Recipes' erfc, error under 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + z / 2);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * Expected calibration error: predictions binned by confidence (10 equal bins), the weighted
 * gap between each bin's accuracy and its mean confidence, weighted by the bin's share.
 */
export function expectedCalibrationError(units: ReadonlyArray<{ confidence: number; correct: boolean; weight: number }>, bins = 10): number | undefined {
  const weight = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  let total = 0;
  for (const u of units) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(u.confidence * bins)));
    weight[b] += u.weight;
    hits[b] += u.correct ? u.weight : 0;
    confidence[b] += u.confidence * u.weight;
    total += u.weight;
  }
  if (total === 0) return undefined;
  let ece = 0;
  for (let b = 0; b < bins; b++) if (weight[b] > 0) ece += (weight[b] / total) * Math.abs(hits[b] / weight[b] - confidence[b] / weight[b]);
  return ece;
}

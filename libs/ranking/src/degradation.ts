import { bernoulliCusum, checkRateSeries, type CusumOptions, type DropDetection, type RateBucket } from './change';
import { clipProbability } from './distributions';
import { rateTrend, weightedLine, type RateTrend, type TrendOptions } from './trend';

/** The best single step in a rate: one rate up to `changeAt` (excluded), another from it on. */
export interface StepFit {
  changeAt: number;
  before: number;
  after: number;
  logLikelihood: number;
}

export interface DegradationClassification {
  kind: 'sudden' | 'slow' | 'none';
  /** the CUSUM for a sudden drop */
  cusum: DropDetection | undefined;
  /** the trend test for a slow one */
  trend: RateTrend | undefined;
  /** the maximum-likelihood step over the whole series */
  step: StepFit | undefined;
  /** the binomial log-likelihood of the weighted trend line over the whole series, to set against the step's less ln(buckets − 1) */
  lineLogLikelihood: number | undefined;
}

/**
 * Which of the two degradations of a click-through rate a series shows:
 * - `sudden`: the Bernoulli CUSUM (`bernoulliCusum`) alarmed and a single downward step explains
 *   the series at least as well as a straight line, or it alarmed while the trend is not
 *   `falling`. The step's binomial log-likelihood is charged ln(buckets − 1) for having picked
 *   its split among that many (the code length of naming it, in Rissanen's minimum description
 *   length), so a noisy slide is not read as a step because some split fits the noise;
 * - `slow`: otherwise, the trend test (`rateTrend`) says `falling`: a significant negative slope
 *   and at least the minimum relative fall. A slide also trips the CUSUM once the rate has
 *   fallen far enough; the step-against-line comparison is what tells the two apart;
 * - `none`: neither.
 * Both detectors' results come back whatever the kind, so a slide followed by a step shows in
 * both. Undefined detectors (an empty series, no baseline) read as no alarm and no trend.
 */
export function classifyDegradation(series: readonly RateBucket[], options: { cusum?: CusumOptions; trend?: TrendOptions } = {}): DegradationClassification {
  checkRateSeries(series);
  const cusum = bernoulliCusum(series, options.cusum);
  const trend = rateTrend(series, options.trend);
  const used = series.filter((bucket) => bucket.impressions > 0);
  const step = bestStep(used);
  const line = weightedLine(used);
  const lineLogLikelihood = line ? binomialLogLikelihood(used, (bucket) => line.intercept + line.slope * bucket.time) : undefined;
  const falling = trend?.verdict === 'falling';
  const stepExplains =
    step !== undefined && step.after < step.before && (lineLogLikelihood === undefined || step.logLikelihood - Math.log(used.length - 1) >= lineLogLikelihood);
  const kind = cusum?.alarmed && (stepExplains || !falling) ? 'sudden' : falling ? 'slow' : 'none';
  return { kind, cusum, trend, step, lineLogLikelihood };
}

/**
 * The two-rate step with the highest binomial log-likelihood over every split of the buckets
 * (the maximum-likelihood change point; Hinkley, "Inference about the Change-Point in a
 * Sequence of Random Variables", Biometrika 1970). Undefined with fewer than two buckets.
 */
export function bestStep(buckets: readonly RateBucket[]): StepFit | undefined {
  const used = buckets.filter((bucket) => bucket.impressions > 0);
  if (used.length < 2) return undefined;
  let totalImpressions = 0;
  let totalClicks = 0;
  for (const bucket of used) {
    totalImpressions += bucket.impressions;
    totalClicks += bucket.clicks;
  }
  let best: StepFit | undefined;
  let impressions = 0;
  let clicks = 0;
  for (let split = 1; split < used.length; split++) {
    impressions += used[split - 1].impressions;
    clicks += used[split - 1].clicks;
    const before = clicks / impressions;
    const after = (totalClicks - clicks) / (totalImpressions - impressions);
    const logLikelihood = segmentLogLikelihood(clicks, impressions) + segmentLogLikelihood(totalClicks - clicks, totalImpressions - impressions);
    if (!best || logLikelihood > best.logLikelihood) best = { changeAt: used[split].time, before, after, logLikelihood };
  }
  return best;
}

/** x·ln p + (n − x)·ln(1 − p) at the segment's own rate p = x/n, with 0·ln 0 = 0. */
function segmentLogLikelihood(clicks: number, impressions: number): number {
  const p = clicks / impressions;
  return (clicks > 0 ? clicks * Math.log(p) : 0) + (impressions - clicks > 0 ? (impressions - clicks) * Math.log(1 - p) : 0);
}

function binomialLogLikelihood(buckets: readonly RateBucket[], rate: (bucket: RateBucket) => number): number {
  let total = 0;
  for (const bucket of buckets) {
    const p = clipProbability(rate(bucket));
    total += bucket.clicks * Math.log(p) + (bucket.impressions - bucket.clicks) * Math.log(1 - p);
  }
  return total;
}

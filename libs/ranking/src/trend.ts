import { checkRateSeries, type RateBucket } from './change';
import { studentTCdf, studentTQuantile } from './distributions';

export interface TrendOptions {
  /** how many units of `time` make a week; 7 (daily buckets numbered by day) by default */
  timeUnitsPerWeek?: number;
  confidence?: number;
  /** the two-sided p-value under which the slope counts as real; 0.05 by default */
  significance?: number;
  /** the smallest change over the window, relative to the fitted starting rate, worth a verdict; 0.1 by default */
  minimumRelativeChange?: number;
}

export interface RateTrend {
  slopePerWeek: number;
  low: number;
  high: number;
  /** two-sided, Student's t with buckets − 2 degrees of freedom */
  pValue: number;
  /** the fitted rate at the first and the last bucket */
  startRate: number;
  endRate: number;
  /** (end − start) / start of the fitted line */
  relativeChange: number;
  /** `falling` (or `rising`) when the slope is significant and the relative change is at least the minimum; else `flat` */
  verdict: 'falling' | 'rising' | 'flat';
  buckets: number;
}

/**
 * The trend of a click-through rate: the weighted least-squares line through the per-bucket
 * rates, weights the impressions (so each bucket counts as its binomial precision), with a
 * t test on the slope. The residual variance is estimated from the data (extra-binomial swings
 * widen the interval) but never taken below the binomial p̄(1 − p̄), so a quiet stretch cannot
 * make noise look significant. A slow degradation is `falling`: significantly negative and a
 * fall of at least `minimumRelativeChange` over the window. Buckets without impressions are
 * skipped; undefined with fewer than three buckets with impressions or no click at all.
 */
export function rateTrend(series: readonly RateBucket[], options: TrendOptions = {}): RateTrend | undefined {
  checkRateSeries(series);
  const perWeek = options.timeUnitsPerWeek ?? 7;
  const confidence = options.confidence ?? 0.95;
  const significance = options.significance ?? 0.05;
  const minimum = options.minimumRelativeChange ?? 0.1;
  if (!(perWeek > 0)) throw new RangeError('a week must be a positive number of time units');
  const used = series.filter((bucket) => bucket.impressions > 0);
  if (used.length < 3) return undefined;
  const line = weightedLine(used);
  if (!line || line.meanRate === 0) return undefined;
  const { intercept, slope, meanRate } = line;
  let residual = 0;
  for (const bucket of used) residual += bucket.impressions * (bucket.clicks / bucket.impressions - intercept - slope * bucket.time) ** 2;
  const df = used.length - 2;
  const variance = Math.max(residual / df, meanRate * (1 - meanRate));
  const standardError = Math.sqrt(variance / line.spread);
  const statistic = slope / standardError;
  const pValue = 2 * studentTCdf(-Math.abs(statistic), df);
  const half = studentTQuantile(1 - (1 - confidence) / 2, df) * standardError;
  const first = used[0].time;
  const last = used[used.length - 1].time;
  const startRate = intercept + slope * first;
  const endRate = intercept + slope * last;
  // a rising line may start at or below zero; the mean rate is then the only sensible base
  const relativeChange = (endRate - startRate) / (startRate > 0 ? startRate : meanRate);
  const significant = pValue < significance;
  const verdict = significant && relativeChange <= -minimum ? 'falling' : significant && relativeChange >= minimum ? 'rising' : 'flat';
  return {
    slopePerWeek: slope * perWeek,
    low: (slope - half) * perWeek,
    high: (slope + half) * perWeek,
    pValue,
    startRate,
    endRate,
    relativeChange,
    verdict,
    buckets: used.length,
  };
}

/** The impression-weighted least-squares line rate = intercept + slope·time; undefined when every bucket has the same time. */
export function weightedLine(buckets: readonly RateBucket[]): { intercept: number; slope: number; meanRate: number; spread: number } | undefined {
  let weights = 0;
  let meanTime = 0;
  let clicks = 0;
  for (const bucket of buckets) {
    weights += bucket.impressions;
    meanTime += bucket.impressions * bucket.time;
    clicks += bucket.clicks;
  }
  if (weights === 0) return undefined;
  meanTime /= weights;
  const meanRate = clicks / weights;
  let spread = 0;
  let covariance = 0;
  for (const bucket of buckets) {
    const dt = bucket.time - meanTime;
    // a bucket without impressions weighs nothing; the guard only keeps 0/0 out
    spread += bucket.impressions * dt * dt;
    covariance += bucket.impressions * dt * (bucket.clicks / Math.max(bucket.impressions, 1) - meanRate);
  }
  if (spread === 0) return undefined;
  const slope = covariance / spread;
  return { intercept: meanRate - slope * meanTime, slope, meanRate, spread };
}

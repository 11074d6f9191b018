import { normalQuantile } from '@backflow/drift';
import { clipProbability } from './distributions';

/** One time bucket of a slice's traffic: when, how many impressions, how many of them clicked. */
export interface RateBucket {
  /** any increasing number: a bucket index, a day number, epoch milliseconds */
  time: number;
  impressions: number;
  clicks: number;
}

export interface BaselineOptions {
  /** the in-control click-through rate; when absent, the pooled rate of the first `baselineBuckets` buckets */
  baselineRate?: number;
  /** the baseline window when no rate is given; a quarter of the series (at least one bucket) by default */
  baselineBuckets?: number;
}

export interface CusumOptions extends BaselineOptions {
  /**
   * A baseline estimated from the window is taken at the lower bound of its one-sided Wilson
   * interval at this confidence (0.95 by default), so a window that ran high by chance does not
   * make ordinary traffic read as a drop; 0.5 takes the window's rate as it is.
   */
  baselineConfidence?: number;
  /** the relative drop to detect: the alternative rate is baseline × (1 − drop); 0.2 by default */
  drop?: number;
  /** h, in nats of evidence for the drop; 7 by default (Wald's bound: at least e^7 ≈ 1,100 buckets between false alarms) */
  decisionInterval?: number;
}

export interface PageHinkleyOptions extends BaselineOptions {
  /** δ, the allowance per bucket in standard deviations; 0.5 by default */
  allowance?: number;
  /** λ, the alarm threshold in standard deviations; 6 by default */
  threshold?: number;
}

/** What a one-sided detector of a drop found: the statistic per monitored bucket, and the first alarm if any. */
export interface DropDetection {
  alarmed: boolean;
  /** time of the first bucket whose statistic passed the threshold */
  alarmAt?: number;
  /** time of the first bucket after the statistic was last at zero before the alarm: where the drop is estimated to begin */
  changeAt?: number;
  /** the rate the statistic measures against (for the CUSUM from a window, the window's lower confidence bound) */
  baselineRate: number;
  /** the statistic after each monitored bucket (the buckets after the baseline window, or all with a given rate), for a chart */
  path: Array<{ time: number; statistic: number }>;
}

/**
 * One-sided CUSUM for a fall of a Bernoulli rate from p0 to p1 = p0·(1 − drop) (Page,
 * "Continuous Inspection Schemes", Biometrika 1954; the Bernoulli CUSUM of Reynolds &
 * Stoumbos, J. Quality Technology 1999, here on bucket totals): per bucket the log-likelihood
 * ratio x·ln(p1/p0) + (n − x)·ln((1 − p1)/(1 − p0)) is added, the sum floored at 0, and an alarm
 * raised when it passes h. The estimated change point is the bucket after the last zero before
 * the alarm (Page's estimator). The statistic keeps running after the alarm so a chart shows
 * whether the drop persists. Binomial noise is assumed: a series with day-of-week swings needs
 * weekly buckets or a larger h. An estimated baseline makes false alarms likelier than Wald's
 * bound says (Jones, Champ & Rigdon, Technometrics 2004), hence `baselineConfidence`. Undefined when the series is empty or has no baseline (no
 * impression in the window, or a baseline rate of 0, which cannot fall).
 */
export function bernoulliCusum(series: readonly RateBucket[], options: CusumOptions = {}): DropDetection | undefined {
  const drop = options.drop ?? 0.2;
  const h = options.decisionInterval ?? 7;
  if (!(drop > 0 && drop < 1)) throw new RangeError('the drop to detect must be in (0, 1)');
  if (!(h > 0)) throw new RangeError('the decision interval must be positive');
  const confidence = options.baselineConfidence ?? 0.95;
  if (!(confidence >= 0.5 && confidence < 1)) throw new RangeError('the baseline confidence must be in [0.5, 1)');
  const baseline = resolveBaseline(series, options);
  if (!baseline) return undefined;
  const reference = options.baselineRate ?? wilsonLowerBound(baseline.clicks, baseline.impressions, normalQuantile(confidence));
  const p0 = clipProbability(reference);
  const p1 = clipProbability(reference * (1 - drop));
  const onClick = Math.log(p1 / p0);
  const onSkip = Math.log((1 - p1) / (1 - p0));
  let statistic = 0;
  return detect(series.slice(baseline.monitoredFrom), reference, h, (bucket) => {
    statistic = Math.max(0, statistic + bucket.clicks * onClick + (bucket.impressions - bucket.clicks) * onSkip);
    return statistic;
  });
}

/**
 * Page-Hinkley test for a fall in the rate (Page 1954; Hinkley, Biometrika 1971; in the
 * streaming form of Gama et al., "A Survey on Concept Drift Adaptation", ACM Computing Surveys
 * 2014), on per-bucket z-scores so δ and λ are in standard deviations whatever the traffic:
 * u_t = (x_t − n_t·p̄) / √(n_t·p̄(1 − p̄)) against the pooled rate p̄ of every bucket before t
 * (or the given baseline rate, which makes it a standardized CUSUM), m_t = Σ (u + δ),
 * PH_t = max m − m_t, alarm when PH_t > λ. The change point is the bucket after the maximum.
 * Undefined as `bernoulliCusum` is.
 */
export function pageHinkley(series: readonly RateBucket[], options: PageHinkleyOptions = {}): DropDetection | undefined {
  const allowance = options.allowance ?? 0.5;
  const threshold = options.threshold ?? 6;
  if (!(allowance >= 0)) throw new RangeError('the allowance must be non-negative');
  if (!(threshold > 0)) throw new RangeError('the threshold must be positive');
  const baseline = resolveBaseline(series, options);
  if (!baseline) return undefined;
  let impressions = baseline.impressions;
  let clicks = baseline.clicks;
  let cumulative = 0;
  let highest = 0;
  return detect(series.slice(baseline.monitoredFrom), baseline.rate, threshold, (bucket) => {
    const reference = clipProbability(options.baselineRate ?? clicks / impressions);
    cumulative += (bucket.clicks - bucket.impressions * reference) / Math.sqrt(bucket.impressions * reference * (1 - reference)) + allowance;
    highest = Math.max(highest, cumulative);
    impressions += bucket.impressions;
    clicks += bucket.clicks;
    return highest - cumulative;
  });
}

/** The lower end of the Wilson score interval (Wilson, JASA 1927) for clicks out of impressions, z the one-sided normal quantile. */
function wilsonLowerBound(clicks: number, impressions: number, z: number): number {
  const p = clicks / impressions;
  const z2 = z * z;
  const centre = p + z2 / (2 * impressions);
  const half = z * Math.sqrt((p * (1 - p)) / impressions + z2 / (4 * impressions * impressions));
  return Math.max(0, (centre - half) / (1 + z2 / impressions));
}

/** Runs a statistic over the monitored buckets (skipping empty ones), recording its path, the first alarm and the last zero before it. */
function detect(monitored: readonly RateBucket[], baselineRate: number, threshold: number, step: (bucket: RateBucket) => number): DropDetection {
  const path: DropDetection['path'] = [];
  let statistic = 0;
  let alarmAt: number | undefined;
  let changeAt: number | undefined;
  let runStart: number | undefined;
  for (const bucket of monitored) {
    if (bucket.impressions > 0) statistic = step(bucket);
    path.push({ time: bucket.time, statistic });
    if (alarmAt !== undefined) continue;
    if (statistic <= 0) runStart = undefined;
    else runStart ??= bucket.time;
    if (statistic > threshold) {
      alarmAt = bucket.time;
      changeAt = runStart;
    }
  }
  return alarmAt === undefined ? { alarmed: false, baselineRate, path } : { alarmed: true, alarmAt, changeAt, baselineRate, path };
}

/** The baseline rate and where monitoring starts; validates the series on the way. */
function resolveBaseline(
  series: readonly RateBucket[],
  options: BaselineOptions,
): { rate: number; impressions: number; clicks: number; monitoredFrom: number } | undefined {
  checkRateSeries(series);
  if (series.length === 0) return undefined;
  if (options.baselineRate !== undefined) {
    if (!(options.baselineRate > 0 && options.baselineRate <= 1)) throw new RangeError('a baseline rate must be in (0, 1]');
    return { rate: options.baselineRate, impressions: 0, clicks: 0, monitoredFrom: 0 };
  }
  const window = options.baselineBuckets ?? Math.max(1, Math.floor(series.length / 4));
  if (!(Number.isInteger(window) && window >= 1)) throw new RangeError('the baseline window must be a positive number of buckets');
  let impressions = 0;
  let clicks = 0;
  for (const bucket of series.slice(0, window)) {
    impressions += bucket.impressions;
    clicks += bucket.clicks;
  }
  if (impressions === 0 || clicks === 0) return undefined;
  return { rate: clicks / impressions, impressions, clicks, monitoredFrom: window };
}

/** Refuses (RangeError) a series whose buckets are not in increasing time or have clicks outside [0, impressions]. */
export function checkRateSeries(series: readonly RateBucket[]): void {
  series.forEach((bucket, i) => {
    if (!Number.isFinite(bucket.time)) throw new RangeError('a bucket needs a finite time');
    if (i > 0 && !(bucket.time > series[i - 1].time)) throw new RangeError('buckets must be in increasing time');
    if (!(bucket.impressions >= 0 && bucket.clicks >= 0 && bucket.clicks <= bucket.impressions))
      throw new RangeError('a bucket needs 0 ≤ clicks ≤ impressions');
  });
}

import { jensenShannon } from './distance';
import type { FeatureSchema, FeatureType } from './schema';
/*
 * TFDV's data validation, by its own definitions (tensorflow/data-validation, anomalies/*.cc):
 * the L-infinity distance and the approximate Jensen–Shannon divergence its drift and skew
 * comparators measure, and the schema checks `tfdv.validate_statistics` runs, reported as
 * tensorflow_metadata's Anomalies with its anomaly type names and its texts. Statistics and schemas
 * are the plain objects of the proto messages (field names as in the .proto).
 *
 * One deliberate difference (docs/adr/0037): when two histograms' bucket boundaries differ, TFDV's
 * rebucketing drops their NaN counts; here NaN stays one bucket shared by both sides, as TFDV's
 * own earlier code and its published SameStatistics test (a feature against itself: 0) have it.
 */

export interface HistogramLike {
  num_nan?: number;
  buckets?: Array<{ low_value?: number; high_value?: number; sample_count?: number }>;
  type?: 'STANDARD' | 'QUANTILES' | number;
}

export interface CommonStatisticsLike {
  num_non_missing?: number;
  num_missing?: number;
  min_num_values?: number;
  max_num_values?: number;
  avg_num_values?: number;
  tot_num_values?: number;
}

export interface FeatureStatisticsLike {
  name?: string;
  path?: { step?: string[] };
  type?: 'INT' | 'FLOAT' | 'STRING' | 'BYTES' | 'STRUCT' | number;
  num_stats?: { common_stats?: CommonStatisticsLike; min?: number; max?: number; histograms?: HistogramLike[] };
  string_stats?: {
    common_stats?: CommonStatisticsLike;
    unique?: number;
    rank_histogram?: { buckets?: Array<{ label?: string; sample_count?: number }> };
  };
  bytes_stats?: { common_stats?: CommonStatisticsLike; unique?: number };
  struct_stats?: { common_stats?: CommonStatisticsLike };
}

export interface DatasetStatisticsLike {
  name?: string;
  num_examples?: number;
  features?: FeatureStatisticsLike[];
}

/** A Schema's Feature as this validation reads it (int64 fields may be numbers or decimal strings). */
export interface SchemaFeatureLike {
  name?: string;
  deprecated?: boolean;
  lifecycle_stage?: string;
  type?: string;
  presence?: { min_fraction?: number; min_count?: number | string };
  value_count?: { min?: number | string; max?: number | string };
  domain?: string;
  string_domain?: { name?: string; value?: string[] };
  int_domain?: { min?: number | string; max?: number | string; is_categorical?: boolean };
  float_domain?: { min?: number; max?: number; disallow_nan?: boolean; disallow_inf?: boolean };
  distribution_constraints?: { min_domain_mass?: number };
  unique_constraints?: { min?: number | string; max?: number | string };
  skew_comparator?: ComparatorLike;
  drift_comparator?: ComparatorLike;
  in_environment?: string[];
  not_in_environment?: string[];
}

export interface ComparatorLike {
  infinity_norm?: { threshold?: number };
  jensen_shannon_divergence?: { threshold?: number; source?: { type?: string } };
}

export interface SchemaLike {
  feature?: SchemaFeatureLike[];
  string_domain?: Array<{ name?: string; value?: string[] }>;
  default_environment?: string[];
}

/** `%.6g`, as absl::SixDigits prints TFDV's measurements and thresholds. */
export function sixDigits(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const rounded = Number(x.toPrecision(6));
  const exponent = Math.floor(Math.log10(Math.abs(rounded)));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, power] = rounded.toExponential(5).split('e');
    const digits = power.replace(/^[+-]/, '').padStart(2, '0');
    return `${mantissa.replace(/\.?0+$/, '')}e${power.startsWith('-') ? '-' : '+'}${digits}`;
  }
  const fixed = rounded.toFixed(Math.max(0, 5 - exponent));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Code-point order: the byte order of UTF-8, which TFDV's std::map sorts its labels by. */
const byBytes = (a: string, b: string): number => {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
};

/** A string feature's counts by value, from its rank histogram (the first bucket of a label counts, as TFDV's map insert keeps it). */
export function valueCounts(feature: FeatureStatisticsLike | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const bucket of feature?.string_stats?.rank_histogram?.buckets ?? []) {
    const label = bucket.label ?? '';
    if (!counts.has(label)) counts.set(label, bucket.sample_count ?? 0);
  }
  return counts;
}

/**
 * TFDV's L-infinity distance (metrics.cc, LInftyDistance): each side's counts divided by its own
 * sum, the largest absolute difference over the union of values; a tie goes to the value last in
 * byte order. Two empty sides: 0 and no value.
 */
export function tfdvLInfinity(treatment: ReadonlyMap<string, number>, control: ReadonlyMap<string, number>): { distance: number; value: string } {
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const ta = sum(treatment);
  const tb = sum(control);
  const share = (m: ReadonlyMap<string, number>, total: number, key: string) => (m.get(key) ?? 0) / (total === 0 ? 1 : total);
  const keys = [...new Set([...treatment.keys(), ...control.keys()])].sort(byBytes);
  let best = { distance: 0, value: '' };
  for (const key of keys) {
    const d = Math.abs(share(treatment, ta, key) - share(control, tb, key));
    if (d >= best.distance) best = { distance: d, value: key };
  }
  return best;
}

export class DivergenceError extends Error {}

type Bucket = { low: number; high: number; count: number };

/** Bucket boundaries aligned, each side's counts spread evenly within its buckets (metrics.cc, AlignHistograms). */
function alignHistograms(h1: HistogramLike, h2: HistogramLike): [number[], number[]] {
  const strip = (h: HistogramLike) => {
    const kept: Bucket[] = [];
    const points = new Map<number, number>();
    let infinite = 0;
    for (const b of h.buckets ?? []) {
      const low = b.low_value ?? 0;
      const high = b.high_value ?? 0;
      const count = b.sample_count ?? 0;
      if (!Number.isFinite(low) || !Number.isFinite(high)) infinite += count;
      else if (low === high) points.set(low, (points.get(low) ?? 0) + count);
      else kept.push({ low, high, count });
    }
    return { kept, points, infinite, nan: h.num_nan ?? 0 };
  };
  const a = strip(h1);
  const b = strip(h2);
  // every boundary of either side; a bucket's count spread evenly over the parts it is cut into
  // (with the same boundaries on both sides this is each side's buckets as they are)
  const union = [...new Set([...a.kept, ...b.kept].flatMap((k) => [k.low, k.high]))].sort((x, y) => x - y);
  const rebucket = (kept: Bucket[]) =>
    union.slice(0, -1).map((low, i) => {
      const high = union[i + 1];
      const within = kept.find((k) => k.low <= low && high <= k.high);
      return within ? ((high - low) / (within.high - within.low)) * within.count : 0;
    });
  const p = rebucket(a.kept);
  const q = rebucket(b.kept);
  for (const point of [...new Set([...a.points.keys(), ...b.points.keys()])].sort((x, y) => x - y)) {
    p.push(a.points.get(point) ?? 0);
    q.push(b.points.get(point) ?? 0);
  }
  // infinite values never match across the two sides
  if (a.infinite !== 0) {
    p.push(a.infinite);
    q.push(0);
  }
  if (b.infinite !== 0) {
    p.push(0);
    q.push(b.infinite);
  }
  if (a.nan > 0 || b.nan > 0) {
    p.push(a.nan);
    q.push(b.nan);
  }
  return [p, q];
}

/** The Jensen–Shannon divergence of two aligned histograms, in bits, capped at 1; an empty one is an error, as in TFDV. */
function divergence(p: readonly number[], q: readonly number[]): number {
  for (const h of [p, q]) if (h.reduce((x, y) => x + y, 0) <= 0) throw new DivergenceError('Unable to normalize an empty histogram');
  return jensenShannon(p, q);
}

/** TFDV's approximate Jensen–Shannon divergence of two numeric histograms (metrics.cc), in bits. */
export function tfdvJensenShannon(h1: HistogramLike, h2: HistogramLike): number {
  if ((h1.type ?? 'STANDARD') !== (h2.type ?? 'STANDARD')) throw new DivergenceError('Input histograms must have same type.');
  const [p, q] = alignHistograms(h1, h2);
  return divergence(p, q);
}

/** TFDV's Jensen–Shannon divergence of two categorical distributions (from their rank histograms). */
export function tfdvCategoricalJensenShannon(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  if (a.size === 0 || b.size === 0) throw new DivergenceError('One or more feature missing data.');
  for (const v of [...a.values(), ...b.values()]) if (v <= 0) throw new DivergenceError('Sample count is a non-positive value.');
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort(byBytes);
  return divergence(
    keys.map((k) => a.get(k) ?? 0),
    keys.map((k) => b.get(k) ?? 0),
  );
}

/** The histogram a comparator reads: STANDARD unless the comparator's source says QUANTILES. */
export function histogramOf(feature: FeatureStatisticsLike | undefined, source: string | undefined): HistogramLike | undefined {
  const wanted = source === 'QUANTILES' ? 'QUANTILES' : 'STANDARD';
  return feature?.num_stats?.histograms?.find((h) => (h.type === undefined || h.type === 0 ? 'STANDARD' : h.type === 1 ? 'QUANTILES' : h.type) === wanted);
}

export type AnomalyType =
  | 'SCHEMA_MISSING_COLUMN'
  | 'SCHEMA_NEW_COLUMN'
  | 'UNEXPECTED_DATA_TYPE'
  | 'FEATURE_TYPE_LOW_FRACTION_PRESENT'
  | 'FEATURE_TYPE_LOW_NUMBER_PRESENT'
  | 'FEATURE_TYPE_NOT_PRESENT'
  | 'FEATURE_TYPE_LOW_NUMBER_VALUES'
  | 'FEATURE_TYPE_HIGH_NUMBER_VALUES'
  | 'ENUM_TYPE_UNEXPECTED_STRING_VALUES'
  | 'INT_TYPE_SMALL_INT'
  | 'INT_TYPE_BIG_INT'
  | 'FLOAT_TYPE_SMALL_FLOAT'
  | 'FLOAT_TYPE_BIG_FLOAT'
  | 'FLOAT_TYPE_HAS_NAN'
  | 'FLOAT_TYPE_HAS_INF'
  | 'FEATURE_TYPE_HIGH_UNIQUE'
  | 'FEATURE_TYPE_LOW_UNIQUE'
  | 'COMPARATOR_CONTROL_DATA_MISSING'
  | 'COMPARATOR_L_INFTY_HIGH'
  | 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH';

export interface AnomalyReason {
  type: AnomalyType;
  short_description: string;
  description: string;
}

export interface AnomalyInfoObject {
  path: { step: string[] };
  severity: 'ERROR';
  short_description: string;
  description: string;
  reason: AnomalyReason[];
}

export interface Measurement {
  type: 'L_INFTY' | 'JENSEN_SHANNON_DIVERGENCE';
  value: number;
  threshold: number;
}

export interface DriftSkewInfoObject {
  path: { step: string[] };
  drift_measurements?: Measurement[];
  skew_measurements?: Measurement[];
}

/** tensorflow_metadata's Anomalies, as a plain object (the schema given as `baseline`). */
export interface AnomaliesObject {
  baseline: SchemaLike;
  anomaly_name_format: 'SERIALIZED_PATH';
  anomaly_info: Record<string, AnomalyInfoObject>;
  data_missing?: boolean;
  drift_skew_info: DriftSkewInfoObject[];
}

export interface ValidationOptions {
  /** the previous span's statistics: the drift comparators compare against them */
  previous?: DatasetStatisticsLike;
  /** serving statistics: the skew comparators compare the statistics validated (training) against them */
  serving?: DatasetStatisticsLike;
  /**
   * training statistics, when the statistics validated are serving's: the skew comparators compare
   * these (the treatment, as in TFDV) against the statistics validated
   */
  training?: DatasetStatisticsLike;
  /** the environment the statistics come from (the schema's in_environment / not_in_environment) */
  environment?: string;
}

/** A feature's name as TFDV keys it: the path's steps joined by ".", a step holding ".", "(", ")" or "'" quoted. */
export function serializedPath(steps: readonly string[]): string {
  return steps.map((s) => (/[.()']/.test(s) && !/^\(.*\)$/.test(s) ? `'${s.replace(/'/g, "''")}'` : s)).join('.');
}

/**
 * A feature's name as a schema names it: its one step (a top-level feature, whatever characters it
 * holds: "user.email" stays as it is), or the serialized path of a nested one.
 */
export const featureName = (f: FeatureStatisticsLike): string => {
  const steps = f.path?.step;
  if (!steps?.length) return f.name ?? '';
  return steps.length === 1 ? steps[0] : serializedPath(steps);
};

const STATS_TYPE_AS_SCHEMA: Record<string, string> = { STRING: 'BYTES', BYTES: 'BYTES', INT: 'INT', FLOAT: 'FLOAT', STRUCT: 'STRUCT' };
const STATS_TYPE_BY_NUMBER = ['INT', 'FLOAT', 'STRING', 'BYTES', 'STRUCT'];
const statsType = (f: FeatureStatisticsLike): string => (typeof f.type === 'number' ? STATS_TYPE_BY_NUMBER[f.type] : (f.type ?? 'INT'));

function commonOf(f: FeatureStatisticsLike): CommonStatisticsLike {
  return f.num_stats?.common_stats ?? f.string_stats?.common_stats ?? f.bytes_stats?.common_stats ?? f.struct_stats?.common_stats ?? {};
}

const num = (v: number | string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const INACTIVE = new Set(['PLANNED', 'ALPHA', 'DEPRECATED', 'DEBUG_ONLY', 'DISABLED']);

function inEnvironment(feature: SchemaFeatureLike, schema: SchemaLike, environment: string | undefined): boolean {
  if (environment === undefined) return true;
  if (feature.not_in_environment?.includes(environment)) return false;
  if (feature.in_environment?.length) return feature.in_environment.includes(environment);
  return !schema.default_environment?.length || schema.default_environment.includes(environment);
}

/** "~5%", "<1%" or "?" (TFDV's share of off-domain values). */
function share(count: number, total: number): string {
  if (total === 0) return '?';
  const percent = (Math.trunc(count) / total) * 100;
  return percent < 1 ? '<1%' : `~${Math.floor(percent)}%`;
}

/** absl::Utf8SafeCEscape: control characters, quotes and backslashes escaped, UTF-8 kept. */
const cEscape = (s: string) =>
  // eslint-disable-next-line no-control-regex -- the control characters are what is escaped
  s.replace(/[\\"'\n\r\t\x00-\x1f\x7f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
  });

const fixed6 = (x: number) => x.toFixed(6);

/**
 * `tfdv.validate_statistics`: the statistics checked against the schema (presence, type, value
 * counts, domains, unique counts), the drift comparators against `previous`, the skew comparators
 * against `serving`, and the columns the schema does not know. TFDV's anomaly types and texts.
 */
export function validateStatistics(statistics: DatasetStatisticsLike, schema: SchemaLike, options: ValidationOptions = {}): AnomaliesObject {
  const anomalies: AnomaliesObject = { baseline: schema, anomaly_name_format: 'SERIALIZED_PATH', anomaly_info: {}, drift_skew_info: [] };
  if (!statistics.num_examples) {
    anomalies.data_missing = true;
    return anomalies;
  }
  const byName = new Map((statistics.features ?? []).map((f) => [featureName(f), f]));
  const previous = options.previous && new Map((options.previous.features ?? []).map((f) => [featureName(f), f]));
  const serving = options.serving && new Map((options.serving.features ?? []).map((f) => [featureName(f), f]));
  const training = options.training && new Map((options.training.features ?? []).map((f) => [featureName(f), f]));
  const domains = new Map((schema.string_domain ?? []).map((d) => [d.name ?? '', d.value ?? []]));
  const add = (name: string, reasons: AnomalyReason[]) => {
    if (reasons.length === 0) return;
    // keyed as TFDV keys it (SERIALIZED_PATH: a name holding ".", "(", ")" or "'" quoted)
    anomalies.anomaly_info[serializedPath([name])] = {
      path: { step: [name] },
      severity: 'ERROR',
      short_description: reasons.length === 1 ? reasons[0].short_description : 'Multiple errors',
      description: reasons.map((r) => r.description).join(' '),
      reason: reasons,
    };
  };
  const known = new Set<string>();
  for (const feature of schema.feature ?? []) {
    const name = feature.name ?? '';
    known.add(name);
    if (!inEnvironment(feature, schema, options.environment)) continue;
    const deprecated = feature.deprecated || INACTIVE.has(feature.lifecycle_stage ?? '');
    const stats = byName.get(name);
    if (!stats) {
      const required = !deprecated && ((num(feature.presence?.min_count) ?? 0) > 0 || (feature.presence?.min_fraction ?? 0) > 0);
      const reasons: AnomalyReason[] = required
        ? [{ type: 'SCHEMA_MISSING_COLUMN', short_description: 'Column dropped', description: 'Column is completely missing' }]
        : [];
      // serving validated with training's statistics: a feature training has and serving lacks is TFDV's missing control
      if (!deprecated && training?.get(name) && feature.skew_comparator && comparatorThresholds(feature.skew_comparator).length)
        reasons.push({ type: 'COMPARATOR_CONTROL_DATA_MISSING', short_description: 'serving data missing', description: 'serving data is missing.' });
      add(name, reasons);
      continue;
    }
    if (deprecated) continue;
    const reasons = checkFeature(feature, stats, statistics.num_examples, domains);
    const info: DriftSkewInfoObject = { path: { step: [name] } };
    if (feature.drift_comparator && previous) {
      const measured = compare(feature.drift_comparator, stats, previous.get(name), 'current', 'previous', reasons);
      if (measured.length) info.drift_measurements = measured;
    }
    // with training's statistics as treatment, a feature only serving has is not compared (TFDV, validating training, would not see it)
    if (feature.skew_comparator && (serving || training?.get(name))) {
      const measured = training
        ? compare(feature.skew_comparator, training.get(name)!, stats, 'training', 'serving', reasons)
        : compare(feature.skew_comparator, stats, serving!.get(name), 'training', 'serving', reasons);
      if (measured.length) info.skew_measurements = measured;
    }
    if (info.drift_measurements || info.skew_measurements) anomalies.drift_skew_info.push(info);
    add(name, reasons);
  }
  for (const name of byName.keys()) {
    if (!known.has(name))
      add(name, [{ type: 'SCHEMA_NEW_COLUMN', short_description: 'New column', description: 'New column (column in data but not in schema)' }]);
  }
  return anomalies;
}

function checkFeature(feature: SchemaFeatureLike, stats: FeatureStatisticsLike, examples: number, domains: Map<string, string[]>): AnomalyReason[] {
  const reasons: AnomalyReason[] = [];
  const common = commonOf(stats);
  const present = common.num_non_missing ?? 0;
  const missing = common.num_missing ?? 0;
  const type = statsType(stats);
  if (feature.type && feature.type !== 'TYPE_UNKNOWN' && STATS_TYPE_AS_SCHEMA[type] !== feature.type && present > 0) {
    reasons.push({
      type: 'UNEXPECTED_DATA_TYPE',
      short_description: 'Unexpected data type',
      description: `Expected data of type: ${feature.type} but got ${type}`,
    });
    return reasons;
  }
  const minFraction = feature.presence?.min_fraction;
  const minCount = num(feature.presence?.min_count);
  if (minFraction !== undefined) {
    const fraction = missing === 0 ? 1 : present / examples;
    if (minFraction >= 1 && missing !== 0)
      reasons.push({
        type: 'FEATURE_TYPE_LOW_FRACTION_PRESENT',
        short_description: 'Column dropped',
        description: `The feature was expected everywhere, but was missing in ${missing} examples.`,
      });
    else if (fraction < minFraction)
      reasons.push({
        type: 'FEATURE_TYPE_LOW_FRACTION_PRESENT',
        short_description: 'Column dropped',
        description: `The feature was present in fewer examples than expected: minimum fraction = ${fixed6(minFraction)}, actual = ${fixed6(fraction)}`,
      });
  }
  if (minCount !== undefined && present < minCount)
    reasons.push({
      type: present === 0 ? 'FEATURE_TYPE_NOT_PRESENT' : 'FEATURE_TYPE_LOW_NUMBER_PRESENT',
      short_description: 'Column dropped',
      description:
        present === 0
          ? 'The feature was not present in any examples.'
          : `The feature was present in fewer examples than expected: minimum count = ${minCount}, actual = ${present}`,
    });
  if (present === 0) return reasons;
  const minValues = num(feature.value_count?.min);
  const maxValues = num(feature.value_count?.max);
  if (minValues !== undefined && (common.min_num_values ?? 0) < minValues)
    reasons.push({
      type: 'FEATURE_TYPE_LOW_NUMBER_VALUES',
      short_description: 'Missing values',
      description: 'Some examples have fewer values than expected.',
    });
  if (maxValues !== undefined && (common.max_num_values ?? 0) > maxValues)
    reasons.push({
      type: 'FEATURE_TYPE_HIGH_NUMBER_VALUES',
      short_description: 'Superfluous values',
      description: 'Some examples have more values than expected.',
    });
  const domain = feature.string_domain?.value ?? (feature.domain !== undefined ? domains.get(feature.domain) : undefined);
  if (domain && stats.string_stats) {
    const allowed = new Set(domain);
    const off = [...valueCounts(stats)].filter(([label]) => !allowed.has(label)).sort(([a], [b]) => byBytes(a, b));
    const offCount = off.reduce((sum, [, n]) => sum + n, 0);
    const total = common.tot_num_values || present * (common.avg_num_values ?? 0);
    const maxOff = feature.distribution_constraints?.min_domain_mass === undefined ? 0 : 1 - feature.distribution_constraints.min_domain_mass;
    if (off.length > 0 && (total === 0 || offCount / total > maxOff || maxOff === 0))
      reasons.push({
        type: 'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
        short_description: 'Unexpected string values',
        description: `Examples contain values missing from the schema: ${off.map(([label, n]) => `${cEscape(label)} (${share(n, total)})`).join(', ')}. `,
      });
  }
  const numeric = stats.num_stats;
  if (feature.int_domain && numeric && numeric.min !== undefined) {
    const min = num(feature.int_domain.min);
    const max = num(feature.int_domain.max);
    if (min !== undefined && numeric.min < min)
      reasons.push({ type: 'INT_TYPE_SMALL_INT', short_description: 'Out-of-range values', description: `Unexpectedly small value: ${numeric.min}.` });
    if (max !== undefined && (numeric.max ?? 0) > max)
      reasons.push({ type: 'INT_TYPE_BIG_INT', short_description: 'Out-of-range values', description: `Unexpectedly large value: ${numeric.max}.` });
  }
  if (feature.float_domain && numeric) {
    const { min, max, disallow_nan, disallow_inf } = feature.float_domain;
    if (min !== undefined && numeric.min !== undefined && numeric.min < min)
      reasons.push({
        type: 'FLOAT_TYPE_SMALL_FLOAT',
        short_description: 'Out-of-range values',
        description: `Unexpectedly low values: ${sixDigits(numeric.min)}<${sixDigits(min)}(upto six significant digits)`,
      });
    if (max !== undefined && numeric.max !== undefined && numeric.max > max)
      reasons.push({
        type: 'FLOAT_TYPE_BIG_FLOAT',
        short_description: 'Out-of-range values',
        description: `Unexpectedly high value: ${sixDigits(numeric.max)}>${sixDigits(max)}(upto six significant digits)`,
      });
    if (disallow_nan && (numeric.histograms ?? []).some((h) => (h.num_nan ?? 0) > 0))
      reasons.push({ type: 'FLOAT_TYPE_HAS_NAN', short_description: 'Invalid values', description: 'Float feature has NaN values.' });
    if (disallow_inf && (!Number.isFinite(numeric.min ?? 0) || !Number.isFinite(numeric.max ?? 0)))
      reasons.push({ type: 'FLOAT_TYPE_HAS_INF', short_description: 'Invalid values', description: 'Float feature has Inf values.' });
  }
  const unique = stats.string_stats?.unique ?? stats.bytes_stats?.unique;
  if (feature.unique_constraints && unique !== undefined) {
    const min = num(feature.unique_constraints.min);
    const max = num(feature.unique_constraints.max);
    if (max !== undefined && unique > max)
      reasons.push({
        type: 'FEATURE_TYPE_HIGH_UNIQUE',
        short_description: 'High number of unique values',
        description: `Expected no more than ${max} unique values but found ${unique}.`,
      });
    if (min !== undefined && unique < min)
      reasons.push({
        type: 'FEATURE_TYPE_LOW_UNIQUE',
        short_description: 'Low number of unique values',
        description: `Expected at least ${min} unique values but found only ${unique}.`,
      });
  }
  return reasons;
}

export type ComparatorMetric = 'l_infinity' | 'jensen_shannon';

/**
 * The figure a comparator measures between two features' statistics, by TFDV's definitions: the
 * L-infinity distance of their value counts, or the approximate Jensen–Shannon divergence of their
 * value counts (a string) or of their histograms of the comparator's source type (a number).
 * Undefined where TFDV measures nothing (an empty side, histograms of different types).
 */
export function comparatorValue(
  metric: ComparatorMetric,
  treatment: FeatureStatisticsLike,
  control: FeatureStatisticsLike,
  source?: string,
): { value: number; at?: string } | undefined {
  if (metric === 'l_infinity') {
    const { distance, value } = tfdvLInfinity(valueCounts(treatment), valueCounts(control));
    return { value: distance, at: value };
  }
  try {
    const a = valueCounts(treatment);
    const b = valueCounts(control);
    if (a.size > 0 && b.size > 0) return { value: tfdvCategoricalJensenShannon(a, b) };
    const h1 = histogramOf(treatment, source);
    const h2 = histogramOf(control, source);
    return h1 && h2 ? { value: tfdvJensenShannon(h1, h2) } : undefined;
  } catch (error) {
    // TFDV logs a warning and measures nothing
    if (error instanceof DivergenceError) return undefined;
    throw error;
  }
}

/** What a schema's comparator measures: its thresholds by metric (a comparator may hold both). */
export function comparatorThresholds(comparator: ComparatorLike | undefined): Array<{ metric: ComparatorMetric; threshold: number; source?: string }> {
  const out: Array<{ metric: ComparatorMetric; threshold: number; source?: string }> = [];
  if (comparator?.infinity_norm?.threshold !== undefined) out.push({ metric: 'l_infinity', threshold: comparator.infinity_norm.threshold });
  const jsd = comparator?.jensen_shannon_divergence;
  if (jsd?.threshold !== undefined) out.push({ metric: 'jensen_shannon', threshold: jsd.threshold, ...(jsd.source?.type && { source: jsd.source.type }) });
  return out;
}

/** The reason TFDV gives for a measurement above its comparator's threshold. */
function comparatorReason(metric: ComparatorMetric, value: number, threshold: number, treatmentName: string, controlName: string, at?: string): AnomalyReason {
  return metric === 'l_infinity'
    ? {
        type: 'COMPARATOR_L_INFTY_HIGH',
        short_description: `High Linfty distance between ${treatmentName} and ${controlName}`,
        description: `The Linfty distance between ${treatmentName} and ${controlName} is ${sixDigits(value)} (up to six significant digits), above the threshold ${sixDigits(threshold)}. The feature value with maximum difference is: ${at ?? ''}`,
      }
    : {
        type: 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH',
        short_description: `High approximate Jensen-Shannon divergence between ${treatmentName} and ${controlName}`,
        description: `The approximate Jensen-Shannon divergence between ${treatmentName} and ${controlName} is ${sixDigits(value)} (up to six significant digits), above the threshold ${sixDigits(threshold)}.`,
      };
}

/** One comparator: its measurements always, a reason when one is above its threshold (feature_util.cc). */
function compare(
  comparator: ComparatorLike,
  treatment: FeatureStatisticsLike,
  control: FeatureStatisticsLike | undefined,
  treatmentName: string,
  controlName: string,
  reasons: AnomalyReason[],
): Measurement[] {
  const measured: Measurement[] = [];
  const thresholds = comparatorThresholds(comparator);
  if (thresholds.length === 0) return measured;
  if (!control) {
    reasons.push({ type: 'COMPARATOR_CONTROL_DATA_MISSING', short_description: `${controlName} data missing`, description: `${controlName} data is missing.` });
    return measured;
  }
  for (const { metric, threshold, source } of thresholds) {
    const result = comparatorValue(metric, treatment, control, source);
    if (!result) continue;
    measured.push({ type: metric === 'l_infinity' ? 'L_INFTY' : 'JENSEN_SHANNON_DIVERGENCE', value: result.value, threshold });
    if (result.value > threshold) reasons.push(comparatorReason(metric, result.value, threshold, treatmentName, controlName, result.at));
  }
  return measured;
}

export interface InferredFeature extends SchemaFeatureLike {
  name: string;
  shape?: { dim: Array<{ size: number }> };
  bool_domain?: { true_value?: string; false_value?: string };
}

export interface InferredSchema {
  feature: InferredFeature[];
  string_domain?: Array<{ name: string; value: string[] }>;
}

const TRUE_STRINGS = new Set(['TRUE', 'true', 'SET', 'set', '1', '']);
const FALSE_STRINGS = new Set(['FALSE', 'false', 'CLEAR', 'clear', '0']);
const INT64 = /^-?\d+$/;

/**
 * `tfdv.infer_schema` as SchemaGen runs it (schema.cc CreateColumn, feature_util.cc
 * InitPresenceAndShape; defaults infer_feature_shape = True, max_string_domain_size = 100): per
 * feature its type, presence (min_count 1; min_fraction 1.0 when it is never missing), a fixed
 * shape when every example has the same number of values, else a value count, and a domain: a
 * bool domain, an int domain for strings that are all integers, or a string domain of at most
 * `maxStringDomainSize` values (in byte order, named after the feature).
 */
export function inferTfdvSchema(
  statistics: DatasetStatisticsLike,
  options: { inferFeatureShape?: boolean; maxStringDomainSize?: number } = {},
): InferredSchema {
  const inferShape = options.inferFeatureShape ?? true;
  const enumThreshold = options.maxStringDomainSize ?? 100;
  const schema: InferredSchema = { feature: [] };
  const domainNames = new Set<string>();
  for (const stats of statistics.features ?? []) {
    const common = commonOf(stats);
    const name = featureName(stats);
    const type = STATS_TYPE_AS_SCHEMA[statsType(stats)] ?? 'BYTES';
    const feature: InferredFeature = { name, type };
    schema.feature.push(feature);
    const present = common.num_non_missing ?? 0;
    feature.presence = { min_count: present >= 1 ? 1 : 0, ...((common.num_missing ?? 0) === 0 && present > 0 && { min_fraction: 1 }) };
    if (present <= 0) continue;
    const min = common.min_num_values ?? 0;
    const max = common.max_num_values ?? 0;
    if (inferShape && (common.num_missing ?? 0) === 0 && min === max && min > 0) feature.shape = { dim: [{ size: min }] };
    else if (min > 0) feature.value_count = min === max ? { min, max } : { min: 1 };
    const labels = [...valueCounts(stats).keys()];
    if (type === 'INT' && stats.num_stats && (stats.num_stats.min ?? 0) >= 0 && stats.num_stats.max === 1) {
      feature.bool_domain = {};
    } else if (stats.string_stats && labels.length > 0 && labels.length <= 2 && labels.every((l) => TRUE_STRINGS.has(l) || FALSE_STRINGS.has(l))) {
      const t = labels.find((l) => TRUE_STRINGS.has(l));
      const f = labels.find((l) => FALSE_STRINGS.has(l));
      feature.bool_domain = { ...(t !== undefined && { true_value: t }), ...(f !== undefined && { false_value: f }) };
    } else if (stats.string_stats && labels.length > 0 && labels.every((l) => INT64.test(l) && BigInt(l) >= -(2n ** 63n) && BigInt(l) < 2n ** 63n)) {
      feature.int_domain = {};
    } else if (stats.string_stats && labels.length >= 1 && labels.length <= enumThreshold) {
      let domainName = name;
      for (let n = 2; domainNames.has(domainName); n++) domainName = `${name}${n}`;
      domainNames.add(domainName);
      feature.domain = domainName;
      (schema.string_domain ??= []).push({ name: domainName, value: labels.sort(byBytes) });
    }
  }
  return schema;
}

/**
 * A schema for exported data: the inferred one, with every setting of an uploaded schema kept —
 * a feature the uploaded schema has is the uploaded one (its type, presence, domain, comparators,
 * environments as the pipeline set them), and so are its string domains and dataset-wide settings;
 * the features only the data has are added as inferred.
 */
export function withUploadedSettings<T extends { feature?: SchemaFeatureLike[]; string_domain?: Array<{ name?: string; value?: string[] }> }>(
  inferred: InferredSchema,
  uploaded: T | undefined,
): InferredSchema & Omit<T, 'feature' | 'string_domain'> {
  if (!uploaded) return inferred as InferredSchema & Omit<T, 'feature' | 'string_domain'>;
  const byName = new Map((uploaded.feature ?? []).map((f) => [f.name ?? '', f]));
  const uploadedDomains = (uploaded.string_domain ?? []) as Array<{ name: string; value: string[] }>;
  const taken = new Set(uploadedDomains.map((d) => d.name));
  const inferredDomains = new Map((inferred.string_domain ?? []).map((d) => [d.name, d.value]));
  const string_domain = [...uploadedDomains];
  const feature = inferred.feature.map((f): InferredFeature => {
    const kept = byName.get(f.name) as InferredFeature | undefined;
    if (kept) return kept;
    if (f.domain === undefined) return f;
    // an inferred domain under a name the uploaded schema does not use
    let name = f.domain;
    for (let n = 2; taken.has(name); n++) name = `${f.domain}${n}`;
    taken.add(name);
    string_domain.push({ name, value: inferredDomains.get(f.domain) ?? [] });
    return { ...f, domain: name };
  });
  const inData = new Set(inferred.feature.map((f) => f.name));
  // the uploaded features the data does not have stay too (a deprecated or environment-bound one)
  for (const f of uploaded.feature ?? []) if (!inData.has(f.name ?? '')) feature.push(f as InferredFeature);
  return { ...uploaded, feature, ...(string_domain.length && { string_domain }) };
}

/** The dataset of a statistics list a baseline is taken from: the unsliced one (no name, or TFDV's "All Examples"), else the first. */
export function defaultDataset<D extends { name?: string }>(datasets: readonly D[]): D | undefined {
  return datasets.find((d) => !d.name || d.name === 'All Examples') ?? datasets[0];
}

export type BaselineFromStatistics = { kind: 'numeric'; edges: number[]; counts: number[] } | { kind: 'categorical'; frequencies: Record<string, number> };

/**
 * A feature's TFDV statistics as a drift baseline: a number's bins are its QUANTILES histogram's
 * boundaries (the STANDARD one's when it has none), each bin its bucket's count, buckets with the
 * same boundary merged (TFDV's comparators bin the serving values on the baseline's boundaries);
 * a string's frequencies are its rank histogram's counts (its top values' when it has none).
 * Undefined for a feature with neither.
 */
export function baselineOf(feature: FeatureStatisticsLike): BaselineFromStatistics | undefined {
  const counts = valueCounts(feature);
  if (counts.size > 0) return { kind: 'categorical', frequencies: Object.fromEntries(counts) };
  const top = (feature.string_stats as { top_values?: Array<{ value?: string; frequency?: number }> } | undefined)?.top_values;
  if (top?.length) return { kind: 'categorical', frequencies: Object.fromEntries(top.map((t) => [t.value ?? '', t.frequency ?? 0])) };
  const histogram = histogramOf(feature, 'QUANTILES')?.buckets?.length ? histogramOf(feature, 'QUANTILES') : histogramOf(feature, 'STANDARD');
  const buckets = (histogram?.buckets ?? []).filter((b) => Number.isFinite(b.low_value ?? 0) && Number.isFinite(b.high_value ?? 0));
  if (buckets.length === 0) return undefined;
  // bin i holds the values at or under edges[i]; the last bin everything above
  const edges: number[] = [];
  const binCounts: number[] = [];
  for (const [i, b] of buckets.entries()) {
    const high = b.high_value ?? 0;
    const count = b.sample_count ?? 0;
    if (i === buckets.length - 1) {
      binCounts.push(count);
      break;
    }
    if (edges.length && edges[edges.length - 1] >= high) binCounts[binCounts.length - 1] += count;
    else {
      edges.push(high);
      binCounts.push(count);
    }
  }
  if (edges.length === 0) return { kind: 'numeric', edges: [buckets[0].high_value ?? 0], counts: [binCounts[0], 0] };
  return { kind: 'numeric', edges, counts: binCounts };
}

/** A TFDV schema's feature as Backflow's monitoring schema has it: a type (scalar or list), whether it is required, its domain. */
export function monitoringFeatureOf(
  feature: SchemaFeatureLike & { shape?: { dim?: Array<{ size?: number | string }> }; bool_domain?: object },
  domains: ReadonlyMap<string, string[]>,
): FeatureSchema | undefined {
  const name = feature.name;
  if (!name) return undefined;
  // a list when the schema says an example may hold more than one value; a scalar otherwise (no shape, no value count)
  const cells = (feature.shape?.dim ?? []).reduce((n, d) => n * Number(d.size ?? 1), 1);
  const single = cells <= 1 && (feature.value_count === undefined || Number(feature.value_count.max ?? Infinity) <= 1);
  const base = feature.bool_domain
    ? 'bool'
    : feature.type === 'INT'
      ? 'int'
      : feature.type === 'FLOAT'
        ? 'float'
        : feature.type === 'BYTES'
          ? 'string'
          : undefined;
  if (!base) return undefined;
  const type: FeatureType = single ? base : (`${base}_list` as const);
  const domain = feature.string_domain?.value ?? (feature.domain !== undefined ? domains.get(feature.domain) : undefined);
  const required = (feature.presence?.min_fraction ?? 0) >= 1;
  return { name, type, required, ...(domain && base === 'string' && { domain: [...domain] }) };
}

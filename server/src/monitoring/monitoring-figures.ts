import {
  anomaliesOf,
  AnomalyKind,
  categoricalValues,
  Estimate,
  expectedCalibrationError,
  fallPValue,
  FeatureSchema,
  frequencies,
  histogram,
  isCategorical,
  jensenShannon,
  lInfinity,
  numericValues,
  quantileEdges,
  Schema,
  weightedProportion,
  type ComparatorLike,
  type FeatureStatisticsLike,
  type StatisticsFeatureType,
} from '@backflow/drift';
import { type KindMeasure, type MetricEstimate, worsePValue } from '@backflow/questions';
import { inclusionWeight } from '@backflow/sampling';
import type { BaselineFeature, FeatureDrift, KindMetrics, MonitoringReply, MonitoringSettings, SliceAccuracy, TfdvAnomalyType } from '@backflow/contracts';
import { groupBy } from '../common/group-by';
import type { LabeledPrediction, NewAlert, ObservedInput, WindowPrediction } from './monitoring.repository';
import { chartedComparator, comparatorMeasure, featureStatistics } from './tfdv-window';
import { calibrationOf, type ConfidenceBased, confidenceBased, supportOf } from './estimate-support';

export type DistributionSkew = MonitoringReply['skew']['distribution'][number];

export const ALL = '*';
// rows of the accuracy table one reply carries (all traffic first, then the most labelled slices)
const MAX_ROWS = 200;
// a chart point on fewer predictions than this says nothing about drift
const MIN_POINT_COUNT = 20;

export interface Windows {
  now: Date;
  /** the current window alerts judge */
  windowFrom: Date;
  /** the reference window: [baselineFrom, windowFrom) */
  baselineFrom: Date;
  chartFrom: Date;
  bucket: 'hour' | 'day';
}

export function bucketOf(at: Date, bucket: 'hour' | 'day'): string {
  const iso = at.toISOString();
  return bucket === 'hour' ? `${iso.slice(0, 13)}:00:00.000Z` : `${iso.slice(0, 10)}T00:00:00.000Z`;
}

interface Unit {
  outcome: number;
  weight: number;
  inclusionProbability: number | null;
  confidence: number;
  predicted: string;
  label: string;
  /** the routing question's output and answer as its kind measures them (another kind than label) */
  measured?: { weight: number };
}

interface Group {
  key: string;
  modelVersion: string;
  sliceKey: string;
  sliceValue: string;
  current: Unit[];
  baseline: Unit[];
  points: Map<string, Unit[]>;
}

function classFigures(units: readonly Unit[], classes: readonly string[]): SliceAccuracy['perClass'] {
  return classes.map((label) => ({
    label,
    precision: weightedProportion(units.filter((u) => u.predicted === label).map((u) => ({ outcome: u.label === label ? 1 : 0, weight: u.weight }))) ?? null,
    recall: weightedProportion(units.filter((u) => u.label === label).map((u) => ({ outcome: u.predicted === label ? 1 : 0, weight: u.weight }))) ?? null,
  }));
}

const measuredOf = (units: readonly Unit[]) => units.flatMap((u) => (u.measured ? [u.measured] : []));

/** A group's figures by the routing question's kind: the headline per window and chart bucket, the kind's figures on the current window. */
function metricsOf(measure: KindMeasure, g: Group): KindMetrics {
  const current = measuredOf(g.current);
  return {
    kind: measure.kind,
    headline: {
      metric: measure.headline,
      better: measure.better,
      value: measure.headlineOf(current) ?? null,
      baseline: measure.headlineOf(measuredOf(g.baseline)) ?? null,
      series: [...g.points]
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([at, units]) => {
          const value = measure.headlineOf(measuredOf(units));
          return value ? [{ at, value }] : [];
        }),
    },
    current: measure.figures(current) ?? null,
  } as KindMetrics;
}

/** The current window's predictions, for the support of each estimate and the estimate without labels. */
export interface WindowTraffic {
  /** the newest of the window's predictions (all of them when fewer than the cap) */
  predictions: ReadonlyArray<Pick<WindowPrediction, 'modelVersion' | 'slice' | 'confidence'>>;
  /** the window's predictions ÷ those: what scales a count in the sample to the window */
  scale: number;
  /** explored labels an estimate needs (the monitoring setting `minLabels`) */
  minExplored: number;
}

/** The keys of the groups a prediction counts in: every model version and its own, × all traffic and each of its slice values. */
function groupKeys(modelVersion: string, slice: Readonly<Record<string, string>> | null): Array<[string, string, string, string]> {
  const slices: Array<[string, string]> = [[ALL, ALL], ...Object.entries(slice ?? {})];
  return [ALL, modelVersion].flatMap((version) =>
    slices.map(([key, value]): [string, string, string, string] => [`${version}\u0000${key}\u0000${value}`, version, key, value]),
  );
}

/**
 * Per group, the window's predictions (scaled from the sample) and the confidence-based estimate
 * over them, each prediction's chance read from its model version's calibration (from the labels
 * of the window and the reference window).
 */
function trafficByGroup(traffic: WindowTraffic | undefined, labels: readonly LabeledPrediction[], labelQuestion: boolean) {
  const byGroup = new Map<string, { predictions: number; confidenceBased?: ConfidenceBased }>();
  if (!traffic) return byGroup;
  const calibrations = new Map(
    [...groupBy(labels, (l) => l.modelVersion)].map(([version, ls]) => [
      version,
      calibrationOf(ls.map((l) => ({ confidence: l.confidence, correct: l.label === l.predictedLabel }))),
    ]),
  );
  const none = calibrationOf([]);
  const groups = new Map<string, { count: number; chances: Array<{ chance: number; fromLabels: boolean }> }>();
  for (const p of traffic.predictions) {
    const calibration = calibrations.get(p.modelVersion) ?? none;
    const chance = labelQuestion ? { chance: calibration.chance(p.confidence), fromLabels: calibration.fromLabels(p.confidence) } : undefined;
    for (const [key] of groupKeys(p.modelVersion, p.slice)) {
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { count: 0, chances: [] }));
      group.count++;
      if (chance) group.chances.push(chance);
    }
  }
  for (const [key, group] of groups) {
    byGroup.set(key, { predictions: Math.round(group.count * traffic.scale), confidenceBased: labelQuestion ? confidenceBased(group.chances) : undefined });
  }
  return byGroup;
}

/**
 * Accuracy per model version × slice key × value ("*" for all traffic), each label weighted by
 * 1 / the inclusion probability of the task that got it labelled, so the estimate describes
 * all traffic and not the uncertain sample routing chose. With `measure` (a routing question
 * of another kind than label), each row also carries that kind's figures, weighted alike. With
 * `traffic`, each row says whether its labels stand for the traffic (`support`), and a label
 * question's rows carry the confidence-based estimate beside the labelled one.
 */
export function accuracyTable(
  labels: readonly LabeledPrediction[],
  windows: Windows,
  classes: readonly string[],
  measure?: KindMeasure,
  traffic?: WindowTraffic,
): SliceAccuracy[] {
  const groups = new Map<string, Group>();
  for (const l of labels) {
    const weight = inclusionWeight(l.inclusionProbability);
    const unit: Unit = {
      outcome: l.label === l.predictedLabel ? 1 : 0,
      weight,
      inclusionProbability: l.inclusionProbability,
      confidence: l.confidence,
      predicted: l.predictedLabel,
      label: l.label,
      measured: measure && l.measured ? measure.unit(l.measured.output, l.measured.answer, weight) : undefined,
    };
    for (const [key, modelVersion, sliceKey, sliceValue] of groupKeys(l.modelVersion, l.slice)) {
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { key, modelVersion, sliceKey, sliceValue, current: [], baseline: [], points: new Map() }));
      if (l.occurredAt >= windows.windowFrom) group.current.push(unit);
      else if (l.occurredAt >= windows.baselineFrom) group.baseline.push(unit);
      if (l.occurredAt >= windows.chartFrom) {
        const at = bucketOf(l.occurredAt, windows.bucket);
        const point = group.points.get(at);
        if (point) point.push(unit);
        else group.points.set(at, [unit]);
      }
    }
  }
  const byGroup = trafficByGroup(traffic, labels, !measure);
  const weight = (g: Group) =>
    g.modelVersion === ALL && g.sliceKey === ALL ? Infinity : g.sliceKey === ALL ? 1e9 + g.current.length : g.current.length + g.baseline.length;
  return [...groups.values()]
    .sort((a, b) => weight(b) - weight(a) || a.sliceKey.localeCompare(b.sliceKey) || a.sliceValue.localeCompare(b.sliceValue))
    .slice(0, MAX_ROWS)
    .map((g) => ({
      modelVersion: g.modelVersion,
      sliceKey: g.sliceKey,
      sliceValue: g.sliceValue,
      accuracy: weightedProportion(g.current) ?? null,
      baseline: weightedProportion(g.baseline) ?? null,
      calibrationError: expectedCalibrationError(g.current.map((u) => ({ confidence: u.confidence, correct: u.outcome === 1, weight: u.weight }))) ?? null,
      perClass: classFigures(g.current, classes),
      series: [...g.points].sort(([a], [b]) => a.localeCompare(b)).map(([at, units]) => ({ at, accuracy: weightedProportion(units) as Estimate })),
      metrics: measure ? metricsOf(measure, g) : null,
      support: supportOf({
        inclusionProbabilities: g.current.map((u) => u.inclusionProbability),
        predictions: byGroup.get(g.key)?.predictions,
        minExplored: traffic?.minExplored ?? 0,
      }),
      confidenceBased: byGroup.get(g.key)?.confidenceBased ?? null,
    }));
}

/** Slices (over every model version) whose accuracy fell below their baseline by the margin, significantly. */
export function accuracyAlerts(rows: readonly SliceAccuracy[], settings: MonitoringSettings): NewAlert[] {
  const alerts: NewAlert[] = [];
  for (const row of rows) {
    if (row.modelVersion !== ALL || !row.accuracy || !row.baseline) continue;
    if (row.accuracy.n < settings.minLabels || row.baseline.n < settings.minLabels) continue;
    const fall = row.baseline.value - row.accuracy.value;
    const p = fallPValue(row.baseline, row.accuracy);
    if (fall < settings.accuracyMargin || p >= settings.significance) continue;
    const slice = row.sliceKey === ALL ? null : `${row.sliceKey}=${row.sliceValue}`;
    alerts.push({
      kind: 'accuracy',
      subject: `accuracy:${slice ?? ALL}`,
      slice,
      feature: null,
      message: `accuracy ${slice ? `on ${slice}` : 'on all traffic'} fell to ${row.accuracy.value.toFixed(3)} from ${row.baseline.value.toFixed(3)} (p = ${p.toPrecision(2)}, ${row.accuracy.n} labels${row.support.supported ? '' : ', of the routed predictions only: too few explored labels'})`,
      value: row.accuracy.value,
      baseline: row.baseline.value,
      threshold: row.baseline.value - settings.accuracyMargin,
      details: { pValue: p, labels: row.accuracy.n, baselineLabels: row.baseline.n, supported: row.support.supported },
    });
  }
  return alerts;
}

const METRIC_NAMES: Record<KindMetrics['headline']['metric'], string> = {
  micro_f1: 'micro F1',
  mae: 'MAE',
  within_one_accuracy: 'within-one accuracy',
  span_f1: 'span F1',
  exact_accuracy: 'exact-match accuracy',
  ndcg: 'NDCG@k',
};

/** How far the current figure is past its baseline, and where the alert line is: a fall by the margin, or an MAE rise by a share of its baseline. */
function worsening(metric: KindMetrics['headline']['metric'], baseline: MetricEstimate, current: MetricEstimate, settings: MonitoringSettings) {
  if (metric === 'mae') {
    const threshold = baseline.value * (1 + settings.maeRise);
    return { past: current.value > baseline.value && current.value >= threshold, threshold };
  }
  return { past: baseline.value - current.value >= settings.accuracyMargin, threshold: baseline.value - settings.accuracyMargin };
}

/**
 * Slices (over every model version) whose routing question's headline figure got worse than
 * its baseline by the margin, significantly (z on the two standard errors): the accuracy alert
 * of a question that is not a label one, under the same subject scheme (`<metric>:<slice>`).
 */
export function headlineAlerts(rows: readonly SliceAccuracy[], settings: MonitoringSettings): NewAlert[] {
  const alerts: NewAlert[] = [];
  for (const row of rows) {
    const headline = row.metrics?.headline;
    if (row.modelVersion !== ALL || !headline?.value || !headline.baseline) continue;
    const { value: current, baseline, metric } = headline;
    if (current.n < settings.minLabels || baseline.n < settings.minLabels) continue;
    const { past, threshold } = worsening(metric, baseline, current, settings);
    const p = worsePValue(baseline, current, headline.better);
    if (!past || p >= settings.significance) continue;
    const slice = row.sliceKey === ALL ? null : `${row.sliceKey}=${row.sliceValue}`;
    alerts.push({
      kind: 'accuracy',
      subject: `${metric}:${slice ?? ALL}`,
      slice,
      feature: null,
      message: `${METRIC_NAMES[metric]} ${slice ? `on ${slice}` : 'on all traffic'} ${headline.better === 'lower' ? 'rose' : 'fell'} to ${current.value.toFixed(3)} from ${baseline.value.toFixed(3)} (p = ${p.toPrecision(2)}, ${current.n} labels)`,
      value: current.value,
      baseline: baseline.value,
      threshold,
      details: { metric, pValue: p, labels: current.n, baselineLabels: baseline.n },
    });
  }
  return alerts;
}

interface FeatureDistance {
  value: number;
  count: number;
}

const present = (feature: FeatureSchema, inputs: readonly ObservedInput[]) =>
  inputs.filter((i) => i.input[feature.name] !== undefined && i.input[feature.name] !== null);

/** Measures a set of inputs against one reference; undefined when either side has fewer than `minCount` examples. */
type Measure = (current: readonly ObservedInput[], minCount: number) => FeatureDistance | undefined;

/**
 * A feature's reference distribution, worked out once (the baseline's deciles and histogram, or
 * its value counts), then measured against as many sets of inputs as asked: the window, each
 * chart bucket.
 */
function referenceOf(feature: FeatureSchema, baseline: readonly ObservedInput[]): Measure {
  const base = present(feature, baseline);
  if (isCategorical(feature.type))
    return measureAgainst(
      feature,
      { kind: 'categorical', frequencies: frequencies(base.flatMap((i) => categoricalValues(i.input[feature.name]))) },
      base.length,
    );
  const baseValues = base.flatMap((i) => numericValues(i.input[feature.name]));
  const edges = quantileEdges(baseValues);
  return measureAgainst(feature, { kind: 'numeric', edges, counts: histogram(baseValues, edges) }, base.length);
}

/**
 * The reference window's hourly rollups, per feature: its statistics over the window and how
 * many of the window's inputs had it. A project with retention measures drift against them, so
 * that the figure is the same before and after the window's raw rows go.
 */
export type RolledStatistics =
  | { kind: 'numeric'; edges: readonly number[]; counts: number[] }
  /** `total`: of every value, when `frequencies` holds only the most frequent */
  | { kind: 'categorical'; frequencies: Map<string, number>; total?: number };

// a rolled-up categorical reference keeps this many of its most frequent values (a text or an id has a value per input)
const MAX_REFERENCE_VALUES = 1_000;

export type RolledReference = ReadonlyMap<string, { statistics: RolledStatistics; present: number }>;

export interface RolledInputs {
  /** every slice's reference, and each slice value's (`key=value`) */
  overall: RolledReference;
  slice(slice: string): RolledReference;
}

/**
 * The rollups' features summed over their hours: a numeric feature's bins over its edges, a
 * categorical one's value counts (the values beyond each hour's 100 most frequent left out, and
 * those beyond the window's 1,000 most frequent counted only in its total).
 */
export function rolledInputs(
  hours: ReadonlyArray<{ slice: Record<string, string>; features: Record<string, RolledFeature> }>,
  edges: ReadonlyMap<string, readonly number[]>,
): RolledInputs {
  const sum = (rows: typeof hours): RolledReference => {
    const table = new Map<string, { statistics: RolledStatistics; present: number }>();
    for (const row of rows)
      for (const name in row.features) {
        const f = row.features[name];
        const bins = 'bins' in f ? f.bins : undefined;
        const featureEdges = edges.get(name);
        if (bins && !featureEdges) continue;
        let entry = table.get(name);
        if (!entry) {
          entry = {
            statistics: bins
              ? { kind: 'numeric', edges: featureEdges!, counts: new Array<number>(featureEdges!.length + 1).fill(0) }
              : { kind: 'categorical', frequencies: new Map() },
            present: 0,
          };
          table.set(name, entry);
        }
        entry.present += f.present;
        const statistics = entry.statistics;
        if (bins && statistics.kind === 'numeric') for (const bin in bins) statistics.counts[Number(bin)] += bins[bin];
        else if ('values' in f && statistics.kind === 'categorical')
          for (const value in f.values) statistics.frequencies.set(value, (statistics.frequencies.get(value) ?? 0) + f.values[value]);
      }
    for (const { statistics } of table.values()) {
      if (statistics.kind !== 'categorical' || statistics.frequencies.size <= MAX_REFERENCE_VALUES) continue;
      const ranked = [...statistics.frequencies].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      statistics.total = ranked.reduce((total, [, n]) => total + n, 0);
      statistics.frequencies = new Map(ranked.slice(0, MAX_REFERENCE_VALUES));
    }
    return table;
  };
  // each slice value summed once, however many features ask for it
  const slices = new Map<string, RolledReference>();
  return {
    overall: sum(hours),
    slice: (slice) => {
      let reference = slices.get(slice);
      if (!reference) slices.set(slice, (reference = sum(hours.filter(inSliceOf(slice, (h) => h.slice)))));
      return reference;
    },
  };
}

export type RolledFeature = { present: number; bins: Record<string, number> } | { present: number; values: Record<string, number>; other: number };

/** A feature's rolled-up reference; undefined while it holds fewer than `minCount` inputs. */
function rolledReference(feature: FeatureSchema, reference: RolledReference): Measure {
  const entry = reference.get(feature.name);
  return entry ? measureAgainst(feature, entry.statistics, entry.present) : () => undefined;
}

/** The distance of the inputs measured from a reference's statistics (of `referenceCount` inputs; both need `minCount`). */
function measureAgainst(feature: FeatureSchema, statistics: RolledStatistics, referenceCount: number): Measure {
  return (current, minCount) => {
    const cur = present(feature, current);
    if (referenceCount < minCount || cur.length < minCount) return undefined;
    if (statistics.kind === 'categorical')
      return {
        value: lInfinity(statistics.frequencies, frequencies(cur.flatMap((i) => categoricalValues(i.input[feature.name]))), statistics.total).distance,
        count: cur.length,
      };
    return {
      value: jensenShannon(
        statistics.counts,
        histogram(
          cur.flatMap((i) => numericValues(i.input[feature.name])),
          statistics.edges,
        ),
      ),
      count: cur.length,
    };
  };
}

/** A feature's uploaded statistics (e.g. of the training data) as the reference; only the inputs measured need `minCount`. */
function uploadedReference(feature: FeatureSchema, baseline: BaselineFeature): Measure {
  const statistics: RolledStatistics =
    baseline.kind === 'categorical' ? { kind: 'categorical', frequencies: new Map(Object.entries(baseline.frequencies)) } : baseline;
  return measureAgainst(feature, statistics, Number.POSITIVE_INFINITY);
}

function inSliceOf<T>(slice: string, sliceOf: (item: T) => Record<string, string> | undefined): (item: T) => boolean {
  const at = slice.indexOf('=');
  const key = slice.slice(0, at);
  const value = slice.slice(at + 1);
  return (item) => sliceOf(item)?.[key] === value;
}

/** A schema's comparators for drift or skew, with the statistics types their measures take the inputs' values in. */
export interface Comparators {
  byFeature: ReadonlyMap<string, ComparatorLike>;
  declared: ReadonlyMap<string, StatisticsFeatureType>;
}

/** The metric and threshold a feature is judged by: its comparator's when the schema has one, else the project's settings. */
function judgedBy(feature: FeatureSchema, settings: MonitoringSettings, comparators: Comparators | undefined) {
  const categorical = isCategorical(feature.type);
  const comparator = comparators?.byFeature.get(feature.name);
  const charted = comparator && chartedComparator(comparator, categorical);
  if (charted) return { categorical, metric: charted.metric, threshold: charted.threshold, source: charted.source, comparator: 'schema' as const };
  const { drift } = settings;
  return {
    categorical,
    metric: categorical ? ('l_infinity' as const) : ('jensen_shannon' as const),
    threshold: drift.features[feature.name] ?? (categorical ? drift.categoricalThreshold : drift.numericThreshold),
    source: undefined,
    comparator: 'settings' as const,
  };
}

/** The measure of a set of inputs against a reference window's raw inputs: by the feature's comparator (TFDV's statistics) or Backflow's bins. */
function windowReference(
  feature: FeatureSchema,
  reference: readonly ObservedInput[],
  judged: ReturnType<typeof judgedBy>,
  comparators: Comparators | undefined,
): Measure {
  if (judged.comparator === 'settings' || !comparators) return referenceOf(feature, reference);
  const base = present(feature, reference);
  const statistics = featureStatistics(reference, comparators.declared, feature.name);
  const measure = comparatorMeasure(feature.name, comparators.declared, judged, statistics, 'drift');
  return (current, minCount) => (base.length < minCount ? undefined : measure(current, minCount));
}

/** The current window's inputs by slice value (with the reference window's of the same value) and by chart bucket, partitioned once. */
export interface Partitions {
  slices: Array<{ slice: string; baseline: ObservedInput[]; current: ObservedInput[] }>;
  buckets: Array<[string, ObservedInput[]]>;
}

export function partitionsOf(
  current: readonly ObservedInput[],
  baseline: readonly ObservedInput[],
  windows: Windows,
  sliceKeys: readonly string[] | undefined,
): Partitions {
  const bySlice = (inputs: readonly ObservedInput[]) => {
    const out = new Map<string, ObservedInput[]>();
    for (const i of inputs)
      for (const [k, v] of Object.entries(i.slice ?? {})) {
        if (sliceKeys && !sliceKeys.includes(k)) continue;
        const key = `${k}=${v}`;
        const list = out.get(key);
        if (list) list.push(i);
        else out.set(key, [i]);
      }
    return out;
  };
  const now = bySlice(current);
  const before = bySlice(baseline);
  return {
    slices: [...now.keys()].sort().map((slice) => ({ slice, baseline: before.get(slice) ?? [], current: now.get(slice)! })),
    buckets: [...groupBy(current, (i) => bucketOf(i.occurredAt, windows.bucket))].sort(([a], [b]) => a.localeCompare(b)),
  };
}

/**
 * Drift of each schema feature, current window against the reference window (TFDV's drift: one
 * span against the one before): by the feature's drift_comparator in an uploaded schema.pbtxt,
 * measured on each side's statistics by TFDV's definitions; else by the project's thresholds,
 * Jensen-Shannon divergence over the reference's deciles for numbers, L-infinity over shares for
 * categories. Overall, within each slice value, and per chart bucket of the current window. A
 * project with retention measures against the reference window's hourly rollups (`rolled`), with
 * Backflow's bins whatever the comparator: the figure stays the same once the raw rows are gone.
 */
export function driftOf(
  schema: Schema,
  baseline: readonly ObservedInput[],
  current: readonly ObservedInput[],
  windows: Windows,
  settings: MonitoringSettings,
  rolled?: RolledInputs,
  comparators?: Comparators,
  partitions = partitionsOf(current, baseline, windows, settings.drift.sliceKeys),
): { features: FeatureDrift[]; alerts: NewAlert[] } {
  const { drift } = settings;
  const features: FeatureDrift[] = [];
  const alerts: NewAlert[] = [];
  for (const feature of schema.features) {
    // rollups hold Backflow's bins, not statistics: a retention project's drift is judged by its settings
    const judged = judgedBy(feature, settings, rolled ? undefined : comparators);
    const against = rolled ? rolledReference(feature, rolled.overall) : windowReference(feature, baseline, judged, comparators);
    const { figure, past, overall, perSlice } = distanceFigures(feature, judged, current, against, partitions, drift.minCount, (s) =>
      rolled ? rolledReference(feature, rolled.slice(s.slice)) : windowReference(feature, s.baseline, judged, comparators),
    );
    features.push({ ...figure, drifted: past, baseline: 'reference_window' });
    alerts.push(...distanceAlerts('drift', feature.name, judged, overall, perSlice));
  }
  return { features, alerts };
}

/**
 * A feature's distance from its reference: overall, within each slice value (by the slice's own
 * reference, `sliceMeasure`), per chart bucket of the current window; and whether it is past the
 * threshold overall or in any slice.
 */
function distanceFigures(
  feature: FeatureSchema,
  judged: ReturnType<typeof judgedBy>,
  current: readonly ObservedInput[],
  against: Measure,
  { slices, buckets }: Partitions,
  minCount: number,
  sliceMeasure: (slice: Partitions['slices'][number]) => Measure,
) {
  const overall = against(current, minCount);
  const perSlice = slices.flatMap((s) => {
    const d = sliceMeasure(s)(s.current, minCount);
    return d ? [{ slice: s.slice, ...d }] : [];
  });
  perSlice.sort((a, b) => b.value - a.value);
  const figure = {
    feature: feature.name,
    kind: judged.categorical ? ('categorical' as const) : ('numeric' as const),
    metric: judged.metric,
    threshold: judged.threshold,
    value: overall?.value ?? null,
    comparator: judged.comparator,
    series: buckets.flatMap(([at, inputs]) => {
      const d = against(inputs, MIN_POINT_COUNT);
      return d ? [{ at, value: d.value, count: d.count }] : [];
    }),
    slices: perSlice,
  };
  return { figure, overall, perSlice, past: (overall?.value ?? 0) > judged.threshold || perSlice.some((s) => s.value > judged.threshold) };
}

/** What serving is measured against for distribution skew: the training statistics as TFDV wrote them, or as JSON. */
export interface TrainingReference {
  /** the uploaded DatasetFeatureStatistics' features, by name */
  statistics: ReadonlyMap<string, FeatureStatisticsLike>;
  /** every feature's baseline (bins or value counts), from JSON or from those statistics */
  baselines: Readonly<Record<string, BaselineFeature>>;
}

/**
 * Distribution skew (TFDV's training–serving skew of distributions): each feature with training
 * statistics, the current window against them — overall, within each slice value, per chart
 * bucket — by the feature's skew_comparator in an uploaded schema.pbtxt (TFDV's measure of the
 * training statistics, the treatment, against the window's), else by the drift thresholds over the
 * training statistics' bins.
 */
export function skewOf(
  schema: Schema,
  current: readonly ObservedInput[],
  windows: Windows,
  settings: MonitoringSettings,
  training: TrainingReference,
  comparators?: Comparators,
  partitions = partitionsOf(current, [], windows, settings.drift.sliceKeys),
): { features: DistributionSkew[]; alerts: NewAlert[] } {
  const { drift } = settings;
  const features: DistributionSkew[] = [];
  const alerts: NewAlert[] = [];
  for (const feature of schema.features) {
    const statistics = training.statistics.get(feature.name);
    const baseline = Object.hasOwn(training.baselines, feature.name) ? training.baselines[feature.name] : undefined;
    let judged = judgedBy(feature, settings, comparators);
    let against: Measure;
    if (judged.comparator === 'schema' && statistics && comparators)
      against = comparatorMeasure(feature.name, comparators.declared, judged, statistics, 'skew');
    else if (baseline) {
      judged = judgedBy(feature, settings, undefined);
      against = uploadedReference(feature, baseline);
    } else continue;
    const { figure, past, overall, perSlice } = distanceFigures(feature, judged, current, against, partitions, drift.minCount, () => against);
    features.push({ ...figure, skewed: past });
    alerts.push(...distanceAlerts('skew', feature.name, judged, overall, perSlice));
  }
  return { features, alerts };
}

const METRIC_TEXT = { l_infinity: 'L-infinity distance', jensen_shannon: 'Jensen-Shannon divergence' } as const;
const ANOMALY_TYPE = { l_infinity: 'COMPARATOR_L_INFTY_HIGH', jensen_shannon: 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH' } as const;

/** The alerts of a feature's drift (or distribution skew) past its threshold: overall, and within each slice value. */
function distanceAlerts(
  kind: 'drift' | 'skew',
  feature: string,
  judged: { metric: 'l_infinity' | 'jensen_shannon'; threshold: number; comparator: 'schema' | 'settings' },
  overall: { value: number; count: number } | undefined,
  perSlice: ReadonlyArray<{ slice: string; value: number; count: number }>,
): NewAlert[] {
  const { metric, threshold } = judged;
  const name = METRIC_TEXT[metric];
  const subject = kind === 'drift' ? `drift:${feature}` : `skew:distribution:${feature}`;
  const what = kind === 'drift' ? 'drifted' : 'is skewed from training';
  const details = (count: number) => ({
    metric,
    count,
    anomalyType: ANOMALY_TYPE[metric],
    comparator: judged.comparator,
    ...(kind === 'skew' && { skew: 'distribution' }),
  });
  const alerts: NewAlert[] = [];
  if (overall && overall.value > threshold) {
    alerts.push({
      kind,
      subject,
      slice: null,
      feature,
      message: `${feature} ${what}: ${name} ${overall.value.toFixed(3)} > ${threshold}`,
      value: overall.value,
      baseline: null,
      threshold,
      details: details(overall.count),
    });
  }
  for (const s of perSlice.filter((s) => s.value > threshold)) {
    alerts.push({
      kind,
      subject: `${subject}:${s.slice}`,
      slice: s.slice,
      feature,
      message: `${feature} ${what} on ${s.slice}: ${name} ${s.value.toFixed(3)} > ${threshold}`,
      value: s.value,
      baseline: null,
      threshold,
      details: details(s.count),
    });
  }
  return alerts;
}

/** TFDV's names for what an example's check finds (a missing required feature: its presence below min_fraction 1). */
const ANOMALY_TYPES: Record<AnomalyKind, TfdvAnomalyType> = {
  missing: 'FEATURE_TYPE_LOW_FRACTION_PRESENT',
  wrong_type: 'UNEXPECTED_DATA_TYPE',
  new_category: 'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
};

const ANOMALY_FIELDS: Record<AnomalyKind, 'missing' | 'wrongType' | 'newCategory'> = {
  missing: 'missing',
  wrong_type: 'wrongType',
  new_category: 'newCategory',
};

/** Predictions that break the schema, counted per feature and kind (TFDV's ExampleValidator); they are kept all the same. */
export function anomaliesIn(schema: Schema, inputs: readonly ObservedInput[], settings: MonitoringSettings) {
  const counts = new Map<string, { feature: string; missing: number; wrongType: number; newCategory: number }>();
  for (const i of inputs) {
    for (const a of anomaliesOf(i.input, schema)) {
      let c = counts.get(a.feature);
      if (!c) counts.set(a.feature, (c = { feature: a.feature, missing: 0, wrongType: 0, newCategory: 0 }));
      c[ANOMALY_FIELDS[a.kind]]++;
    }
  }
  const features = [...counts.values()].sort((a, b) => a.feature.localeCompare(b.feature));
  const alerts: NewAlert[] = [];
  for (const c of features) {
    for (const [kind, field] of Object.entries(ANOMALY_FIELDS) as Array<[AnomalyKind, 'missing' | 'wrongType' | 'newCategory']>) {
      const share = inputs.length ? c[field] / inputs.length : 0;
      if (c[field] < 5 || share <= settings.anomalyRate) continue;
      alerts.push({
        kind: 'anomaly',
        subject: `anomaly:${c.feature}:${kind}`,
        slice: null,
        feature: c.feature,
        message: `${c.feature}: ${kind.replace('_', ' ')} in ${c[field]} of the last ${inputs.length} predictions (${(share * 100).toFixed(1)}%)`,
        value: share,
        baseline: null,
        threshold: settings.anomalyRate,
        details: { kind, count: c[field], examined: inputs.length, anomalyType: ANOMALY_TYPES[kind] },
      });
    }
  }
  return { examined: inputs.length, features, alerts };
}

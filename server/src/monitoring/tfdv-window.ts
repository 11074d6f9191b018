import {
  comparatorThresholds,
  comparatorValue,
  DatasetStatisticsBuilder,
  defaultDataset,
  featureName,
  serializedPath,
  validateStatistics,
  type AnomaliesObject,
  type ComparatorLike,
  type ComparatorMetric,
  type DatasetFeatureStatisticsObject,
  type DatasetStatisticsLike,
  type FeatureStatisticsLike,
  type FeatureType,
  type Schema,
  type SchemaFeatureLike,
  type SchemaLike,
  type StatisticsFeatureType,
} from '@backflow/drift';
import type { TfdvAnomalyType, TfdvFeatureAnomaly } from '@backflow/contracts';
import type { NewAlert, ObservedInput } from './monitoring.repository';

/*
 * The serving window as TFDV sees it: the statistics StatisticsGen would compute from the window's
 * requests logged as tf.Examples, validated as `tfdv.validate_statistics` does against the schema
 * (the uploaded schema.pbtxt in its SERVING environment, else one made from the monitoring schema),
 * the drift comparators against the reference window's statistics and the skew comparators with the
 * training statistics as treatment. Schema checks that fail are schema skew.
 */

export type StatisticsObject = Omit<DatasetFeatureStatisticsObject, 'approximate'>;

const MONITORING_TYPES: Record<FeatureType, StatisticsFeatureType> = {
  int: 'INT',
  int_list: 'INT',
  bool: 'INT',
  bool_list: 'INT',
  float: 'FLOAT',
  float_list: 'FLOAT',
  string: 'STRING',
  string_list: 'STRING',
};
const TFDV_TYPES: Record<string, StatisticsFeatureType> = { INT: 'INT', FLOAT: 'FLOAT', BYTES: 'STRING' };

/** A value's items as a tf.Example feature would list them; undefined when the example does not have it. */
function itemsOf(value: unknown): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? (value as unknown[]).filter((v) => v !== null && v !== undefined) : [value];
}

const isInt = (v: unknown) => typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint';
const isNumber = (v: unknown) => typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint';
const fits = (type: StatisticsFeatureType, v: unknown) => (type === 'INT' ? isInt(v) : type === 'FLOAT' ? isNumber(v) : true);
// an integer past 2^53 reads back from JSONB as a bigint, inside an object too
const asText = (v: unknown) =>
  typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
const asNumber = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'bigint' ? v : (v as number));

/**
 * The type a feature's statistics are of: the schema's when every value of the inputs fits it (a
 * model server's signature types its inputs: 3 in a FLOAT feature is 3.0), else what the values
 * are (INT, then FLOAT, then STRING) — a string in a FLOAT feature makes STRING statistics, and
 * TFDV then reports UNEXPECTED_DATA_TYPE, as it would for such requests.
 */
function statisticsType(name: string, inputs: readonly ObservedInput[], declared: StatisticsFeatureType | undefined): StatisticsFeatureType {
  let int = true;
  let number = true;
  let fitsDeclared = true;
  for (const i of inputs) {
    const items = itemsOf(i.input[name]);
    if (!items) continue;
    for (const v of items) {
      if (int && !isInt(v)) int = false;
      if (number && !isNumber(v)) number = false;
      if (declared && fitsDeclared && !fits(declared, v)) fitsDeclared = false;
    }
  }
  if (declared && fitsDeclared) return declared;
  return int ? 'INT' : number ? 'FLOAT' : 'STRING';
}

/** The declared statistics type of each feature: the uploaded schema's, else the monitoring schema's. */
export function declaredTypes(schema: Schema, tfdv: SchemaLike | undefined): Map<string, StatisticsFeatureType> {
  const types = new Map<string, StatisticsFeatureType>();
  for (const f of schema.features) types.set(f.name, MONITORING_TYPES[f.type]);
  for (const f of tfdv?.feature ?? []) {
    const type = TFDV_TYPES[f.type ?? ''];
    if (f.name && type) types.set(f.name, type);
  }
  return types;
}

/** The statistics of a set of inputs over the named features (every feature they hold when none are named). */
export function statisticsOf(
  inputs: readonly ObservedInput[],
  declared: ReadonlyMap<string, StatisticsFeatureType>,
  names?: readonly string[],
  name?: string,
): StatisticsObject {
  const features = names ?? [...new Set(inputs.flatMap((i) => Object.keys(i.input)))].sort();
  const layout = features.map((feature) => ({ name: feature, type: statisticsType(feature, inputs, declared.get(feature)) }));
  const builder = new DatasetStatisticsBuilder(layout);
  const values = new Array<Array<number | bigint | string> | undefined>(layout.length);
  for (const i of inputs) {
    for (let f = 0; f < layout.length; f++) {
      const items = itemsOf(i.input[layout[f].name]);
      values[f] = items && (layout[f].type === 'STRING' ? items.map(asText) : items.map(asNumber));
    }
    builder.add(values);
  }
  const { approximate: _approximate, ...dataset } = builder.result();
  // a feature no input holds is left out, as a tf.Example without it
  return { ...dataset, ...(name && { name }), features: dataset.features.filter((f) => (commonOf(f).num_non_missing ?? 0) > 0) };
}

const commonOf = (f: StatisticsObject['features'][number]) => f.num_stats?.common_stats ?? f.string_stats?.common_stats ?? {};

// one feature's statistics of a set of inputs, worked out once: drift and skew chart the same subsets
const memo = new WeakMap<readonly ObservedInput[], Map<string, StatisticsObject['features'][number] | undefined>>();

/** One feature's statistics of a set of inputs (undefined when none holds it), remembered for as long as the set lives. */
export function featureStatistics(
  inputs: readonly ObservedInput[],
  declared: ReadonlyMap<string, StatisticsFeatureType>,
  name: string,
): StatisticsObject['features'][number] | undefined {
  let byName = memo.get(inputs);
  if (!byName) memo.set(inputs, (byName = new Map<string, StatisticsObject['features'][number] | undefined>()));
  if (!byName.has(name)) byName.set(name, statisticsOf(inputs, declared, [name]).features[0]);
  return byName.get(name);
}

/** The monitoring schema as a tensorflow_metadata Schema: a project without an uploaded schema.pbtxt is validated against it. */
export function tfdvSchemaOf(schema: Schema): SchemaLike {
  return {
    feature: schema.features.map((f): SchemaFeatureLike => {
      const type = MONITORING_TYPES[f.type];
      return {
        name: f.name,
        type: type === 'STRING' ? 'BYTES' : type,
        presence: f.required ? { min_fraction: 1, min_count: 1 } : { min_count: 0 },
        ...(!f.type.endsWith('_list') && { value_count: { min: 1, max: 1 } }),
        ...(f.domain && type === 'STRING' && { string_domain: { value: f.domain } }),
      };
    }),
  };
}

/** The environment serving is validated in: SERVING when the schema has environments (TFX's convention), else none. */
export function servingEnvironment(schema: SchemaLike | undefined): string | undefined {
  if (!schema) return undefined;
  const named = schema.default_environment?.length || (schema.feature ?? []).some((f) => f.in_environment?.length || f.not_in_environment?.length);
  return named ? 'SERVING' : undefined;
}

/** The training statistics: the dataset kept of an uploaded DatasetFeatureStatisticsList (its unsliced one). */
export function trainingDataset(statistics: Record<string, unknown> | undefined): DatasetStatisticsLike | undefined {
  if (!statistics) return undefined;
  return Array.isArray(statistics.datasets) ? defaultDataset<DatasetStatisticsLike>(statistics.datasets) : statistics;
}

export function comparatorsOf(schema: SchemaLike | undefined, which: 'drift_comparator' | 'skew_comparator'): Map<string, ComparatorLike> {
  const comparators = new Map<string, ComparatorLike>();
  for (const f of schema?.feature ?? []) if (f.name && f[which] && comparatorThresholds(f[which]).length) comparators.set(f.name, f[which]);
  return comparators;
}

/** The one metric a feature's comparator is charted by: L-infinity for a string when it has that threshold, else its Jensen–Shannon threshold. */
export function chartedComparator(
  comparator: ComparatorLike,
  categorical: boolean,
): { metric: ComparatorMetric; threshold: number; source?: string } | undefined {
  const thresholds = comparatorThresholds(comparator);
  return (
    (categorical ? thresholds.find((t) => t.metric === 'l_infinity') : undefined) ?? thresholds.find((t) => t.metric === 'jensen_shannon') ?? thresholds[0]
  );
}

/**
 * A comparator's measure of a set of inputs against a reference feature's statistics (TFDV's
 * definitions on the statistics of both sides): for drift the inputs are the treatment and the
 * reference the control; for skew the training statistics are the treatment.
 */
export function comparatorMeasure(
  name: string,
  declared: ReadonlyMap<string, StatisticsFeatureType>,
  charted: { metric: ComparatorMetric; source?: string },
  reference: FeatureStatisticsLike | undefined,
  orientation: 'drift' | 'skew',
): (inputs: readonly ObservedInput[], minCount: number) => { value: number; count: number } | undefined {
  return (inputs, minCount) => {
    if (!reference) return undefined;
    const stats = featureStatistics(inputs, declared, name);
    const count = stats ? (commonOf(stats).num_non_missing ?? 0) : 0;
    if (!stats || count < minCount) return undefined;
    const [treatment, control] = orientation === 'drift' ? [stats, reference] : [reference, stats];
    const measured = comparatorValue(charted.metric, treatment, control, charted.source);
    return measured && { value: measured.value, count };
  };
}

/** The anomaly types TFDV's schema checks give (the rest are its comparators'). */
const COMPARATOR_TYPES = new Set<TfdvAnomalyType>(['COMPARATOR_CONTROL_DATA_MISSING', 'COMPARATOR_L_INFTY_HIGH', 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH']);
/** The feature an anomaly is of: its path's one step (the key is the serialized path). */
const nameOf = (info: { path: { step: string[] } }) => (info.path.step.length === 1 ? info.path.step[0] : serializedPath(info.path.step));

export const isSchemaCheck = (type: string) => !COMPARATOR_TYPES.has(type as TfdvAnomalyType);

// the slice values whose own statistics are validated (the most frequent first)
const MAX_SLICES = 50;

export interface WindowValidation {
  anomalies: AnomaliesObject;
  statistics: StatisticsObject;
  features: TfdvFeatureAnomaly[];
}

/**
 * The window validated: its statistics against the schema, the drift comparators against the
 * reference window's statistics (when its raw inputs are there) and the skew comparators with the
 * training statistics; per feature its anomaly types, and the slice values whose own statistics
 * fail the same schema checks.
 */
export function validateWindow(
  current: readonly ObservedInput[],
  reference: readonly ObservedInput[] | undefined,
  schema: SchemaLike,
  declared: ReadonlyMap<string, StatisticsFeatureType>,
  options: { training?: DatasetStatisticsLike; environment?: string; sliceKeys?: readonly string[] },
): WindowValidation {
  const statistics = statisticsOf(current, declared, undefined, 'serving');
  const previous = reference?.length ? statisticsOf(reference, declared, undefined, 'reference') : undefined;
  const anomalies = validateStatistics(statistics, schema, { previous, training: options.training, environment: options.environment });
  const schemaOnly: SchemaLike = { ...schema, feature: (schema.feature ?? []).map(({ drift_comparator: _d, skew_comparator: _s, ...f }) => f) };
  const bySlice = new Map<string, Set<string>>();
  const slices = new Map<string, ObservedInput[]>();
  for (const i of current)
    for (const [k, v] of Object.entries(i.slice ?? {})) {
      if (options.sliceKeys && !options.sliceKeys.includes(k)) continue;
      const key = `${k}=${v}`;
      const list = slices.get(key);
      if (list) list.push(i);
      else slices.set(key, [i]);
    }
  if (Object.keys(anomalies.anomaly_info).length)
    for (const [slice, inputs] of [...slices].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_SLICES)) {
      const found = validateStatistics(statisticsOf(inputs, declared), schemaOnly, { environment: options.environment });
      for (const info of Object.values(found.anomaly_info))
        for (const r of info.reason) {
          const key = `${nameOf(info)}\u0000${r.type}`;
          (bySlice.get(key) ?? bySlice.set(key, new Set()).get(key)!).add(slice);
        }
    }
  const features = Object.values(anomalies.anomaly_info)
    .map((info) => [nameOf(info), info] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([feature, info]): TfdvFeatureAnomaly => {
      const types = info.reason.map((r) => r.type);
      const inSlices = new Set(types.filter(isSchemaCheck).flatMap((t) => [...(bySlice.get(`${feature}\u0000${t}`) ?? [])]));
      return { feature, types, shortDescription: info.short_description, description: info.description, slices: [...inSlices].sort() };
    });
  return { anomalies, statistics, features };
}

/**
 * Schema skew: an alert per feature and anomaly type of the schema checks serving fails (the
 * comparators' findings are drift and distribution skew, alerted with their slices).
 */
export function schemaSkewAlerts(validation: WindowValidation, examined: number): NewAlert[] {
  const alerts: NewAlert[] = [];
  for (const info of Object.values(validation.anomalies.anomaly_info))
    for (const reason of info.reason) {
      const feature = nameOf(info);
      if (!isSchemaCheck(reason.type)) continue;
      alerts.push({
        kind: 'skew',
        subject: `skew:schema:${feature}:${reason.type}`,
        slice: null,
        feature,
        message: `${feature}: serving breaks the training schema: ${reason.type} (${reason.short_description}) in the last ${examined} predictions`,
        value: 1,
        baseline: null,
        threshold: 0,
        details: { skew: 'schema', anomalyType: reason.type, description: reason.description, examined },
      });
    }
  return alerts;
}

/** What a reviewer may see of the window's statistics: a masked feature keeps its counts only. */
export function maskedStatistics(statistics: StatisticsObject, masked: ReadonlySet<string>): StatisticsObject {
  if (masked.size === 0) return statistics;
  return {
    ...statistics,
    features: statistics.features.map((f) => {
      if (!masked.has(featureName(f))) return f;
      const common = commonOf(f);
      return {
        path: f.path,
        type: f.type,
        ...(f.string_stats
          ? { string_stats: { common_stats: common, top_values: [], rank_histogram: { buckets: [] } } }
          : { num_stats: { common_stats: common, histograms: [] } }),
      };
    }),
  };
}

/** What a reviewer may see of the anomalies: a masked feature's descriptions (which name its values) become their short ones. */
export function maskedAnomalies(anomalies: AnomaliesObject, masked: ReadonlySet<string>): AnomaliesObject {
  if (masked.size === 0) return anomalies;
  const anomaly_info = Object.fromEntries(
    Object.entries(anomalies.anomaly_info).map(([name, info]) =>
      masked.has(nameOf(info))
        ? [name, { ...info, description: info.short_description, reason: info.reason.map((r) => ({ ...r, description: r.short_description })) }]
        : [name, info],
    ),
  );
  return { ...anomalies, anomaly_info, baseline: maskedSchema(anomalies.baseline, masked) };
}

/** A schema without the masked features' domains (their values, and an int or float domain's bounds). */
export function maskedSchema(schema: SchemaLike, masked: ReadonlySet<string>): SchemaLike {
  if (masked.size === 0) return schema;
  const features = schema.feature ?? [];
  const hidden = new Set(features.filter((f) => masked.has(f.name ?? '') && f.domain !== undefined).map((f) => f.domain));
  return {
    ...schema,
    feature: features.map((f) =>
      masked.has(f.name ?? '') ? { ...f, domain: undefined, string_domain: undefined, int_domain: undefined, float_domain: undefined } : f,
    ),
    ...(schema.string_domain && { string_domain: schema.string_domain.filter((d) => !hidden.has(d.name)) }),
  };
}

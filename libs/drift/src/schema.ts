export type FeatureType = 'int' | 'float' | 'string' | 'bool' | 'int_list' | 'float_list' | 'string_list' | 'bool_list';

export interface FeatureSchema {
  name: string;
  type: FeatureType;
  /** present in every example seen when inferred (TFDV's presence.min_fraction = 1) */
  required: boolean;
  /** the known values of a categorical (string or bool) feature; absent: any value */
  domain?: string[];
}

export interface Schema {
  features: FeatureSchema[];
}

export type AnomalyKind = 'missing' | 'wrong_type' | 'new_category';

export interface Anomaly {
  feature: string;
  kind: AnomalyKind;
}

// a string feature with more distinct values than this is free text, not a category
export const MAX_DOMAIN_SIZE = 100;

type Value = unknown;

function scalarType(value: Value): 'int' | 'float' | 'string' | 'bool' | undefined {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number' && Number.isFinite(value)) return Number.isInteger(value) ? 'int' : 'float';
  return undefined;
}

/** The type of one value as the schema names it; undefined for what no feature can hold. */
export function typeOf(value: Value): FeatureType | undefined {
  if (!Array.isArray(value)) return scalarType(value);
  const types = new Set(value.map(scalarType));
  if (types.has(undefined)) return undefined;
  if (types.size === 0) return 'float_list';
  if (types.size === 2 && types.has('int') && types.has('float')) return 'float_list';
  if (types.size !== 1) return undefined;
  return `${[...types][0]}_list` as FeatureType;
}

/** int widens to float; a list type accepts its element type's widening too. */
function fits(actual: FeatureType, expected: FeatureType): boolean {
  return actual === expected || (actual === 'int' && expected === 'float') || (actual === 'int_list' && expected === 'float_list');
}

function widen(a: FeatureType, b: FeatureType): FeatureType | undefined {
  if (a === b) return a;
  if (fits(a, b)) return b;
  if (fits(b, a)) return a;
  return undefined;
}

/** Categorical values of a feature value (strings and booleans, lists flattened). */
export function categoricalValues(value: Value): string[] {
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => (typeof v === 'string' || typeof v === 'boolean' ? [String(v)] : []));
}

/** Numeric values of a feature value (lists flattened). */
export function numericValues(value: Value): number[] {
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => (typeof v === 'number' && Number.isFinite(v) ? [v] : []));
}

export function isCategorical(type: FeatureType): boolean {
  return type === 'string' || type === 'bool' || type === 'string_list' || type === 'bool_list';
}

/**
 * A schema inferred from examples, as TFDV's infer_schema does: each feature's type (ints
 * widened to floats when both occur), whether every example had it, and the domain of a
 * categorical feature with at most 100 distinct values. A feature whose values disagree in
 * type is left out (it cannot be validated).
 */
export function inferSchema(examples: ReadonlyArray<Readonly<Record<string, Value>>>): Schema {
  const seen = new Map<string, { type: FeatureType | undefined; present: number; values: Set<string> }>();
  for (const example of examples) {
    for (const [name, value] of Object.entries(example)) {
      const type = typeOf(value);
      let feature = seen.get(name);
      if (!feature) seen.set(name, (feature = { type, present: 0, values: new Set() }));
      feature.present++;
      feature.type = feature.type && type ? widen(feature.type, type) : undefined;
      if (feature.values.size <= MAX_DOMAIN_SIZE) for (const v of categoricalValues(value)) feature.values.add(v);
    }
  }
  const features: FeatureSchema[] = [];
  for (const [name, f] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    if (!f.type) continue;
    const domain = isCategorical(f.type) && f.values.size <= MAX_DOMAIN_SIZE ? [...f.values].sort() : undefined;
    features.push({ name, type: f.type, required: f.present === examples.length, ...(domain && { domain }) });
  }
  return { features };
}

/** What is wrong with one example against the schema (TFDV's ExampleValidator kinds). */
export function anomaliesOf(example: Readonly<Record<string, Value>>, schema: Schema): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const feature of schema.features) {
    if (!Object.hasOwn(example, feature.name) || example[feature.name] === null) {
      if (feature.required) anomalies.push({ feature: feature.name, kind: 'missing' });
      continue;
    }
    const value = example[feature.name];
    const type = typeOf(value);
    if (!type || !fits(type, feature.type)) {
      anomalies.push({ feature: feature.name, kind: 'wrong_type' });
      continue;
    }
    if (feature.domain && categoricalValues(value).some((v) => !feature.domain!.includes(v))) anomalies.push({ feature: feature.name, kind: 'new_category' });
  }
  return anomalies;
}

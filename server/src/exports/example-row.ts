import type { ExampleFeatures } from '@backflow/tfrecord';

export type FeatureType = 'int' | 'float' | 'bytes';
export interface FeatureSpec {
  name: string;
  type: FeatureType;
}

/** One exported example as the database gives it. */
export interface ExportRow {
  predictionId: string;
  label: string;
  source: string;
  agreement: number | null;
  weight: number;
  input: Record<string, unknown>;
  modelName: string;
  modelVersion: string;
  bucket: number;
  /** each feature's values by its type, worked out once per row (`valuesOf`) for every writer */
  values?: Array<Array<number | string>>;
}

/** Names every example carries besides the input features; an input feature of the same name is exported as `input_<name>`. */
export const RESERVED = ['label', 'label_name', 'label_source', 'weight', 'prediction_id', 'model_version'] as const;

export const exportedName = (name: string) => ((RESERVED as readonly string[]).includes(name) ? `input_${name}` : name);

function listOf(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function asInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.round(value);
  return undefined;
}

function asFloat(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return undefined;
}

function asBytes(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A feature's values by its declared type; values that do not fit the type are left out. */
export function featureValues(value: unknown, type: FeatureType): Array<number | string> {
  if (!Array.isArray(value)) {
    // the common case, a scalar: no intermediate arrays
    const one = type === 'int' ? asInt(value) : type === 'float' ? asFloat(value) : asBytes(value);
    return one === undefined ? [] : [one];
  }
  const values = listOf(value);
  if (type === 'int') return values.map(asInt).filter((v): v is number => v !== undefined);
  if (type === 'float') return values.map(asFloat).filter((v): v is number => v !== undefined);
  return values.filter((v) => v !== null && v !== undefined).map((v) => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)));
}

/** Each feature's values for a row, in the order of `features`, worked out on first use. */
export function valuesOf(row: ExportRow, features: readonly FeatureSpec[]): Array<Array<number | string>> {
  if (!row.values) row.values = features.map((f) => featureValues(row.input[f.name], f.type));
  return row.values;
}

/** The tf.Example of a row: its features, the label as index and name, its source, weight, prediction id and model version. */
export function toExample(row: ExportRow, features: readonly FeatureSpec[], labels: readonly string[]): ExampleFeatures {
  const example: ExampleFeatures = {
    label: { kind: 'int64', values: [labels.indexOf(row.label)] },
    label_name: { kind: 'bytes', values: [row.label] },
    label_source: { kind: 'bytes', values: [row.source] },
    weight: { kind: 'float', values: [row.weight] },
    prediction_id: { kind: 'bytes', values: [row.predictionId] },
    model_version: { kind: 'bytes', values: [row.modelVersion] },
  };
  const all = valuesOf(row, features);
  for (let i = 0; i < features.length; i++) {
    const feature = features[i];
    const values = all[i];
    if (values.length === 0) continue; // absent: TensorFlow reads a missing feature
    const name = exportedName(feature.name);
    if (feature.type === 'int') example[name] = { kind: 'int64', values: values as number[] };
    else if (feature.type === 'float') example[name] = { kind: 'float', values: values as number[] };
    else example[name] = { kind: 'bytes', values: values as string[] };
  }
  return example;
}

/** The same example as one JSON object (JSONL): features by their exported names, scalars unwrapped. */
export function toJson(row: ExportRow, features: readonly FeatureSpec[], labels: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prediction_id: row.predictionId,
    model_version: row.modelVersion,
    label: labels.indexOf(row.label),
    label_name: row.label,
    label_source: row.source,
    weight: row.weight,
  };
  const all = valuesOf(row, features);
  for (let i = 0; i < features.length; i++) {
    const feature = features[i];
    const values = all[i];
    if (values.length === 0) continue;
    out[exportedName(feature.name)] = Array.isArray(row.input[feature.name]) ? values : values[0];
  }
  return out;
}

/** A TFMD Schema in text format for the exported features (what TFDV and Transform read). */
export function schemaText(features: readonly FeatureSpec[], labels: readonly string[]): string {
  const type = { int: 'INT', float: 'FLOAT', bytes: 'BYTES' } as const;
  const entries: string[] = [
    `feature {\n  name: "label"\n  type: INT\n  int_domain {\n    min: 0\n    max: ${Math.max(0, labels.length - 1)}\n    is_categorical: true\n  }\n  presence {\n    min_fraction: 1.0\n  }\n}`,
    `feature {\n  name: "label_name"\n  type: BYTES\n  presence {\n    min_fraction: 1.0\n  }\n}`,
    `feature {\n  name: "label_source"\n  type: BYTES\n}`,
    `feature {\n  name: "weight"\n  type: FLOAT\n}`,
    `feature {\n  name: "prediction_id"\n  type: BYTES\n}`,
    `feature {\n  name: "model_version"\n  type: BYTES\n}`,
    ...[...features].sort((a, b) => exportedName(a.name).localeCompare(exportedName(b.name))).map((f) => `feature {\n  name: "${exportedName(f.name)}"\n  type: ${type[f.type]}\n}`),
  ];
  return `${entries.join('\n')}\n`;
}

/** The columns of a CSV or Parquet row, in order: the fixed ones, then the features by their exported names. */
export function columnsOf(features: readonly FeatureSpec[]): string[] {
  return ['prediction_id', 'model_version', 'label', 'label_name', 'label_source', 'weight', ...features.map((f) => exportedName(f.name))];
}

/** A CSV record: scalars as they are, a list feature as its JSON text, a missing one empty. */
export function toCsvRecord(row: ExportRow, features: readonly FeatureSpec[], labels: readonly string[]): Array<string | number> {
  const json = toJson(row, features, labels);
  return columnsOf(features).map((column) => {
    const value = json[column];
    if (value === undefined || value === null) return '';
    return Array.isArray(value) ? JSON.stringify(value) : (value as string | number);
  });
}

/** A Parquet row: features as repeated columns (a list, like a tf.Example feature), int64 as bigint. */
export function toParquetRow(row: ExportRow, features: readonly FeatureSpec[], labels: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prediction_id: row.predictionId,
    model_version: row.modelVersion,
    label: BigInt(labels.indexOf(row.label)),
    label_name: row.label,
    label_source: row.source,
    weight: row.weight,
  };
  const all = valuesOf(row, features);
  for (let i = 0; i < features.length; i++) {
    const feature = features[i];
    const values = all[i];
    out[exportedName(feature.name)] = feature.type === 'int' ? values.map((v) => BigInt(v as number)) : values;
  }
  return out;
}


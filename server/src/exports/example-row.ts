import type { ExampleFeatures } from '@backflow/tfrecord';
import type { ColumnLayout } from './fixed-columns';

export type FeatureType = 'int' | 'float' | 'bytes';
export interface FeatureSpec {
  name: string;
  type: FeatureType;
}

/** A value as exported: an int64 as a safe number or a bigint, a float as a double, bytes as text. */
export type ExportValue = number | bigint | string;

/** One exported example as the database gives it. */
export interface ExportRow {
  /** the prediction's id as the caller sent it (its key's text when it sent a lower-case UUID or none) */
  predictionId: string;
  /** the routing question's answer as text */
  label: string;
  /** every question's answer, by name (integers past 2^53 as bigint) */
  answers: Record<string, unknown>;
  source: string;
  agreement: number | null;
  /** for evaluation: the label's own weight over its inclusion probability (Horvitz–Thompson) */
  weight: number;
  /** the probability routing had of sending the prediction to raters (1 for a label no routing chose: feedback, gold) */
  inclusionProbability: number;
  /** integers past 2^53 as bigint (see `parseExactJson`) */
  input: Record<string, unknown>;
  modelName: string;
  modelVersion: string;
  bucket: number;
  /** each feature's values by its type, worked out once per row (`valuesOf`) for every writer */
  values?: ExportValue[][];
  /** the model's output for the question a list or fine-tuning format reads (its suggestion as stored: a ranking's candidates, a generation's responses) */
  output?: Record<string, unknown>;
  /** the row as COPY printed it, when a worker thread reads the rows again (the export's statistics) */
  line?: string;
}

// the types a stored value can be exported as without change, as bits (and, ANDed over a feature's values, the types the feature can be)
export const FITS_INT = 1;
export const FITS_FLOAT = 2;
export const FITS_BYTES = 4;
const FITS_ANY = FITS_INT | FITS_FLOAT | FITS_BYTES;
// no value seen yet: cleared by the first one
export const NO_VALUE = 8;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The types a stored value (not null) fits exactly: a whole number within ±(2^53−1) (or a
 * boolean, as 0/1) fits all three, one past it but within int64 (a bigint) an int, a number with
 * a fraction a float; everything fits bytes (a number as its JSON text, an object as its JSON).
 * The same rules in SQL: `ExportsRepository.itemFeatureFits`.
 */
export function fitsOf(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? FITS_ANY : Number.isFinite(value) ? FITS_FLOAT | FITS_BYTES : FITS_BYTES;
    case 'boolean':
      return FITS_ANY;
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? FITS_INT | FITS_BYTES : FITS_BYTES;
    default:
      return FITS_BYTES;
  }
}

/** The narrowest type of the bits `fitsOf` left over a feature's values (int, then float, then bytes); bytes when it had none. */
export function typeOfFits(fits: number): FeatureType {
  if (fits & NO_VALUE) return 'bytes';
  return fits & FITS_INT ? 'int' : fits & FITS_FLOAT ? 'float' : 'bytes';
}

// JSON.rawJSON (Node 22+) is not in TypeScript's ES2023 lib
const { rawJSON } = JSON as unknown as { rawJSON: (text: string) => unknown };
const bigintAsDigits = (_key: string, value: unknown) => (typeof value === 'bigint' ? rawJSON(value.toString()) : value);

/** JSON text; an integer past 2^53 (a bigint) as its digits. */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // the rare row with a bigint: only then the slower replacer
    if (error instanceof TypeError) return JSON.stringify(value, bigintAsDigits);
    throw error;
  }
}

/** Per feature (in the order of the features): what an export could not write as stored, and what changes in float32. */
export class ValueTally {
  readonly notFitting: number[];
  readonly nullInList: number[];
  readonly float32Inexact: number[];
  notFittingTotal = 0;
  /** the last row `valuesOf` worked out held a bigint */
  rowHasBigInt = false;

  constructor(features: number) {
    this.notFitting = new Array<number>(features).fill(0);
    this.nullInList = new Array<number>(features).fill(0);
    this.float32Inexact = new Array<number>(features).fill(0);
  }
}

/**
 * One stored value as the feature's type, or undefined (counted) when it does not fit it
 * exactly: what `fitsOf` says, written out per type for the hot path (a test holds them equal).
 */
function exportValue(value: unknown, type: FeatureType, tally: ValueTally, i: number): ExportValue | undefined {
  if (type === 'bytes')
    return typeof value === 'string' ? value : typeof value === 'object' ? jsonText(value) : (value as number | boolean | bigint).toString();
  if (typeof value === 'number') {
    if (type === 'int' ? Number.isSafeInteger(value) : Number.isFinite(value)) {
      if (type === 'float' && Math.fround(value) !== value) tally.float32Inexact[i]++;
      return value;
    }
  } else if (typeof value === 'boolean') {
    return value ? 1 : 0;
  } else if (typeof value === 'bigint' && type === 'int' && value >= INT64_MIN && value <= INT64_MAX) {
    tally.rowHasBigInt = true;
    return value;
  } else if (typeof value === 'bigint' && type === 'float' && BigInt(Number(value)) === value) {
    // a large whole double in a declared float feature (1e20, which ingest takes there): the same double
    const double = Number(value);
    if (Math.fround(double) !== double) tally.float32Inexact[i]++;
    return double;
  }
  tally.notFitting[i]++;
  tally.notFittingTotal++;
  return undefined;
}

/**
 * A feature's values by its type. A value that does not fit the type exactly is left out and
 * counted (never rounded); so is a null inside a list (a tf.Example list has no null).
 */
export function featureValues(value: unknown, type: FeatureType, tally: ValueTally, i: number): ExportValue[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    // the common case, a scalar: no intermediate arrays
    const one = exportValue(value, type, tally, i);
    return one === undefined ? [] : [one];
  }
  const values: ExportValue[] = [];
  for (const element of value) {
    if (element === null || element === undefined) {
      tally.nullInList[i]++;
      continue;
    }
    const one = exportValue(element, type, tally, i);
    if (one !== undefined) values.push(one);
  }
  return values;
}

/** Each feature's values for a row, in the order of `features`, worked out on first use (counted in `tally`). */
export function valuesOf(row: ExportRow, features: readonly FeatureSpec[], tally?: ValueTally): ExportValue[][] {
  if (!row.values) {
    const counted = tally ?? new ValueTally(features.length);
    counted.rowHasBigInt = false;
    row.values = features.map((f, i) => featureValues(row.input[f.name], f.type, counted, i));
  }
  return row.values;
}

/**
 * The input features of some rows and the narrowest type each one's every value fits (every
 * element of a list included): a fraction anywhere makes a float, a string or an object (or an
 * integer past int64, or past 2^53 beside a fraction) makes bytes.
 */
export class FeatureInference {
  private readonly fits = new Map<string, number>();

  add(input: Record<string, unknown>): void {
    for (const name in input) {
      let fits = this.fits.get(name) ?? NO_VALUE | FITS_ANY;
      const value = input[name];
      if (Array.isArray(value)) {
        for (const element of value) if (element !== null && element !== undefined) fits &= fitsOf(element);
      } else if (value !== null && value !== undefined) fits &= fitsOf(value);
      this.fits.set(name, fits);
    }
  }

  features(): FeatureSpec[] {
    return typedFeatures(this.fits);
  }
}

/** Features typed by the bits `fitsOf` left over their values, by name (code-unit order, the same on every machine). */
export function typedFeatures(fits: ReadonlyMap<string, number>): FeatureSpec[] {
  return [...fits.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((name) => ({ name, type: typeOfFits(fits.get(name)!) }));
}

/** The tf.Example of a row: the project's columns (an unanswered question's left out), then its features. */
export function toExample(row: ExportRow, features: readonly FeatureSpec[], columns: ColumnLayout): ExampleFeatures {
  const example: ExampleFeatures = {};
  for (const column of columns.list) {
    const values = column.values(row);
    if (values === undefined) continue;
    if (column.type === 'int') example[column.name] = { kind: 'int64', values: values as Array<number | bigint> };
    else if (column.type === 'float') example[column.name] = { kind: 'float', values: values as number[] };
    else example[column.name] = { kind: 'bytes', values: values as string[] };
  }
  const all = valuesOf(row, features);
  for (let i = 0; i < features.length; i++) {
    const feature = features[i];
    const values = all[i];
    if (values.length === 0) continue; // absent: TensorFlow reads a missing feature
    const name = columns.exportedName(feature.name);
    if (feature.type === 'int') example[name] = { kind: 'int64', values: values as Array<number | bigint> };
    else if (feature.type === 'float') example[name] = { kind: 'float', values: values as number[] };
    else example[name] = { kind: 'bytes', values: values as string[] };
  }
  return example;
}

/** The same example as one JSON object (JSONL; write it with `jsonText`): features by their exported names, scalars unwrapped. */
export function toJson(row: ExportRow, features: readonly FeatureSpec[], columns: ColumnLayout): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns.list) {
    const values = column.values(row);
    if (values !== undefined) out[column.name] = column.list ? values : values[0];
  }
  const all = valuesOf(row, features);
  for (let i = 0; i < features.length; i++) {
    const feature = features[i];
    const values = all[i];
    if (values.length === 0) continue;
    out[columns.exportedName(feature.name)] = Array.isArray(row.input[feature.name]) ? values : values[0];
  }
  return out;
}

const SCHEMA_TYPES = { int: 'INT', float: 'FLOAT', bytes: 'BYTES' } as const;

/**
 * A TFMD Schema in text format for the exported features (what TFDV and Transform read), with a
 * comment on each float feature whose values float32 (tf.Example's float_list) changes.
 */
export function schemaText(features: readonly FeatureSpec[], columns: ColumnLayout, float32Inexact: ReadonlyMap<string, number> = new Map()): string {
  const exportedName = (name: string) => columns.exportedName(name);
  const entries: string[] = [
    `# FLOAT features are float32 in TFRecord (tf.Example's float_list); JSONL, CSV and Parquet (DOUBLE) keep the double. manifest.json counts per feature the values float32 changes (float32Inexact).`,
    ...columns.list.map((column) => {
      const domain = column.domain
        ? `\n  int_domain {\n    min: ${column.domain.min}\n    max: ${Math.max(column.domain.min, column.domain.max)}\n    is_categorical: true\n  }`
        : '';
      const presence = column.required ? `\n  presence {\n    min_fraction: 1.0\n  }` : '';
      return `feature {\n  name: "${column.name}"\n  type: ${SCHEMA_TYPES[column.type]}${domain}${presence}\n}`;
    }),
    ...[...features]
      .sort((a, b) => exportedName(a.name).localeCompare(exportedName(b.name)))
      .map((f) => {
        const inexact = float32Inexact.get(f.name) ?? 0;
        const note =
          f.type === 'float' && inexact > 0
            ? `# ${inexact} value${inexact === 1 ? '' : 's'} of "${exportedName(f.name)}" differ in float32 (TFRecord) from the stored double\n`
            : '';
        return `${note}feature {\n  name: "${exportedName(f.name)}"\n  type: ${SCHEMA_TYPES[f.type]}\n}`;
      }),
  ];
  return `${entries.join('\n')}\n`;
}

/** The columns of a CSV or Parquet row, in order: the project's, then the features by their exported names. */
export function columnsOf(features: readonly FeatureSpec[], columns: ColumnLayout): string[] {
  return [...columns.list.map((column) => column.name), ...features.map((f) => columns.exportedName(f.name))];
}

/** A CSV record: scalars as they are (an int64 by its digits), a list (feature or answer) as its JSON text, a missing one empty. */
export function toCsvRecord(row: ExportRow, features: readonly FeatureSpec[], columns: ColumnLayout): Array<string | number> {
  const json = toJson(row, features, columns);
  return columnsOf(features, columns).map((column) => {
    const value = json[column];
    if (value === undefined || value === null) return '';
    if (Array.isArray(value)) return jsonText(value);
    return typeof value === 'bigint' ? value.toString() : (value as string | number);
  });
}

/** A Parquet row: features as repeated columns (a list, like a tf.Example feature), int64 as bigint. */
export function toParquetRow(row: ExportRow, features: readonly FeatureSpec[], columns: ColumnLayout): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns.list) {
    const values = column.values(row);
    if (values === undefined) continue;
    const typed = column.type === 'int' ? values.map((v) => (typeof v === 'bigint' ? v : BigInt(v))) : values;
    out[column.name] = column.list ? typed : typed[0];
  }
  const all = valuesOf(row, features);
  for (let i = 0; i < features.length; i++) {
    const feature = features[i];
    const values = all[i];
    out[columns.exportedName(feature.name)] = feature.type === 'int' ? values.map((v) => (typeof v === 'bigint' ? v : BigInt(v))) : values;
  }
  return out;
}

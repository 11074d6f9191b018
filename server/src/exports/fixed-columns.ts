import type { ExportRow, FeatureType } from './example-row';

/** A column every exported example carries besides its input features. */
export interface FixedColumn {
  name: string;
  type: FeatureType;
  /** the column's one value for a row (the label as its index in the project's labels) */
  value: (row: ExportRow, labels: readonly string[]) => number | string;
  /** the schema says every example has it */
  required?: true;
  /** the schema gives its domain: an index into the project's labels */
  labelIndex?: true;
}

/** The fixed columns, in the order every writer, the schema and the CSV header use. */
export const FIXED_COLUMNS: readonly FixedColumn[] = [
  { name: 'prediction_id', type: 'bytes', value: (row) => row.predictionId },
  { name: 'model_version', type: 'bytes', value: (row) => row.modelVersion },
  { name: 'label', type: 'int', value: (row, labels) => labels.indexOf(row.label), required: true, labelIndex: true },
  { name: 'label_name', type: 'bytes', value: (row) => row.label, required: true },
  { name: 'label_source', type: 'bytes', value: (row) => row.source },
  { name: 'weight', type: 'float', value: (row) => row.weight },
];

export const FIXED_COLUMN_NAMES: ReadonlySet<string> = new Set(FIXED_COLUMNS.map((column) => column.name));

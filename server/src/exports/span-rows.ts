import { parseCopyLine, type ColumnParser } from '../common/database/copy-rows';
import { parseExactJson } from '../common/json/exact-json';
import type { ExportRow } from './example-row';

// the columns of a span's rows query, in order, as COPY prints them (jsonb with its long integers exact)
export const ROW_COLUMNS: ColumnParser[] = [
  String,
  String,
  parseExactJson,
  String,
  Number,
  Number,
  Number,
  parseExactJson,
  String,
  String,
  Number,
  parseExactJson,
];

/** A span's row from its columns' values (as `copyRows` gives them: the COPY line after them when it was kept). */
export function exportRowOf(r: unknown[]): ExportRow {
  return {
    predictionId: r[0] as string,
    label: r[1] as string,
    answers: r[2] as Record<string, unknown>,
    source: r[3] as string,
    agreement: r[4] as number | null,
    weight: r[5] as number,
    inclusionProbability: r[6] as number,
    input: r[7] as Record<string, unknown>,
    modelName: r[8] as string,
    modelVersion: r[9] as string,
    bucket: r[10] as number,
    values: undefined,
    ...(r[11] !== null && { output: r[11] as Record<string, unknown> }),
    ...(r.length > ROW_COLUMNS.length && { line: r[ROW_COLUMNS.length] as string }),
  };
}

/** A span's row from its COPY line (a worker thread reading the rows the export's process read). */
export const parseSpanRow = (line: string): ExportRow => exportRowOf(parseCopyLine(line, ROW_COLUMNS));

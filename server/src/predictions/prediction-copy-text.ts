import type { PredictionRow } from './prediction-validation';
import { utcDay } from '../common/database/time-partitions';

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
// COPY text is handed over in pieces of about this many characters: V8 makes strings over
// 128 KiB in its large-object space, and allocating one costs milliseconds on small VMs
const COPY_CHUNK_CHARS = 32 * 1024;

/** One value in COPY text format (most values need no escaping: test before replacing). */
function copyValue(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : value;
}

/** A JSON document as a COPY value: JSON.stringify already escapes control characters, so only backslashes remain. */
function copyJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** Rows in COPY text format (the `predictions` columns in insert order), as a few buffers of moderate size. */
export function encodeCopyRows(projectId: string, rows: Array<PredictionRow & { uncertainty: number }>): Buffer[] {
  const chunks: Buffer[] = [];
  let text = '';
  for (const r of rows) {
    text += `${projectId}\t${r.id}\t${copyValue(r.modelName)}\t${copyValue(r.modelVersion)}\t${copyJson(r.input)}\t${copyJson(r.scores)}\t${copyValue(
      r.predictedLabel,
    )}\t${r.confidence}\t${copyJson(r.slice)}\t${r.metadata === null ? '\\N' : copyJson(r.metadata)}\t${r.occurredAt.toISOString()}\t${r.uncertainty}\t${r.suggestions === null ? '\\N' : copyJson(r.suggestions)}\t${utcDay(r.occurredAt)}\n`;
    if (text.length >= COPY_CHUNK_CHARS) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text.length) chunks.push(Buffer.from(text));
  return chunks;
}

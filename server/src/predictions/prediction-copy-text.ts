import type { PredictionRow } from './prediction-validation';
import { isoInstant, utcDay } from '../common/database/time-partitions';

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
// COPY text is built in strings of about this many characters, each written into the batch's
// buffer: V8 makes strings over 128 KiB in its large-object space, and allocating one costs
// milliseconds on small VMs
const COPY_CHUNK_CHARS = 32 * 1024;
// buffers kept for the next batches, and the largest kept: a batch's text written into a buffer
// used before needs no fresh pages (faulting in a new megabyte cost more than encoding it)
const POOLED_BUFFERS = 4;
const FIRST_BUFFER_BYTES = 1 << 20;
const MAX_POOLED_BYTES = 16 << 20;
const pool: Buffer[] = [];

/** One value in COPY text format (most values need no escaping: test before replacing). */
function copyValue(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : value;
}

/** A JSON document as a COPY value: JSON.stringify already escapes control characters, so only backslashes remain. */
function copyJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** A batch's COPY text, in a buffer that goes back to the pool with `release` once PostgreSQL has read all of it. */
export interface CopyText {
  bytes: Buffer;
  release(): void;
}

/** Rows in COPY text format (the `predictions` columns in insert order), in one buffer. */
export function encodeCopyRows(projectId: string, rows: Array<PredictionRow & { uncertainty: number }>): CopyText {
  let buffer = pool.pop() ?? Buffer.allocUnsafe(FIRST_BUFFER_BYTES);
  let length = 0;
  const append = (text: string) => {
    // UTF-8 takes at most three bytes per UTF-16 code unit
    if (buffer.length - length < text.length * 3) {
      const larger = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + text.length * 3));
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    length += buffer.write(text, length);
  };
  let text = '';
  for (const r of rows) {
    text += `${projectId}\t${r.id}\t${copyValue(r.modelName)}\t${copyValue(r.modelVersion)}\t${copyJson(r.input)}\t${copyJson(r.scores)}\t${copyValue(
      r.predictedLabel,
    )}\t${r.confidence}\t${copyJson(r.slice)}\t${r.metadata === null ? '\\N' : copyJson(r.metadata)}\t${isoInstant(r.occurredAt)}\t${r.uncertainty}\t${r.suggestions === null ? '\\N' : copyJson(r.suggestions)}\t${utcDay(r.occurredAt)}\t${r.committee == null ? '\\N' : copyJson(r.committee)}\t${r.embedding ? `{${r.embedding.join(',')}}` : '\\N'}\t${r.externalId == null ? '\\N' : copyValue(r.externalId)}\n`;
    if (text.length >= COPY_CHUNK_CHARS) {
      append(text);
      text = '';
    }
  }
  if (text.length) append(text);
  let released = false;
  return {
    bytes: buffer.subarray(0, length),
    release: () => {
      if (released) return;
      released = true;
      if (pool.length < POOLED_BUFFERS && buffer.length <= MAX_POOLED_BYTES) pool.push(buffer);
    },
  };
}

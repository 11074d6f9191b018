import type { RejectedItem } from '@backflow/contracts';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { mayHoldUnderflow, mayHoldUnstorableText, parseKeepingUnderflows } from '../validation/json-hazards';

export type ItemVerdict<T> = { ok: true; row: T } | { ok: false; rejection: Omit<RejectedItem, 'index'> };

export interface Partitioned<T> {
  valid: T[];
  rejected: RejectedItem[];
}

/** Validates every item of a batch, keeping each rejection with its index. */
export function partition<T>(items: unknown[], validate: (raw: unknown) => ItemVerdict<T>): Partitioned<T> {
  const valid: T[] = [];
  const rejected: RejectedItem[] = [];
  items.forEach((raw, index) => {
    const verdict = validate(raw);
    if (verdict.ok) valid.push(verdict.row);
    else rejected.push({ index, ...verdict.rejection });
  });
  return { valid, rejected };
}

/** A parsed line; `valuesChecked` when its text held no escape that can make a NUL or a lone surrogate, and no number that can underflow. */
export type NdjsonLine = { index: number; value: unknown; valuesChecked: boolean } | { index: number; rejection: Omit<RejectedItem, 'index'> };

export class StreamTooLargeError extends Error {}

/** Lines of an NDJSON stream, parsed one at a time (memory does not grow with the stream); blank lines are skipped. */
export async function* readNdjson(stream: Readable, maxBytes: number): AsyncGenerator<NdjsonLine> {
  let bytes = 0;
  let tooLarge = false;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBytes && !tooLarge) {
      tooLarge = true;
      stream.destroy(new StreamTooLargeError());
    }
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let index = 0;
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const underflow = mayHoldUnderflow(line);
        yield { index, value: underflow ? parseKeepingUnderflows(line) : JSON.parse(line), valuesChecked: !underflow && !mayHoldUnstorableText(line) };
      } catch (error) {
        yield { index, rejection: { code: 'http/invalid_json', field: 'line', message: `line: not valid JSON (${(error as Error).message})` } };
      }
      index++;
    }
  } catch (error) {
    if (tooLarge) throw new StreamTooLargeError();
    throw error;
  }
  if (tooLarge) throw new StreamTooLargeError();
}

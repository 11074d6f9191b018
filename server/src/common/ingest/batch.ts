import type { RejectedItem } from '@backflow/contracts';
import { isUtf8 } from 'node:buffer';
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

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The lines of a byte stream as NDJSON has them: split on `\n` alone, a `\r` before it dropped,
 * a byte order mark at the start dropped. (Node's readline also ends a line at U+2028, U+2029
 * and a lone `\r`, which JSON allows inside a string.) Split as bytes, so each line's UTF-8 can
 * be checked before it is decoded; a line longer than a chunk is joined once, when it ends.
 */
async function* linesOf(stream: Readable, maxBytes: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  let pending: Buffer[] = [];
  let first = true;
  const line = (parts: Buffer[]): Buffer => {
    let joined = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (first) {
      first = false;
      if (joined.subarray(0, 3).equals(BYTE_ORDER_MARK)) joined = joined.subarray(3);
    }
    return joined.length && joined[joined.length - 1] === CARRIAGE_RETURN ? joined.subarray(0, -1) : joined;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      stream.destroy();
      throw new StreamTooLargeError();
    }
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      pending.push(chunk.subarray(from, at));
      yield line(pending);
      pending = [];
      from = at + 1;
    }
    if (from < chunk.length) pending.push(chunk.subarray(from));
  }
  if (pending.length) yield line(pending);
}

const isBlank = (text: string) => text.trim() === '';

/** Lines of an NDJSON stream, parsed one at a time (memory does not grow with the stream); blank lines are skipped. */
export async function* readNdjson(stream: Readable, maxBytes: number): AsyncGenerator<NdjsonLine> {
  let index = 0;
  for await (const bytes of linesOf(stream, maxBytes)) {
    // (an invalid sequence would be decoded as U+FFFD and stored as if sent)
    if (!isUtf8(bytes)) {
      yield { index: index++, rejection: { code: 'validation/invalid_text', field: 'line', message: 'line: not valid UTF-8; send text as UTF-8' } };
      continue;
    }
    const line = bytes.toString('utf8');
    if (isBlank(line)) continue;
    try {
      const underflow = mayHoldUnderflow(line);
      yield { index, value: underflow ? parseKeepingUnderflows(line) : JSON.parse(line), valuesChecked: !underflow && !mayHoldUnstorableText(line) };
    } catch (error) {
      yield { index, rejection: { code: 'http/invalid_json', field: 'line', message: `line: not valid JSON (${(error as Error).message})` } };
    }
    index++;
  }
}

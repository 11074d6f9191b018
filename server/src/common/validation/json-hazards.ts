import { MAX_JSON_DEPTH } from '@backflow/contracts';

/** A value PostgreSQL cannot store as sent, or that would overflow a recursive reader: where it is, and why. */
export interface JsonHazard {
  code: 'validation/invalid_text' | 'validation/too_deep' | 'validation/number_underflow' | 'validation/unsafe_integer' | 'unsafe_integer';
  field: string;
  message: string;
}

const BACKSLASH = 0x5c;
const LOWER_U = 0x75;

function hexAt(text: Buffer | string, at: number): number {
  const digits = typeof text === 'string' ? text.slice(at, at + 4) : text.toString('latin1', at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? parseInt(digits, 16) : -1;
}

/**
 * Whether JSON text may hold a NUL or a lone surrogate. Both can only arrive as `\u0000` or
 * `\uD800`–`\uDFFF` escapes (UTF-8 cannot encode either, and JSON forbids a raw NUL in a
 * string), so a body without such an escape needs no per-value check. A high escape followed
 * at once by a low one is a well-formed pair; an escape whose backslash is itself escaped is text.
 */
export function mayHoldUnstorableText(text: Buffer | string): boolean {
  const isBuffer = typeof text !== 'string';
  const byteAt = (i: number) => (isBuffer ? text[i] : text.charCodeAt(i));
  for (let at = text.indexOf('\\u'); at !== -1; at = text.indexOf('\\u', at + 2)) {
    let backslashes = 0;
    while (at - backslashes - 1 >= 0 && byteAt(at - backslashes - 1) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 1) continue;
    const unit = hexAt(text, at + 2);
    if (unit === 0) return true;
    if (unit >= 0xdc00 && unit <= 0xdfff) return true;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = byteAt(at + 6) === BACKSLASH && byteAt(at + 7) === LOWER_U ? hexAt(text, at + 8) : -1;
      if (next < 0xdc00 || next > 0xdfff) return true;
      at += 6;
    }
  }
  return false;
}

// the first seven bytes of each: a needle of seven is searched two to four times faster than the whole key (measured on
// the benchmark's batches), and text holding a key holds its start
const PROTO_START = Buffer.from('__proto');
const CONSTRUCTOR_START = Buffer.from('constru');
const ESCAPE = Buffer.from('\\u');

/**
 * Whether JSON text may hold a key that poisons a prototype (`__proto__`, or `constructor` with
 * a `prototype`), which Fastify's parser refuses. Such a key is spelled out in the text, or
 * hidden behind `\u` escapes; text with neither parses the same with plain `JSON.parse`.
 */
export function mayHoldPrototypeKeys(text: Buffer): boolean {
  return text.includes(PROTO_START) || text.includes(CONSTRUCTOR_START) || text.includes(ESCAPE);
}

/**
 * A JSON number written with a nonzero digit whose value lies below the smallest double
 * (about 4.9e-324): JSON.parse reads it as 0. Put in its place by `parseKeepingUnderflows` so
 * that a check can refuse it by its field instead of storing a zero nobody sent.
 */
export class UnderflowedNumber {
  constructor(readonly source: string) {}
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
// what may follow a number in JSON text: a separator, a closing bracket, whitespace (or the end)
const AFTER_NUMBER = new Set([0x2c, 0x5d, 0x7d, 0x20, 0x09, 0x0a, 0x0d]);
// below 1e-323 a double is 0; a mantissa with two-digit exponent gets there only past ~224 leading zeros
const ZERO_RUN = '0'.repeat(200);

/**
 * Whether JSON text may hold a number that underflows a double: a negative exponent of three
 * digits or more that ends a number (`1e-400`, `5E-0330`), or a run of 200 zeros
 * (`0.000…01`). A UUID's `8e-1234-…` does not end a number. Text with neither reads exactly
 * as written with plain `JSON.parse`, up to a double's rounding.
 */
export function mayHoldUnderflow(text: Buffer | string): boolean {
  const isBuffer = typeof text !== 'string';
  const byteAt = (i: number) => (isBuffer ? text[i] : text.charCodeAt(i));
  const isDigit = (i: number) => byteAt(i) >= DIGIT_0 && byteAt(i) <= DIGIT_9;
  for (const mark of ['e-', 'E-']) {
    for (let at = text.indexOf(mark); at !== -1; at = text.indexOf(mark, at + 2)) {
      if (!isDigit(at - 1)) continue;
      let end = at + 2;
      while (isDigit(end)) end++;
      if (end - at - 2 >= 3 && (end >= text.length || AFTER_NUMBER.has(byteAt(end)))) return true;
    }
  }
  return text.indexOf(ZERO_RUN) !== -1;
}

// a mantissa (the part before any exponent) with a nonzero digit: the number is not 0
const NONZERO_MANTISSA = /^-?[0.]*[1-9]/;

/** A `JSON.parse` reviver that puts an `UnderflowedNumber` where a nonzero number was read as 0. */
export function reviveUnderflows(_key: string, value: unknown, context?: { source?: string }): unknown {
  return value === 0 && context?.source !== undefined && NONZERO_MANTISSA.test(context.source) ? new UnderflowedNumber(context.source) : value;
}

/** JSON text as JavaScript, a number that underflows a double as an `UnderflowedNumber` (for `findJsonHazard` to refuse). */
export function parseKeepingUnderflows(text: string): unknown {
  return JSON.parse(text, reviveUnderflows);
}

/** An integer written in JSON that a double cannot hold (`9007199254740993` reads as …992), kept as written for a check to refuse. */
export class InexactInteger {
  constructor(readonly source: string) {}
}

const INTEGER_SOURCE = /^-?\d+$/;
const SIXTEEN_DIGITS = /\d{16}/;

/** Whether JSON text may hold an integer a double cannot hold: one of 16 digits or more (2^53 has 16). */
export function mayHoldLongInteger(text: Buffer | string): boolean {
  return SIXTEEN_DIGITS.test(typeof text === 'string' ? text : text.toString('latin1'));
}

/** A `JSON.parse` reviver that keeps, as written, a number that underflowed and an integer the double changed. */
export function reviveLostNumbers(key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  if (value === 0) return reviveUnderflows(key, value, context);
  const source = context.source;
  return !Number.isSafeInteger(value) && Number.isInteger(value) && INTEGER_SOURCE.test(source) && BigInt(source) !== BigInt(value)
    ? new InexactInteger(source)
    : value;
}

const UNDERFLOW_MESSAGE =
  'is not 0 but lies below the smallest double (about 4.9e-324), which would keep it as 0; send 0, a larger number, or the value as a string';

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a string holds a NUL or a lone surrogate (neither can be stored in PostgreSQL text or jsonb). */
export function isUnstorableText(value: string): boolean {
  return UNSTORABLE.test(value);
}

const TEXT_MESSAGE = 'holds a NUL character or a lone UTF-16 surrogate, which cannot be stored; send text as well-formed Unicode without U+0000';

export interface HazardChecks {
  /** look for NUL and lone surrogates in keys and strings */
  text?: boolean;
  /** objects and arrays may sit at depths below this (the value itself is depth 0); unchecked when absent */
  maxDepth?: number;
  /** look for integral numbers past ±(2^53 − 1) */
  integers?: boolean;
}

// only what JSON.parse makes is walked: a stream (an NDJSON body) or any other object graph is not JSON
const isJsonObject = (value: object): value is Record<string, unknown> => {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

interface Frame {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: Frame | undefined;
}

function fieldOf(frame: Frame, root: string | undefined): string {
  const parts: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f; f = f.parent) if (f.key !== undefined) parts.push(f.key);
  if (root) parts.push(root);
  return parts.reverse().join('.') || 'body';
}

/**
 * The first hazard in a JSON value (a number that underflowed a double, or an integer it changed, always counts), found without recursion (a value nested 100,000 deep is
 * walked on the heap, and only as deep as the limit), or undefined.
 */
export function findJsonHazard(value: unknown, checks: HazardChecks, root?: string): JsonHazard | undefined {
  const maxDepth = checks.maxDepth ?? Infinity;
  const stack: Frame[] = [{ value, depth: 0, key: undefined, parent: undefined }];
  while (stack.length) {
    const frame = stack.pop()!;
    const current = frame.value;
    if (typeof current === 'string') {
      if (checks.text && isUnstorableText(current))
        return { code: 'validation/invalid_text', field: fieldOf(frame, root), message: `${fieldOf(frame, root)}: ${TEXT_MESSAGE}` };
    } else if (typeof current === 'number') {
      if (checks.integers && Number.isInteger(current) && !Number.isSafeInteger(current)) {
        const field = fieldOf(frame, root);
        return {
          code: 'unsafe_integer',
          field,
          message: `${field}: an integer beyond ±(2^53 − 1) (read as ${current}) cannot be kept exactly; send it as a string`,
        };
      }
    } else if (current instanceof UnderflowedNumber) {
      const field = fieldOf(frame, root);
      return { code: 'validation/number_underflow', field, message: `${field}: ${current.source} ${UNDERFLOW_MESSAGE}` };
    } else if (current instanceof InexactInteger) {
      const field = fieldOf(frame, root);
      const read = Number(current.source);
      return {
        code: 'validation/unsafe_integer',
        field,
        message: `${field}: the integer ${current.source} is beyond ±(2^53 − 1) and would be kept as ${BigInt(read)}; send it as a string, or a number a double holds`,
      };
    } else if (typeof current === 'object' && current !== null) {
      if (frame.depth >= maxDepth) {
        const field = fieldOf(frame, root);
        return { code: 'validation/too_deep', field, message: `${field}: nested deeper than ${maxDepth} levels` };
      }
      if (Array.isArray(current)) {
        for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], depth: frame.depth + 1, key: i, parent: frame });
      } else if (isJsonObject(current)) {
        for (const key in current) {
          if (checks.text && isUnstorableText(key)) {
            const field = fieldOf({ value: undefined, depth: 0, key, parent: frame }, root);
            return { code: 'validation/invalid_text', field, message: `${field}: the key ${TEXT_MESSAGE}` };
          }
          stack.push({ value: current[key], depth: frame.depth + 1, key, parent: frame });
        }
      }
    }
  }
  return undefined;
}

// parsed bodies whose JSON text held no escape that could make a NUL or a lone surrogate, and no number that could underflow
const cleanBodies = new WeakSet<object>();

/** Notes that a parsed body's text was scanned and can hold neither unstorable text nor an underflowed number: its items need no per-value walk. */
export function markValuesClean(body: unknown): void {
  if (typeof body === 'object' && body !== null) cleanBodies.add(body);
}

export function areValuesClean(body: unknown): boolean {
  return typeof body === 'object' && body !== null && cleanBodies.has(body);
}

/** The route config key of routes that check each item of a body themselves, so that `partial` refuses only the items at fault. */
export const VALIDATES_ITEMS = 'validatesItems';

declare module 'fastify' {
  interface FastifyContextConfig {
    [VALIDATES_ITEMS]?: boolean;
  }
}

/**
 * What the JSON body parser checks of every body: text PostgreSQL cannot store (only when the
 * raw text holds an escape that could make it), numbers a double changed (`body` was read with
 * `reviveUnderflows`, or on a route that does not validate item by item `reviveLostNumbers`,
 * when its text may hold one) and nesting deeper than MAX_JSON_DEPTH.
 * A route that validates item by item gets its body unchecked, marked when its text is clean.
 */
export function screenJsonBody(raw: Buffer | string, body: unknown, validatesItems: boolean, mayUnderflow: boolean): JsonHazard | undefined {
  const text = mayHoldUnstorableText(raw);
  if (validatesItems) {
    if (!text && !mayUnderflow) markValuesClean(body);
    return undefined;
  }
  return findJsonHazard(body, { text, maxDepth: MAX_JSON_DEPTH });
}

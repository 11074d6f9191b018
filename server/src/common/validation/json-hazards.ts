import { MAX_JSON_DEPTH } from '@backflow/contracts';

/** A value PostgreSQL cannot store as sent, or that would overflow a recursive reader: where it is, and why. */
export interface JsonHazard {
  code: 'validation/invalid_text' | 'validation/too_deep' | 'unsafe_integer';
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

/**
 * Whether JSON text may hold a key that poisons a prototype (`__proto__`, or `constructor` with
 * a `prototype`), which Fastify's parser refuses. Such a key is spelled out in the text, or
 * hidden behind `\u` escapes; text with neither parses the same with plain `JSON.parse`.
 */
export function mayHoldPrototypeKeys(text: Buffer): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
}

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
 * The first hazard in a JSON value, found without recursion (a value nested 100,000 deep is
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

// parsed bodies whose JSON text held no escape that could make a NUL or a lone surrogate
const textCleanBodies = new WeakSet<object>();

/** Notes that a parsed body's text was scanned and holds no unstorable text: its items need no per-value check. */
export function markTextClean(body: unknown): void {
  if (typeof body === 'object' && body !== null) textCleanBodies.add(body);
}

export function isTextClean(body: unknown): boolean {
  return typeof body === 'object' && body !== null && textCleanBodies.has(body);
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
 * raw text holds an escape that could make it) and nesting deeper than MAX_JSON_DEPTH. A route
 * that validates item by item gets its body unchecked, marked when its text is clean.
 */
export function screenJsonBody(raw: Buffer | string, body: unknown, validatesItems: boolean): JsonHazard | undefined {
  const text = mayHoldUnstorableText(raw);
  if (validatesItems) {
    if (!text) markTextClean(body);
    return undefined;
  }
  return findJsonHazard(body, { text, maxDepth: MAX_JSON_DEPTH });
}

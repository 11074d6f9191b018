import fc from 'fast-check';
import type { z } from 'zod';

/**
 * fast-check arbitraries read from the zod contracts: a plausible value of a schema (the base
 * a fuzz case starts from), the leaves of such a value with the type the schema gives each,
 * and the hostile values of each type that one mutation puts at one leaf.
 */

export type LeafKind = 'string' | 'datetime' | 'number' | 'boolean' | 'free';
export interface Leaf {
  path: Array<string | number>;
  kind: LeafKind;
  /** a key of a record: the mutation renames it */
  key?: boolean;
  /** absent from the value: the mutation adds it */
  absent?: boolean;
}

export type HazardClass = 'text' | 'date' | 'integer' | 'depth' | 'type';
export const HAZARD_CLASSES: readonly HazardClass[] = ['text', 'date', 'integer', 'depth', 'type'];

export interface Hazard {
  class: HazardClass;
  name: string;
  value: unknown;
  /** no server may accept it wherever the contract reads it (others only must not give a 5xx) */
  refused: boolean;
}

/** JSON text spliced in as is: digits JSON.stringify would round, nesting it would overflow on. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** The request body's text, with every RawJson in place. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? `\u0001raw${raws.push(v.text) - 1}\u0001` : v));
  return raws.length ? text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]) : text;
}

type Def = { type: string; [key: string]: any };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (schema: z.ZodType): Array<Record<string, any>> =>
  (defOf(schema).checks ?? []).map((c: { _zod: { def: Record<string, unknown> } }) => c._zod.def);

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'catch', 'readonly', 'nonoptional']);

/** The schema under optional/default/nullable wrappers and pipes (their input side). */
export function unwrap(schema: z.ZodType): z.ZodType {
  for (;;) {
    const def = defOf(schema);
    if (WRAPPERS.has(def.type)) schema = def.innerType;
    else if (def.type === 'pipe') schema = def.in;
    else if (def.type === 'lazy') schema = def.getter();
    else return schema;
  }
}

const isOptional = (schema: z.ZodType): boolean => ['optional', 'default', 'prefault'].includes(defOf(schema).type);
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawJson);

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.boolean());
/** A feature value as the contract takes it: a number, a string, a boolean, or a list of them. */
export const featureValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }));
const featureRecord = fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), featureValue, { maxKeys: 4 });

function stringOf(schema: z.ZodType): fc.Arbitrary<string> {
  const def = defOf(schema);
  const checks = checksOf(schema);
  const min = checks.find((c) => c.check === 'min_length')?.minimum ?? 0;
  const max = Math.min(checks.find((c) => c.check === 'max_length')?.maximum ?? 24, 24);
  const format = def.format ?? checks.find((c) => c.check === 'string_format')?.format;
  if (format === 'datetime')
    return fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2026-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  if (format === 'email') return fc.emailAddress();
  if (format === 'uuid' || format === 'guid') return fc.uuid({ version: 4 });
  if (format === 'url') return fc.webUrl();
  const pattern = def.pattern ?? checks.find((c) => c.pattern)?.pattern;
  if (pattern instanceof RegExp) return fc.stringMatching(pattern).filter((s) => s.length >= min && s.length <= Math.max(max, min));
  return fc.string({ minLength: min, maxLength: Math.max(max, min) });
}

function numberOf(schema: z.ZodType): fc.Arbitrary<number> {
  const checks = checksOf(schema);
  const integer = checks.some((c) => c.format === 'safeint' || c.format === 'int32');
  const low = checks.find((c) => c.check === 'greater_than')?.value ?? -1000;
  const high = checks.find((c) => c.check === 'less_than')?.value ?? 1000;
  return integer ? fc.integer({ min: Math.ceil(low), max: Math.floor(high) }) : fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true });
}

/**
 * A plausible value of `schema`; where `template` gives a value (or an arbitrary) it is taken
 * instead, so a body can start valid by the server's rules too (its project's labels, say).
 */
export function valueOf(schema: z.ZodType, template?: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (template instanceof fc.Arbitrary) return template as fc.Arbitrary<unknown>;
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object' && (template === undefined || isPlainObject(template))) {
    const shape = def.shape as Record<string, z.ZodType>;
    const given = template ?? {};
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, field] of Object.entries(shape)) {
      if (key in given) fields[key] = valueOf(field, given[key], depth + 1);
      else if (isOptional(field))
        fields[key] = depth > 4 ? fc.constant(undefined) : fc.option(valueOf(field, undefined, depth + 1), { nil: undefined, freq: 2 });
      else fields[key] = valueOf(field, undefined, depth + 1);
    }
    const extra = Object.fromEntries(Object.entries(given).filter(([key]) => !(key in shape)));
    return fc.record(fields).map((value) => ({ ...extra, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) }));
  }
  if (template !== undefined) return fc.constant(template);
  switch (def.type) {
    case 'string':
      return stringOf(inner);
    case 'number':
      return numberOf(inner);
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries as Record<string, string>));
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'array': {
      const min = checksOf(inner).find((c) => c.check === 'min_length')?.minimum ?? 0;
      return fc.array(valueOf(def.element, undefined, depth + 1), { minLength: min, maxLength: Math.max(min, depth > 3 ? 1 : 3) });
    }
    case 'record':
      return fc.dictionary(stringOf(def.keyType.in ? def.keyType.in : def.keyType), valueOf(def.valueType, undefined, depth + 1), { maxKeys: 3 });
    case 'union':
      return fc.oneof(...(def.options as z.ZodType[]).map((option) => valueOf(option, undefined, depth + 1)));
    case 'tuple':
      return fc.tuple(...(def.items as z.ZodType[]).map((item) => valueOf(item, undefined, depth + 1)));
    case 'custom':
      // the contracts' custom schemas are feature records and feature values
      return featureRecord;
    case 'unknown':
    case 'any':
      return fc.jsonValue({ maxDepth: 2 });
    default:
      return fc.constant(null);
  }
}

function scalarKind(value: unknown): LeafKind {
  return typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'free';
}

/** Every leaf of a free-form JSON value (metadata, a feature record), keys included. */
function freeLeaves(value: unknown, path: Array<string | number>, out: Leaf[]): void {
  out.push({ path, kind: 'free' });
  if (Array.isArray(value)) value.forEach((item, i) => freeLeaves(item, [...path, i], out));
  else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      out.push({ path: [...path, key], kind: 'string', key: true });
      freeLeaves(item, [...path, key], out);
    }
  } else if (value !== null) out.push({ path, kind: scalarKind(value) });
}

/** The leaves of `value` as `schema` types them, with the optional fields it left out. */
export function leavesOf(schema: z.ZodType, value: unknown, path: Array<string | number> = [], out: Leaf[] = []): Leaf[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  switch (def.type) {
    case 'object': {
      out.push({ path, kind: 'free' });
      if (!isPlainObject(value)) return out;
      for (const [key, field] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        if (key in value) leavesOf(field, value[key], [...path, key], out);
        else leavesOf(field, undefined, [...path, key], out).forEach((leaf) => leaf.path.length === path.length + 1 && (leaf.absent = true));
      }
      return out;
    }
    case 'array':
      out.push({ path, kind: 'free' });
      if (Array.isArray(value)) value.forEach((item, i) => leavesOf(def.element, item, [...path, i], out));
      return out;
    case 'record':
      out.push({ path, kind: 'free' });
      if (!isPlainObject(value)) return out;
      for (const [key, item] of Object.entries(value)) {
        out.push({ path: [...path, key], kind: 'string', key: true });
        leavesOf(def.valueType, item, [...path, key], out);
      }
      return out;
    case 'union': {
      const option = (def.options as z.ZodType[]).find((o) => o.safeParse(value).success) ?? def.options[0];
      return leavesOf(option, value, path, out);
    }
    case 'custom':
    case 'unknown':
    case 'any':
      freeLeaves(value, path, out);
      return out;
    case 'string': {
      const format = def.format ?? checksOf(inner).find((c) => c.check === 'string_format')?.format;
      out.push({ path, kind: format === 'datetime' ? 'datetime' : 'string' });
      return out;
    }
    case 'enum':
    case 'literal':
      out.push({ path, kind: 'string' });
      return out;
    case 'number':
      out.push({ path, kind: 'number' });
      return out;
    case 'boolean':
      out.push({ path, kind: 'boolean' });
      return out;
    default:
      out.push({ path, kind: 'free' });
      return out;
  }
}

const nested = (depth: number, kind: 'object' | 'array') =>
  new RawJson(kind === 'object' ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`);

const hazard = (klass: HazardClass, name: string, value: unknown, refused: boolean): Hazard => ({ class: klass, name, value, refused });

export const TEXT_HAZARDS: Hazard[] = [
  hazard('text', 'lone high surrogate', 'a\ud800', true),
  hazard('text', 'lone low surrogate', '\udc00b', true),
  hazard('text', 'surrogates in the wrong order', '\udc00\ud800', true),
  hazard('text', 'a NUL character', 'a\u0000b', true),
  hazard('text', 'only a NUL character', '\u0000', true),
  hazard('text', 'a right-to-left override', '\u202etxt.exe', false),
  hazard('text', 'zero-width and BOM characters', '\u200b\ufeff\u200d', false),
  hazard('text', 'an emoji (a valid surrogate pair)', '🙂', false),
  hazard('text', 'control characters', '\u0001\u001b[31m\u007f', false),
  hazard('text', 'a huge string', 'x'.repeat(300_000), false),
  hazard('text', 'a long multi-byte string', 'é'.repeat(70_000), false),
];

export const DATE_HAZARDS: Hazard[] = [
  hazard('date', 'the year 0', '0000-01-01T00:00:00Z', true),
  hazard('date', 'the year 1 with an offset that makes it the year 0', '0001-01-01T00:00:00+01:00', true),
  hazard('date', 'the year 9999 with an offset that makes it 10000', '9999-12-31T23:30:00-01:00', true),
  hazard('date', 'the year 10000', '10000-01-01T00:00:00Z', true),
  hazard('date', 'an expanded year', '+010000-01-01T00:00:00Z', true),
  hazard('date', 'a negative year', '-000001-01-01T00:00:00Z', true),
  hazard('date', 'the first instant of year 1', '0001-01-01T00:00:00Z', false),
  hazard('date', 'the last instant of year 9999', '9999-12-31T23:59:59.999Z', false),
  hazard('date', 'a leap second', '2016-12-31T23:59:60Z', false),
  hazard('date', 'the 30th of February', '2023-02-30T00:00:00Z', false),
  hazard('date', 'hour 24', '2024-01-01T24:00:00Z', false),
  hazard('date', 'nanoseconds', '2024-01-01T00:00:00.123456789Z', false),
  hazard('date', 'no zone', '2024-01-01T00:00:00', false),
];

export const INTEGER_HAZARDS: Hazard[] = [
  hazard('integer', '2^53 + 1', new RawJson('9007199254740993'), true),
  hazard('integer', '2^60', new RawJson('1152921504606846976'), true),
  hazard('integer', '-(2^53 + 2)', new RawJson('-9007199254740994'), true),
  hazard('integer', '1e20', new RawJson('1e20'), true),
  hazard('integer', '99999999999999999999999', new RawJson('99999999999999999999999'), true),
  hazard('integer', '2^53 - 1 (the largest safe)', new RawJson('9007199254740991'), false),
  hazard('integer', '1e308', new RawJson('1e308'), false),
  hazard('integer', '-0', new RawJson('-0'), false),
  hazard('integer', '5e-324', new RawJson('5e-324'), false),
];

export const DEPTH_HAZARDS: Hazard[] = [
  hazard('depth', 'arrays nested 1,000 deep', nested(1_000, 'array'), true),
  hazard('depth', 'objects nested 5,000 deep', nested(5_000, 'object'), true),
  hazard('depth', 'arrays nested 5,000 deep', nested(5_000, 'array'), true),
  hazard('depth', 'arrays nested 100,000 deep', nested(100_000, 'array'), true),
  hazard('depth', 'objects nested 33 deep', nested(33, 'object'), false),
];

export const TYPE_HAZARDS: Hazard[] = [
  hazard('type', 'null', null, false),
  hazard('type', 'true', true, false),
  hazard('type', 'a number', 7, false),
  hazard('type', 'a numeric string', '12', false),
  hazard('type', 'an empty object', {}, false),
  hazard('type', 'an empty array', [], false),
  hazard('type', 'an operator object', { $gt: '' }, false),
  hazard('type', 'a prototype key', new RawJson('{"__proto__":{"admin":true}}'), false),
  hazard('type', 'an array of objects', [{ a: 1 }, { b: [2] }], false),
];

/** The leaves a class of hazard applies to, and whether a key may take it. */
export function appliesTo(klass: HazardClass, leaf: Leaf): boolean {
  switch (klass) {
    case 'text':
      return leaf.kind === 'string' || leaf.kind === 'free';
    case 'date':
      return leaf.kind === 'datetime';
    case 'integer':
      return !leaf.key && (leaf.kind === 'number' || leaf.kind === 'free');
    case 'depth':
      return !leaf.key && leaf.kind === 'free';
    case 'type':
      return !leaf.key;
  }
}

export const HAZARDS: Record<HazardClass, Hazard[]> = {
  text: TEXT_HAZARDS,
  date: DATE_HAZARDS,
  integer: INTEGER_HAZARDS,
  depth: DEPTH_HAZARDS,
  type: TYPE_HAZARDS,
};

/** `value` with the leaf at `leaf.path` replaced (or its key renamed) by `replacement`. */
export function mutate(value: unknown, leaf: Leaf, replacement: unknown): unknown {
  if (leaf.path.length === 0) return replacement;
  const copy = structuredCloneJson(value);
  let parent = copy as Record<string | number, unknown>;
  for (const step of leaf.path.slice(0, -1)) {
    if (!isPlainObject(parent[step]) && !Array.isArray(parent[step])) parent[step] = typeof step === 'number' ? [] : {};
    parent = parent[step] as Record<string | number, unknown>;
  }
  const last = leaf.path[leaf.path.length - 1];
  if (leaf.key && typeof replacement === 'string' && isPlainObject(parent)) {
    const renamed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parent)) renamed[k === last ? replacement : k] = v;
    for (const k of Object.keys(parent)) delete parent[k];
    Object.assign(parent, renamed);
  } else {
    parent[last] = replacement;
  }
  return copy;
}

function structuredCloneJson(value: unknown): unknown {
  if (value instanceof RawJson) return value;
  if (Array.isArray(value)) return value.map(structuredCloneJson);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCloneJson(v)]));
  return value;
}

/** A dotted field name, as the server names fields (`input.vec.1`). */
export const dotted = (path: Array<string | number>) => path.join('.');

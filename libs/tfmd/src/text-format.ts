import * as protobuf from 'protobufjs';

/*
 * Protocol Buffers' text format (what `text_format.MessageToString` writes and TFDV's
 * `load_schema_text` reads: schema.pbtxt), read and written against protobufjs's reflection of a
 * message. Reading gives a plain object for `Type.fromObject`; unknown fields are skipped and named,
 * never silently. Writing prints fields in field-number order, two spaces an indent, as protobuf's
 * own printer does.
 */

export class TextFormatError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
  }
}

type Token =
  | { kind: 'name'; text: string; line: number; column: number }
  | { kind: 'number'; text: string; line: number; column: number }
  | { kind: 'string'; bytes: Uint8Array; line: number; column: number }
  | { kind: 'symbol'; text: string; line: number; column: number }
  | { kind: 'end'; line: number; column: number };

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const utf8 = new TextEncoder();
  const fail = (message: string): never => {
    throw new TextFormatError(message, line, i - lineStart + 1);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const column = i - lineStart + 1;
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_.]/.test(text[i])) i++;
      tokens.push({ kind: 'name', text: text.slice(start, i), line, column });
      continue;
    }
    if (/[0-9.-]/.test(c) && (c !== '.' || /[0-9]/.test(text[i + 1] ?? ''))) {
      const start = i;
      i++;
      for (; i < text.length; i++) {
        if (/[A-Za-z0-9_.]/.test(text[i])) continue;
        // an exponent's sign
        if ((text[i] === '+' || text[i] === '-') && /[eE]/.test(text[i - 1]) && !/^-?0[xX]/.test(text.slice(start, i))) continue;
        break;
      }
      tokens.push({ kind: 'number', text: text.slice(start, i), line, column });
      continue;
    }
    if (c === '"' || c === "'") {
      const bytes: number[] = [];
      i++;
      while (text[i] !== c) {
        if (i >= text.length || text[i] === '\n') fail('a string is not closed');
        if (text[i] !== '\\') {
          const codePoint = text.codePointAt(i)!;
          const char = String.fromCodePoint(codePoint);
          bytes.push(...utf8.encode(char));
          i += char.length;
          continue;
        }
        const e = text[i + 1];
        i += 2;
        if (e in SIMPLE_ESCAPES) bytes.push(SIMPLE_ESCAPES[e]);
        else if (/[0-7]/.test(e)) {
          let digits = e;
          while (digits.length < 3 && /[0-7]/.test(text[i] ?? '')) digits += text[i++];
          bytes.push(parseInt(digits, 8) & 0xff);
        } else if (e === 'x' || e === 'X') {
          let digits = '';
          while (digits.length < 2 && /[0-9a-fA-F]/.test(text[i] ?? '')) digits += text[i++];
          if (!digits) fail('\\x without hex digits');
          bytes.push(parseInt(digits, 16));
        } else if (e === 'u' || e === 'U') {
          const length = e === 'u' ? 4 : 8;
          const digits = text.slice(i, i + length);
          if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) fail(`\\${e} needs ${length} hex digits`);
          i += length;
          bytes.push(...utf8.encode(String.fromCodePoint(parseInt(digits, 16))));
        } else fail(`unknown escape \\${e}`);
      }
      i++;
      const previous = tokens[tokens.length - 1];
      // adjacent strings are one string
      if (previous?.kind === 'string' && previous.line === line) previous.bytes = concat(previous.bytes, Uint8Array.from(bytes));
      else tokens.push({ kind: 'string', bytes: Uint8Array.from(bytes), line, column });
      continue;
    }
    if ('{}<>[]:;,'.includes(c)) {
      tokens.push({ kind: 'symbol', text: c, line, column });
      i++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: 'end', line, column: i - lineStart + 1 });
  return tokens;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const INTEGER_TYPES = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32', 'int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const LONG_TYPES = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const FLOAT_TYPES = new Set(['double', 'float']);

export interface TextParseResult {
  /** a plain object for `Type.fromObject` (int64 as decimal strings, bytes as Uint8Array) */
  object: Record<string, unknown>;
  /** fields the reflection does not know, by dotted path: skipped */
  skipped: string[];
}

/** Parses `text` as a message of `type`. */
export function parseTextFormat(text: string, type: protobuf.Type): TextParseResult {
  const tokens = tokenize(text);
  let at = 0;
  const skipped: string[] = [];
  const peek = () => tokens[at];
  const fail = (message: string, token: Token = peek()): never => {
    throw new TextFormatError(message, token.line, token.column);
  };
  const isSymbol = (text: string) => {
    const t = peek();
    return t.kind === 'symbol' && t.text === text;
  };
  const expectSymbol = (text: string) => {
    if (!isSymbol(text)) fail(`expected "${text}"`);
    at++;
  };
  const separator = () => {
    if (isSymbol(',') || isSymbol(';')) at++;
  };

  const scalar = (field: protobuf.FieldBase, path: string): unknown => {
    const token = peek();
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) {
      at++;
      if (token.kind === 'name') {
        if (!(token.text in resolved.values)) fail(`${path}: ${token.text} is not a value of ${resolved.name}`, token);
        return token.text;
      }
      if (token.kind === 'number' && /^-?\d+$/.test(token.text)) return Number(token.text);
      return fail(`${path}: expected a value of ${resolved.name}`, token);
    }
    if (field.type === 'string' || field.type === 'bytes') {
      if (token.kind !== 'string') fail(`${path}: expected a quoted string`, token);
      at++;
      const bytes = (token as { bytes: Uint8Array }).bytes;
      if (field.type === 'bytes') return bytes;
      const decoded = new TextDecoder('utf-8', { fatal: true });
      try {
        return decoded.decode(bytes);
      } catch {
        return fail(`${path}: the string is not valid UTF-8`, token);
      }
    }
    if (field.type === 'bool') {
      at++;
      const text = token.kind === 'name' || token.kind === 'number' ? token.text : '';
      if (text === 'true' || text === 't' || text === 'True' || text === '1') return true;
      if (text === 'false' || text === 'f' || text === 'False' || text === '0') return false;
      return fail(`${path}: expected true or false`, token);
    }
    if (token.kind !== 'number' && token.kind !== 'name') fail(`${path}: expected a number`, token);
    at++;
    const raw = (token as { text: string }).text;
    if (FLOAT_TYPES.has(field.type)) {
      const lower = raw.toLowerCase().replace(/f$/, '');
      if (/^-?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
      if (/^-?nan$/.test(lower)) return NaN;
      if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(lower)) fail(`${path}: ${raw} is not a number`, token);
      return Number(lower);
    }
    if (INTEGER_TYPES.has(field.type)) {
      let value: bigint;
      try {
        const negative = raw.startsWith('-');
        const digits = negative ? raw.slice(1) : raw;
        const magnitude = /^0[xX][0-9a-fA-F]+$/.test(digits)
          ? BigInt(digits)
          : /^0[0-7]+$/.test(digits)
            ? BigInt(`0o${digits.slice(1)}`)
            : /^\d+$/.test(digits)
              ? BigInt(digits)
              : undefined;
        if (magnitude === undefined) return fail(`${path}: ${raw} is not an integer`, token);
        value = negative ? -magnitude : magnitude;
      } catch {
        return fail(`${path}: ${raw} is not an integer`, token);
      }
      const unsigned = field.type.startsWith('u') || field.type.startsWith('fixed');
      const bits = LONG_TYPES.has(field.type) ? 64n : 32n;
      const min = unsigned ? 0n : -(2n ** (bits - 1n));
      const max = unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n;
      if (value < min || value > max) fail(`${path}: ${raw} is out of range for ${field.type}`, token);
      return LONG_TYPES.has(field.type) ? value.toString() : Number(value);
    }
    return fail(`${path}: fields of type ${field.type} are not supported`, token);
  };

  /** One value of an unknown field, read and dropped. */
  const skipValue = () => {
    if (isSymbol(':')) at++;
    const open = peek();
    if (open.kind === 'symbol' && (open.text === '{' || open.text === '<' || open.text === '[')) {
      let depth = 0;
      do {
        const t = tokens[at++];
        if (t.kind === 'end') fail('unclosed block');
        if (t.kind === 'symbol' && '{<['.includes(t.text)) depth++;
        if (t.kind === 'symbol' && '}>]'.includes(t.text)) depth--;
      } while (depth > 0);
      return;
    }
    at++;
  };

  const message = (messageType: protobuf.Type, close: string | undefined, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (;;) {
      const token = peek();
      if (close === undefined ? token.kind === 'end' : token.kind === 'symbol' && token.text === close) {
        at++;
        return out;
      }
      if (token.kind === 'symbol' && token.text === '[') {
        // an extension or an Any's expanded form: not supported, skipped by name
        const start = at;
        while (!isSymbol(']')) {
          if (peek().kind === 'end') fail('unclosed [');
          at++;
        }
        at++;
        skipped.push(
          `${prefix}${tokens
            .slice(start + 1, at - 1)
            .map((t) => ('text' in t ? t.text : ''))
            .join('')}`,
        );
        skipValue();
        separator();
        continue;
      }
      if (token.kind !== 'name') fail('expected a field name', token);
      at++;
      const name = (token as { text: string }).text;
      const field = messageType.fields[name];
      const path = `${prefix}${name}`;
      if (!field) {
        skipped.push(path);
        skipValue();
        separator();
        continue;
      }
      const values: unknown[] = [];
      if (field.map) {
        if (isSymbol(':')) at++;
        const one = () => values.push(mapEntry(field as unknown as protobuf.MapField, path));
        if (isSymbol('[')) {
          at++;
          while (!isSymbol(']')) {
            one();
            if (isSymbol(',')) at++;
          }
          at++;
        } else one();
      } else if (field.resolvedType instanceof protobuf.Type) {
        if (isSymbol(':')) at++;
        const one = () => {
          const open = peek();
          if (!(open.kind === 'symbol' && (open.text === '{' || open.text === '<'))) fail(`${path}: expected "{"`, open);
          at++;
          values.push(message(field.resolvedType as protobuf.Type, (open as { text: string }).text === '{' ? '}' : '>', `${path}.`));
        };
        if (isSymbol('[')) {
          at++;
          while (!isSymbol(']')) {
            one();
            if (isSymbol(',')) at++;
          }
          at++;
        } else one();
      } else {
        expectSymbol(':');
        if (isSymbol('[')) {
          at++;
          while (!isSymbol(']')) {
            values.push(scalar(field, path));
            if (isSymbol(',')) at++;
          }
          at++;
        } else values.push(scalar(field, path));
      }
      if (field.map) {
        const map = (out[field.name] ??= {}) as Record<string, unknown>;
        for (const entry of values as Array<[string, unknown]>) map[entry[0]] = entry[1];
      } else if (field.repeated) {
        ((out[field.name] ??= []) as unknown[]).push(...values);
      } else {
        if (values.length !== 1) fail(`${path}: a list given for a field that is not repeated`, token);
        if (field.name in out) fail(`${path}: given twice`, token);
        if (field.partOf) {
          for (const other of field.partOf.oneof) if (other !== field.name && other in out) fail(`${path}: ${other} of the same oneof is set too`, token);
        }
        out[field.name] = values[0];
      }
      separator();
    }
  };

  /** A map entry, `{ key: … value … }`, as [key, value]. */
  const mapEntry = (field: protobuf.MapField, path: string): [string, unknown] => {
    const open = peek();
    if (!(open.kind === 'symbol' && (open.text === '{' || open.text === '<'))) fail(`${path}: expected "{"`, open);
    at++;
    const close = (open as { text: string }).text === '{' ? '}' : '>';
    const keyField = new protobuf.Field('key', 1, field.keyType);
    let key: unknown;
    let value: unknown;
    while (!isSymbol(close)) {
      const token = peek();
      if (token.kind !== 'name' || (token.text !== 'key' && token.text !== 'value')) return fail(`${path}: a map entry holds a key and a value`, token);
      at++;
      if (token.text === 'key') {
        expectSymbol(':');
        key = scalar(keyField, `${path}.key`);
      } else if (field.resolvedType instanceof protobuf.Type) {
        if (isSymbol(':')) at++;
        const inner = peek();
        if (!(inner.kind === 'symbol' && (inner.text === '{' || inner.text === '<'))) fail(`${path}.value: expected "{"`, inner);
        at++;
        value = message(field.resolvedType, (inner as { text: string }).text === '{' ? '}' : '>', `${path}.value.`);
      } else {
        expectSymbol(':');
        value = scalar(field, `${path}.value`);
      }
      separator();
    }
    at++;
    if (key === undefined) fail(`${path}: a map entry without its key`, open);
    return [String(key), value ?? (field.resolvedType instanceof protobuf.Type ? {} : undefined)];
  };

  const object = message(type, undefined, '');
  return { object, skipped };
}

/** A float32 field's value in the fewest digits that read back as the same float32. */
function float32Text(value: number): string {
  for (let digits = 1; digits <= 9; digits++) {
    const text = Number(value.toPrecision(digits));
    if (Math.fround(text) === value) return doubleText(text);
  }
  return doubleText(value);
}

/** A double as Python's text_format writes it: the shortest round-trip form, integral values with ".0". */
function doubleText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  const text = String(value);
  if (/e/.test(text)) return text.replace('e+', 'e+').replace(/^(-?\d+)e/, '$1.0e');
  return Number.isInteger(value) && !text.includes('.') ? `${text}.0` : text;
}

/** A string or bytes value escaped as protobuf's printer does (C escapes, non-ASCII bytes in octal). */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 10) out += '\\n';
    else if (b === 13) out += '\\r';
    else if (b === 9) out += '\\t';
    else if (b === 34) out += '\\"';
    else if (b === 39) out += "\\'";
    else if (b === 92) out += '\\\\';
    else if (b < 32 || b >= 127) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

const utf8Encoder = new TextEncoder();

function scalarText(field: protobuf.FieldBase, value: unknown): string {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const name = typeof value === 'number' ? resolved.valuesById[value] : String(value);
    return name ?? String(value);
  }
  if (field.type === 'string') return `"${escapeBytes(utf8Encoder.encode(String(value)))}"`;
  if (field.type === 'bytes') return `"${escapeBytes(value as Uint8Array)}"`;
  if (field.type === 'bool') return value ? 'true' : 'false';
  if (field.type === 'float') return float32Text(Number(value));
  if (field.type === 'double') return doubleText(Number(value));
  return String(value);
}

/**
 * A message in text format. `message` is a decoded message (or `Type.fromObject`'s); fields print
 * in field-number order, a repeated field's values one per line, as protobuf's printer does.
 */
export function printTextFormat(type: protobuf.Type, message: protobuf.Message | Record<string, unknown>, indent = ''): string {
  const object = type.toObject(message as protobuf.Message, { longs: String, enums: String, bytes: Array, defaults: false, arrays: false, objects: false });
  return printObject(type, object, indent);
}

function printObject(type: protobuf.Type, object: Record<string, unknown>, indent: string): string {
  let out = '';
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [key, entryValue] of entries) {
        out += `${indent}${field.name} {\n${indent}  key: ${(field as unknown as protobuf.MapField).keyType === 'string' ? `"${escapeBytes(utf8Encoder.encode(key))}"` : key}\n`;
        if (field.resolvedType instanceof protobuf.Type)
          out += `${indent}  value {\n${printObject(field.resolvedType, entryValue as Record<string, unknown>, `${indent}    `)}${indent}  }\n`;
        else out += `${indent}  value: ${scalarText(field, entryValue)}\n`;
        out += `${indent}}\n`;
      }
      continue;
    }
    const values = field.repeated ? (value as unknown[]) : [value];
    for (const one of values) {
      if (field.resolvedType instanceof protobuf.Type) {
        out += `${indent}${field.name} {\n${printObject(field.resolvedType, one as Record<string, unknown>, `${indent}  `)}${indent}}\n`;
      } else {
        const bytes = field.type === 'bytes' ? Uint8Array.from(one as number[]) : one;
        out += `${indent}${field.name}: ${scalarText(field, bytes)}\n`;
      }
    }
  }
  return out;
}

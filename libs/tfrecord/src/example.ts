import * as protobuf from 'protobufjs';

/*
 * tf.Example, from TensorFlow's tensorflow/core/example/feature.proto and example.proto
 * (Apache License 2.0), parsed once by protobufjs. The messages, field numbers and packing are
 * TensorFlow's, so the bytes are what TensorFlow writes and reads.
 */
const PROTO = `
syntax = "proto3";
package tensorflow;
message BytesList { repeated bytes value = 1; }
message FloatList { repeated float value = 1 [packed = true]; }
message Int64List { repeated int64 value = 1 [packed = true]; }
message Feature {
  oneof kind {
    BytesList bytes_list = 1;
    FloatList float_list = 2;
    Int64List int64_list = 3;
  }
}
message Features { map<string, Feature> feature = 1; }
message Example { Features features = 1; }
`;

// resolved up front: a field's packing is settled on resolution, and an unresolved type encodes repeated scalars unpacked
const root = protobuf.parse(PROTO, { keepCase: true }).root.resolveAll();
const ExampleType = root.lookupType('tensorflow.Example');

/** One feature's values: its kind decides the list (TensorFlow has no other kinds). */
export type FeatureValue =
  | { kind: 'int64'; values: ReadonlyArray<number | bigint> }
  /** written as float32 (tf.Example's float_list): a double that is not a float32 (0.1) becomes the nearest one */
  | { kind: 'float'; values: readonly number[] }
  | { kind: 'bytes'; values: ReadonlyArray<string | Uint8Array> };

export type ExampleFeatures = Record<string, FeatureValue>;

const utf8 = new TextEncoder();

/** An int64 as the encoder takes it: a safe number, or a Long (a bigint beyond 2^53). */
function toLong(value: number | bigint): number | protobuf.Long {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`int64 feature value ${value} is not a safe integer`);
    return value;
  }
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new RangeError(`int64 feature value ${value} is out of range`);
  return (protobuf.util.Long as unknown as { fromString(text: string): protobuf.Long }).fromString(value.toString());
}

/**
 * A tf.Example's bytes by protobufjs from the parsed .proto: the reference the fast encoder
 * below is held to (a test compares them over random examples).
 */
export function encodeExampleReference(features: ExampleFeatures): Uint8Array {
  const feature: Record<string, unknown> = {};
  for (const name of Object.keys(features).sort()) {
    const f = features[name];
    if (f.kind === 'int64') feature[name] = { int64_list: { value: f.values.map(toLong) } };
    else if (f.kind === 'float') feature[name] = { float_list: { value: f.values } };
    else feature[name] = { bytes_list: { value: f.values.map((v) => (typeof v === 'string' ? utf8.encode(v) : v)) } };
  }
  return ExampleType.encode({ features: { feature } }).finish();
}

/** The bytes of a protobuf varint of a length (at most 2^32 − 1). */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

const TWO_64 = 2n ** 64n;

/** An int64 as the unsigned 64-bit varint protobuf writes (a negative one in two's complement: 10 bytes). */
function int64Varint(value: number | bigint): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`int64 feature value ${value} is not a safe integer`);
    return value >= 0 ? value : TWO_64 + BigInt(value);
  }
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new RangeError(`int64 feature value ${value} is out of range`);
  return value >= 0n ? value : TWO_64 + value;
}

function int64Size(v: number | bigint): number {
  if (typeof v === 'number') {
    let size = 1;
    while (v >= 0x80) {
      v = Math.floor(v / 0x80);
      size++;
    }
    return size;
  }
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size++;
  }
  return size;
}

/** Writes a protobuf varint of a length at `at`; returns the offset after it. */
export function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

function writeInt64(out: Buffer, at: number, v: number | bigint): number {
  if (typeof v === 'number') return writeVarint(out, at, v);
  while (v >= 0x80n) {
    out[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[at++] = Number(v);
  return at;
}

// field tags (field number << 3 | wire type 2): every field written here is length-delimited
const TAG_1 = 0x0a;
const TAG_2 = 0x12;
const TAG_3 = 0x1a;

/** A tf.Example sized and ready to be written: `size` bytes. */
export interface PreparedExample {
  readonly size: number;
  readonly names: string[];
  readonly features: ExampleFeatures;
  readonly keySizes: number[];
  readonly listSizes: number[];
  readonly payloadSizes: number[];
  readonly varints: Array<Array<number | bigint> | undefined>;
  readonly byteLengths: Array<number[] | undefined>;
  readonly featuresSize: number;
}

// a string of at most this many UTF-16 units is measured and copied by a loop here when it is
// ASCII: a native call per short string (Buffer.byteLength, buf.write) cost more than the copy
// (measured: 40% of a 15-feature example's encoding was the calls)
const SHORT_STRING = 64;

/** A string's UTF-8 length (Buffer.byteLength's): a short ASCII one counted here. */
function utf8Length(s: string): number {
  if (s.length > SHORT_STRING) return Buffer.byteLength(s);
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return s.length;
}

/** Writes a string of UTF-8 length `length` at `at`; returns the offset after it. */
function writeUtf8(out: Buffer, at: number, s: string, length: number): number {
  // as many bytes as UTF-16 units only when every unit is ASCII
  if (length !== s.length || length > SHORT_STRING) return at + out.write(s, at, 'utf8');
  for (let i = 0; i < length; i++) out[at + i] = s.charCodeAt(i);
  return at + length;
}

// the feature names of the last example in insertion order, sorted, and their UTF-8 sizes: the
// rows of a file build their examples alike, so the sort runs once, not once a row
let lastKeys: string[] = [];
let lastNames: string[] = [];
let lastKeySizes: number[] = [];

function sortedNames(features: ExampleFeatures): { names: string[]; keySizes: number[] } {
  const keys = Object.keys(features);
  let same = keys.length === lastKeys.length;
  for (let i = 0; same && i < keys.length; i++) same = keys[i] === lastKeys[i];
  if (!same) {
    lastKeys = keys;
    lastNames = [...keys].sort();
    lastKeySizes = lastNames.map(utf8Length);
  }
  return { names: lastNames, keySizes: lastKeySizes };
}

/** Whether every value is a non-negative safe integer (written as it is: no int64 conversion). */
function plainInt64s(values: ReadonlyArray<number | bigint>): values is number[] {
  for (const v of values) if (typeof v !== 'number' || !(v >= 0) || !Number.isSafeInteger(v)) return false;
  return true;
}

/** Sizes every nested message of a tf.Example (features in name order), so it can be written in one pass. */
export function prepareExample(features: ExampleFeatures): PreparedExample {
  const { names, keySizes } = sortedNames(features);
  const n = names.length;
  const listSizes = new Array<number>(n);
  const payloadSizes = new Array<number>(n);
  const varints = new Array<Array<number | bigint> | undefined>(n);
  const byteLengths = new Array<number[] | undefined>(n);
  let featuresSize = 0;
  for (let i = 0; i < n; i++) {
    const f = features[names[i]];
    let payload = 0;
    if (f.kind === 'int64') {
      const values = plainInt64s(f.values) ? f.values : f.values.map(int64Varint);
      varints[i] = values;
      for (const v of values) payload += int64Size(v);
    } else if (f.kind === 'float') {
      payload = 4 * f.values.length;
    } else {
      const lengths = new Array<number>(f.values.length);
      for (let j = 0; j < lengths.length; j++) {
        const v = f.values[j];
        const length = typeof v === 'string' ? utf8Length(v) : v.byteLength;
        lengths[j] = length;
        payload += 1 + varintSize(length) + length;
      }
      byteLengths[i] = lengths;
    }
    payloadSizes[i] = payload;
    // a packed list (int64, float) writes its one field only when it has values; a bytes list is a field per value
    const list = f.kind === 'bytes' ? payload : payload ? 1 + varintSize(payload) + payload : 0;
    listSizes[i] = list;
    const feature = 1 + varintSize(list) + list;
    const entry = 1 + varintSize(keySizes[i]) + keySizes[i] + 1 + varintSize(feature) + feature;
    featuresSize += 1 + varintSize(entry) + entry;
  }
  return { size: 1 + varintSize(featuresSize) + featuresSize, names, features, keySizes, listSizes, payloadSizes, varints, byteLengths, featuresSize };
}

/** Writes a prepared tf.Example into `out` at `at` (room for `size` bytes); returns the offset after it. */
export function writeExample(p: PreparedExample, out: Buffer, at: number): number {
  out[at++] = TAG_1;
  at = writeVarint(out, at, p.featuresSize);
  for (let i = 0; i < p.names.length; i++) {
    const f = p.features[p.names[i]];
    const list = p.listSizes[i];
    const feature = 1 + varintSize(list) + list;
    const entry = 1 + varintSize(p.keySizes[i]) + p.keySizes[i] + 1 + varintSize(feature) + feature;
    // Features.feature (map entry): key = 1, value = 2
    out[at++] = TAG_1;
    at = writeVarint(out, at, entry);
    out[at++] = TAG_1;
    at = writeVarint(out, at, p.keySizes[i]);
    at = writeUtf8(out, at, p.names[i], p.keySizes[i]);
    out[at++] = TAG_2;
    at = writeVarint(out, at, feature);
    // Feature.kind: bytes_list = 1, float_list = 2, int64_list = 3; each list's values are field 1
    if (f.kind === 'bytes') {
      out[at++] = TAG_1;
      at = writeVarint(out, at, list);
      const lengths = p.byteLengths[i]!;
      for (let j = 0; j < f.values.length; j++) {
        const v = f.values[j];
        out[at++] = TAG_1;
        at = writeVarint(out, at, lengths[j]);
        if (typeof v === 'string') at = writeUtf8(out, at, v, lengths[j]);
        else {
          out.set(v, at);
          at += v.byteLength;
        }
      }
    } else if (f.kind === 'float') {
      out[at++] = TAG_2;
      at = writeVarint(out, at, list);
      if (p.payloadSizes[i]) {
        out[at++] = TAG_1;
        at = writeVarint(out, at, p.payloadSizes[i]);
        for (const v of f.values) at = out.writeFloatLE(v, at);
      }
    } else {
      out[at++] = TAG_3;
      at = writeVarint(out, at, list);
      if (p.payloadSizes[i]) {
        out[at++] = TAG_1;
        at = writeVarint(out, at, p.payloadSizes[i]);
        for (const v of p.varints[i]!) at = writeInt64(out, at, v);
      }
    }
  }
  return at;
}

/**
 * A tf.Example's bytes. Features are written in name order, so the same features always give
 * the same bytes (a re-run export is byte-identical). Written straight into one buffer after a
 * pass that sizes every nested message: the same bytes as protobufjs (`encodeExampleReference`)
 * at a fraction of its cost, which was most of an export's time per row. (A TFRecord writer
 * writes prepared examples straight into its chunks: `TfRecordWriter.writeExample`.)
 */
export function encodeExample(features: ExampleFeatures): Uint8Array {
  const prepared = prepareExample(features);
  const out = Buffer.allocUnsafe(prepared.size);
  writeExample(prepared, out, 0);
  return out;
}

/** The features of a tf.Example's bytes: int64 as bigint, float as number, bytes as Uint8Array. */
export function decodeExample(bytes: Uint8Array): ExampleFeatures {
  const message = ExampleType.toObject(ExampleType.decode(bytes), { longs: String, bytes: Array, defaults: false }) as {
    features?: { feature?: Record<string, { int64_list?: { value?: string[] }; float_list?: { value?: number[] }; bytes_list?: { value?: number[][] } }> };
  };
  const out: ExampleFeatures = {};
  for (const [name, f] of Object.entries(message.features?.feature ?? {})) {
    if (f.int64_list) out[name] = { kind: 'int64', values: (f.int64_list.value ?? []).map((v) => BigInt(v)) };
    else if (f.float_list) out[name] = { kind: 'float', values: f.float_list.value ?? [] };
    else if (f.bytes_list) out[name] = { kind: 'bytes', values: (f.bytes_list.value ?? []).map((v) => Uint8Array.from(v)) };
    else throw new Error(`feature ${name} has no value list`);
  }
  return out;
}

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
 * A tf.Example's bytes. Features are written in name order, so the same features always give
 * the same bytes (a re-run export is byte-identical). The message is built in the shape the
 * generated encoder reads (bytes as Uint8Array, int64 as number or Long), so no conversion pass
 * (`fromObject`) runs per example.
 */
export function encodeExample(features: ExampleFeatures): Uint8Array {
  const feature: Record<string, unknown> = {};
  for (const name of Object.keys(features).sort()) {
    const f = features[name];
    if (f.kind === 'int64') feature[name] = { int64_list: { value: f.values.map(toLong) } };
    else if (f.kind === 'float') feature[name] = { float_list: { value: f.values } };
    else feature[name] = { bytes_list: { value: f.values.map((v) => (typeof v === 'string' ? utf8.encode(v) : v)) } };
  }
  return ExampleType.encode({ features: { feature } }).finish();
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

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import {
  decodeExampleListWithContext,
  encodeExample,
  encodeExampleListWithContext,
  encodeExampleReference,
  type ExampleFeatures,
  frameRecord,
  readTfRecordFile,
  TfRecordWriter,
} from './index';

const READER = path.join(__dirname, '../../../test/helpers/read_tfexamples.py');

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const utf8 = new TextEncoder();

/** The features as decodeExample gives them back: int64 as bigint, float as float32, bytes as UTF-8 bytes. */
function decoded(features: ExampleFeatures): ExampleFeatures {
  const out: ExampleFeatures = {};
  for (const [name, f] of Object.entries(features)) {
    if (f.kind === 'int64') out[name] = { kind: 'int64', values: f.values.map((v) => BigInt(v)) };
    else if (f.kind === 'float') out[name] = { kind: 'float', values: f.values.map(Math.fround) };
    else out[name] = { kind: 'bytes', values: f.values.map((v) => (typeof v === 'string' ? utf8.encode(v) : Uint8Array.from(v))) };
  }
  return out;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_MIN_SUBNORMAL = 1.401298464324817e-45;

// a query and its ranked documents, with the extremes of every kind (no NaN or infinities: the
// Python reader prints them as JSON cannot)
const context: ExampleFeatures = {
  query: { kind: 'bytes', values: ['pizza 🍕 near 日本橋', 'héllo'] },
  query_id: { kind: 'int64', values: [INT64_MAX, INT64_MIN, 2 ** 53 - 1, -(2 ** 53 - 1), 0] },
  '🙂 weight': { kind: 'float', values: [0.1, -2.5, FLOAT32_MAX, FLOAT32_MIN_SUBNORMAL, -0] },
};
const examples: ExampleFeatures[] = [
  {
    doc: { kind: 'bytes', values: ['Pizzeria 🙂', ''] },
    relevance: { kind: 'int64', values: [4, -1n] },
    score: { kind: 'float', values: [0.75, 1e-7] },
  },
  // longer than 16,383 bytes: a three-byte length before it
  { doc: { kind: 'bytes', values: ['Taqueria '.repeat(2000)] }, relevance: { kind: 'int64', values: [] } },
  {},
];

describe('ExampleListWithContext', () => {
  it('encodes the bytes protobuf gives for input.proto, examples (field 1) before the context (field 2)', () => {
    const bytes = encodeExampleListWithContext({ q: { kind: 'bytes', values: ['a'] } }, [{ r: { kind: 'int64', values: [1] } }, {}]);
    // prettier-ignore
    const expected = [
      '0a', '0e', //                   examples (1, length-delimited): 14 bytes
      '0a', '0c', //                     Example.features (1): 12 bytes
      '0a', '0a', //                       Features.feature map entry (1): 10 bytes
      '0a', '01', '72', //                   key (1): "r"
      '12', '05', //                         value (2): Feature, 5 bytes
      '1a', '03', //                           int64_list (3): 3 bytes
      '0a', '01', '01', //                       value (1, packed): 1 byte, varint 1
      '0a', '02', //                   examples (1): 2 bytes, the empty example
      '0a', '00', //                     Example.features (1): empty Features
      '12', '0e', //                   context (2, length-delimited): 14 bytes
      '0a', '0c', //                     Example.features (1): 12 bytes
      '0a', '0a', //                       Features.feature map entry (1): 10 bytes
      '0a', '01', '71', //                   key (1): "q"
      '12', '05', //                         value (2): Feature, 5 bytes
      '0a', '03', //                           bytes_list (1): 3 bytes
      '0a', '01', '61', //                       value (1): "a"
    ].join('');
    expect(hex(bytes)).toBe(expected);
  });

  it('writes an empty list as no field 1, and an empty context as an Example with empty Features', () => {
    // context (2): 2 bytes, Example.features (1): 0 bytes
    expect(hex(encodeExampleListWithContext({}, []))).toBe('12020a00');
    expect(decodeExampleListWithContext(encodeExampleListWithContext({}, []))).toEqual({ context: {}, examples: [] });
  });

  it('writes the bytes protobufjs writes for input.proto, with each Example its reference encoding', () => {
    // Example fields as bytes: the same wire format (length-delimited) as the message fields
    const ElwcType = protobuf
      .parse('syntax = "proto3"; message ExampleListWithContext { repeated bytes examples = 1; bytes context = 2; }')
      .root.resolveAll()
      .lookupType('ExampleListWithContext');
    for (const [c, list] of [
      [context, examples],
      [{}, examples],
      [context, []],
      [{}, [{}]],
    ] as const) {
      const reference = ElwcType.encode({ examples: list.map(encodeExampleReference), context: encodeExampleReference(c) }).finish();
      expect(hex(encodeExampleListWithContext(c, list))).toBe(hex(reference));
    }
  });

  it('round-trips the context and the examples in their order, int64 extremes, float32 and UTF-8 included', () => {
    const rawBytes: ExampleFeatures = {
      raw: { kind: 'bytes', values: [new Uint8Array([0, 255, 128])] },
      nan: { kind: 'float', values: [NaN, Infinity, -Infinity] },
    };
    const list = [...examples, rawBytes];
    const back = decodeExampleListWithContext(encodeExampleListWithContext(context, list));
    expect(back).toEqual({ context: decoded(context), examples: list.map(decoded) });
    expect((back.context['🙂 weight'].values as number[])[0]).toBe(Math.fround(0.1));
    expect(back.context.query_id.values.slice(0, 2)).toEqual([INT64_MAX, INT64_MIN]);
  });

  it('gives the same bytes for the same input, whatever the order its features were given in', () => {
    const first = encodeExampleListWithContext(context, examples);
    expect(hex(encodeExampleListWithContext(context, examples))).toBe(hex(first));
    const reordered = (f: ExampleFeatures) => Object.fromEntries(Object.entries(f).reverse());
    expect(hex(encodeExampleListWithContext(reordered(context), examples.map(reordered)))).toBe(hex(first));
    // the list's order is the ranking's: another order is another record
    expect(hex(encodeExampleListWithContext(context, [...examples].reverse()))).not.toBe(hex(first));
  });

  it('reads a context written before the examples, and skips fields it does not know', () => {
    const example = encodeExample({ r: { kind: 'int64', values: [7] } });
    const contextBytes = encodeExample({ q: { kind: 'bytes', values: ['x'] } });
    // context (2), an unknown varint field 3 = 1, then examples (1)
    const bytes = Buffer.concat([Buffer.from([0x12, contextBytes.length]), contextBytes, Buffer.from([0x18, 0x01, 0x0a, example.length]), example]);
    expect(decodeExampleListWithContext(bytes)).toEqual({
      context: { q: { kind: 'bytes', values: [utf8.encode('x')] } },
      examples: [{ r: { kind: 'int64', values: [7n] } }],
    });
  });

  it('refuses a feature name in both the context and an example (input.proto leaves the merge undefined)', () => {
    expect(() => encodeExampleListWithContext({ doc: { kind: 'int64', values: [1] } }, [{}, { doc: { kind: 'int64', values: [2] } }])).toThrow(
      'feature doc is in both the context and example 1',
    );
  });

  it('refuses an int64 it cannot represent, in the context or an example', () => {
    expect(() => encodeExampleListWithContext({ n: { kind: 'int64', values: [2n ** 63n] } }, [])).toThrow(RangeError);
    expect(() => encodeExampleListWithContext({}, [{ n: { kind: 'int64', values: [2 ** 53] } }])).toThrow(RangeError);
  });
});

describe('TFRecord files of ExampleListWithContext, read by the independent Python reader', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfrecord-elwc-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const lists: Array<{ context: ExampleFeatures; examples: ExampleFeatures[] }> = [
    { context, examples },
    { context: {}, examples: [] },
    { context: { query: { kind: 'bytes', values: ['tacos'] } }, examples: [{ relevance: { kind: 'int64', values: [0] } }] },
  ];

  /** The JSON the reader prints for a list: int64 as bigint, float as float32, bytes as text. */
  function readerJson(features: ExampleFeatures): Record<string, unknown[]> {
    const text = new TextDecoder();
    return Object.fromEntries(
      Object.entries(features).map(([name, f]) => [
        name,
        f.kind === 'int64'
          ? f.values.map((v) => BigInt(v))
          : f.kind === 'float'
            ? f.values.map(Math.fround)
            : f.values.map((v) => (typeof v === 'string' ? v : text.decode(v))),
      ]),
    );
  }

  /** Runs the reader with --elwc; integers are kept exact (JSON.parse would round those beyond 2^53). */
  function readElwc(file: string): unknown[] {
    const output = execFileSync('python3', [READER, '--elwc', file], { encoding: 'utf8' });
    return output
      .trimEnd()
      .split('\n')
      .map((line) =>
        JSON.parse(
          line.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (token) => (/^-?\d+$/.test(token) ? `{"int64":"${token}"}` : token)),
          (_key, value) => (value !== null && typeof value === 'object' && typeof value.int64 === 'string' ? BigInt(value.int64) : value),
        ),
      );
  }

  const expected = lists.map((list) => ({ context: readerJson(list.context), examples: list.examples.map(readerJson) }));

  it('reads back a GZIP file written by TfRecordWriter', async () => {
    const writer = new TfRecordWriter(path.join(dir, 'ranking.tfrecord.gz'));
    for (const list of lists) await writer.write(encodeExampleListWithContext(list.context, list.examples));
    const file = await writer.close();
    expect(file.records).toBe(lists.length);
    expect(readElwc(file.path)).toEqual(expected);
    const back = [];
    for await (const record of readTfRecordFile(file.path)) back.push(decodeExampleListWithContext(record));
    expect(back).toEqual(lists.map((list) => ({ context: decoded(list.context), examples: list.examples.map(decoded) })));
  });

  it('reads back an uncompressed file of framed records', () => {
    const file = path.join(dir, 'ranking.tfrecord');
    fs.writeFileSync(file, Buffer.concat(lists.map((list) => frameRecord(encodeExampleListWithContext(list.context, list.examples)))));
    expect(readElwc(file)).toEqual(expected);
  });
});

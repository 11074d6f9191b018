import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  CorruptRecordError,
  decodeExample,
  encodeExample,
  encodeExampleReference,
  type ExampleFeatures,
  frameRecord,
  maskCrc,
  maskedCrc32c,
  maskedCrc32cOfFew,
  readTfRecordFile,
  TfRecordWriter,
  unframeRecords,
  unmaskCrc,
} from './index';

describe('CRC-32C and its mask', () => {
  it('is CRC-32C (the Castagnoli check value of "123456789" is 0xe3069283)', () => {
    expect(crc32c(Buffer.from('123456789')) >>> 0).toBe(0xe3069283);
  });

  it('computes the few bytes of a length as the library computes them', () => {
    expect(maskedCrc32cOfFew(Buffer.from('123456789'), 0, 9)).toBe(maskCrc(0xe3069283));
    const bytes = Buffer.alloc(8);
    for (const length of [0, 1, 5, 255, 256, 65_535, 1 << 20, 0x7fffffff, 0xffffffff]) {
      bytes.writeUInt32LE(length, 0);
      expect(maskedCrc32cOfFew(bytes, 0, 8)).toBe(maskCrc(crc32c(bytes) >>> 0));
      // a typed array that is not a Buffer, and a Buffer inside a larger one, go to the library as the same bytes
      expect(maskedCrc32c(new Uint8Array(bytes))).toBe(maskedCrc32cOfFew(bytes, 0, 8));
      expect(maskedCrc32c(Buffer.concat([Buffer.from([9, 9]), bytes]).subarray(2))).toBe(maskedCrc32cOfFew(bytes, 0, 8));
    }
  });

  it.each([0, 1, 0xe3069283, 0xffffffff, 0x12345678])('masks %d as TensorFlow does, and unmasks it back', (crc) => {
    const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
    expect(maskCrc(crc)).toBe((rotated + 0xa282ead8) % 2 ** 32);
    expect(unmaskCrc(maskCrc(crc))).toBe(crc);
  });
});

describe('TFRecord framing', () => {
  it('writes length, its masked CRC, the data and its masked CRC, little-endian', () => {
    const data = Buffer.from('hello');
    const record = frameRecord(data);
    expect(record.length).toBe(8 + 4 + 5 + 4);
    expect(record.readBigUInt64LE(0)).toBe(5n);
    expect(record.readUInt32LE(8)).toBe(maskCrc(crc32c(record.subarray(0, 8)) >>> 0));
    expect(record.subarray(12, 17).toString()).toBe('hello');
    expect(record.readUInt32LE(17)).toBe(maskCrc(crc32c(data) >>> 0));
  });

  it('reads records back, keeps an incomplete tail, and refuses a bad checksum', () => {
    const bytes = Buffer.concat([frameRecord(Buffer.from('a')), frameRecord(Buffer.from('')), frameRecord(Buffer.from('bcd'))]);
    const { records, rest } = unframeRecords(Buffer.concat([bytes, bytes.subarray(0, 5)]));
    expect(records.map((r) => r.toString())).toEqual(['a', '', 'bcd']);
    expect(rest.length).toBe(5);
    const flipped = Buffer.from(bytes);
    flipped[12] ^= 1;
    expect(() => unframeRecords(flipped)).toThrow(CorruptRecordError);
    const badLength = Buffer.from(bytes);
    badLength[0] ^= 1;
    expect(() => unframeRecords(badLength)).toThrow('the length checksum does not match');
  });
});

describe('tf.Example', () => {
  it('encodes the bytes protobuf gives for TensorFlow’s messages', () => {
    // Example{features{feature{"a": Feature{int64_list{value: [1]}}}}}, by hand from the wire format
    expect(Buffer.from(encodeExample({ a: { kind: 'int64', values: [1] } })).toString('hex')).toBe('0a0c0a0a0a0161120' + '51a030a0101');
  });

  it('writes the very bytes protobufjs writes from the .proto, over a thousand random examples and the edge cases', () => {
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
    // around the ASCII fast path's edges: the last ASCII unit and the first past it, 64 and 65 units
    const strings = [
      '',
      'a',
      'héllo wörld',
      '日本語',
      'x'.repeat(200),
      'emoji 🙂',
      '\u0000nul',
      'del\u007f',
      '\u0080',
      'x'.repeat(64),
      'x'.repeat(65),
      'ü'.repeat(40),
    ];
    const ints = [0, 1, -1, 127, 128, 16_383, 16_384, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 63n - 1n, -(2n ** 63n), 300n];
    const floats = [0, -0, 1.5, -2.25, 0.1, 3.4e38, 1e-45, Infinity, -Infinity];
    const examples: ExampleFeatures[] = [
      {},
      { e: { kind: 'int64', values: [] } },
      { e: { kind: 'float', values: [] } },
      { e: { kind: 'bytes', values: [] } },
      { e: { kind: 'bytes', values: [''] } },
    ];
    for (let i = 0; i < 1000; i++) {
      const example: ExampleFeatures = {};
      const count = Math.floor(next() * 12);
      for (let f = 0; f < count; f++) {
        const name = pick(['label', 'weight', 'text', 'n', 'é', 'a'.repeat(130), 'b'.repeat(64), `f${f}`]);
        const length = Math.floor(next() * 5);
        const kind = pick(['int64', 'float', 'bytes'] as const);
        if (kind === 'int64') example[name] = { kind, values: Array.from({ length }, () => pick(ints)) };
        else if (kind === 'float') example[name] = { kind, values: Array.from({ length }, () => pick(floats)) };
        else
          example[name] = { kind, values: Array.from({ length }, () => (next() < 0.2 ? new Uint8Array([0, 255, Math.floor(next() * 256)]) : pick(strings))) };
      }
      examples.push(example);
      // the same names again, other values, then the names in another order (the sorted names are kept from one example to the next)
      if (i % 10 === 0) {
        const again: ExampleFeatures = {};
        for (const name of Object.keys(example)) again[name] = { kind: 'bytes', values: [pick(strings)] };
        const reversed: ExampleFeatures = {};
        for (const name of Object.keys(example).reverse()) reversed[name] = { kind: 'int64', values: [pick(ints)] };
        examples.push(again, again, reversed, again);
      }
    }
    for (const example of examples)
      expect(Buffer.from(encodeExample(example)).toString('hex')).toBe(Buffer.from(encodeExampleReference(example)).toString('hex'));
  });

  it('writes an example straight into a TFRecord file exactly as framing its encoded bytes would', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfrecord-direct-'));
    try {
      const examples = Array.from({ length: 3000 }, (_, i) => ({
        n: { kind: 'int64', values: [i, -i] },
        text: { kind: 'bytes', values: ['x'.repeat(i % 300)] },
      }));
      const direct = new TfRecordWriter(path.join(dir, 'direct.gz'));
      const framed = new TfRecordWriter(path.join(dir, 'framed.gz'));
      for (const example of examples) {
        await direct.writeExample(example);
        await framed.write(encodeExample(example));
      }
      const [a, b] = await Promise.all([direct.close(), framed.close()]);
      expect(a.sha256).toBe(b.sha256);
      expect(a.records).toBe(3000);
      let i = 0;
      for await (const record of readTfRecordFile(a.path)) expect(decodeExample(record).n).toEqual({ kind: 'int64', values: [BigInt(i), BigInt(-i++)] });
      expect(i).toBe(3000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an int64 it cannot represent', () => {
    expect(() => encodeExample({ n: { kind: 'int64', values: [2 ** 53] } })).toThrow(/not a safe integer/);
    expect(() => encodeExample({ n: { kind: 'int64', values: [2n ** 63n] } })).toThrow(/out of range/);
  });

  it('round-trips every kind, with features in name order whatever the input order', () => {
    const features = {
      text: { kind: 'bytes', values: ['héllo', new Uint8Array([0, 255])] },
      label: { kind: 'int64', values: [2, -5n, 2n ** 62n] },
      weight: { kind: 'float', values: [0.5, -1.25] },
    } as const;
    const bytes = encodeExample(features);
    expect(encodeExample({ weight: features.weight, label: features.label, text: features.text })).toEqual(bytes);
    const back = decodeExample(bytes);
    expect(back.label).toEqual({ kind: 'int64', values: [2n, -5n, 2n ** 62n] });
    expect(back.weight).toEqual({ kind: 'float', values: [0.5, -1.25] });
    expect(back.text.kind).toBe('bytes');
    const texts = (back.text.values as Uint8Array[]).map((v) => Buffer.from(v));
    expect(texts[0].toString()).toBe('héllo');
    expect([...texts[1]]).toEqual([0, 255]);
  });

  it('refuses an int64 it cannot represent exactly', () => {
    expect(() => encodeExample({ n: { kind: 'int64', values: [2 ** 60] } })).toThrow(RangeError);
  });
});

describe('GZIP TFRecord files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfrecord-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function write(name: string, count: number) {
    const writer = new TfRecordWriter(path.join(dir, name));
    for (let i = 0; i < count; i++)
      await writer.write(encodeExample({ id: { kind: 'int64', values: [i] }, text: { kind: 'bytes', values: [`row ${i} `.repeat(i % 7)] } }));
    return writer.close();
  }

  it('writes, hashes and reads back 20,000 records, and the same records give the same bytes', async () => {
    const first = await write('a.gz', 20_000);
    const second = await write('b.gz', 20_000);
    expect(first.records).toBe(20_000);
    expect(first.sha256).toBe(second.sha256);
    expect(fs.readFileSync(first.path)).toEqual(fs.readFileSync(second.path));
    expect(first.bytes).toBe(fs.statSync(first.path).size);
    let n = 0;
    for await (const record of readTfRecordFile(first.path)) {
      const example = decodeExample(record);
      expect(example.id.values[0]).toBe(BigInt(n));
      n++;
    }
    expect(n).toBe(20_000);
  });

  it('keeps every record intact over many chunks (chunks gzip has read are written again)', async () => {
    // about 24 chunks of 256 KiB: each record distinct, so a chunk reused too early would show
    const text = (i: number) => `${i}:`.padEnd(2_000 + (i % 97), String.fromCharCode(97 + (i % 26)));
    const writer = new TfRecordWriter(path.join(dir, 'chunks.gz'));
    for (let i = 0; i < 3_000; i++) await writer.writeExample({ id: { kind: 'int64', values: [i] }, text: { kind: 'bytes', values: [text(i)] } });
    await writer.close();
    let n = 0;
    for await (const record of readTfRecordFile(path.join(dir, 'chunks.gz'))) {
      const example = decodeExample(record);
      expect(example.id.values[0]).toBe(BigInt(n));
      expect(Buffer.from(example.text.values[0] as Uint8Array).toString()).toBe(text(n));
      n++;
    }
    expect(n).toBe(3_000);
  });

  it('never overwrites a file', async () => {
    await write('c.gz', 1);
    const writer = new TfRecordWriter(path.join(dir, 'c.gz'));
    await expect(writer.close()).rejects.toThrow(/EEXIST/);
  });
});

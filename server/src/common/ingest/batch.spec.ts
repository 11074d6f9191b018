import { Readable } from 'node:stream';
import { readNdjson, StreamTooLargeError, type NdjsonLine } from './batch';

async function lines(chunks: Array<string | Buffer>, maxBytes = 1 << 20): Promise<NdjsonLine[]> {
  const read: NdjsonLine[] = [];
  for await (const line of readNdjson(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), maxBytes)) read.push(line);
  return read;
}
const values = (read: NdjsonLine[]) => read.map((line) => ('value' in line ? line.value : line.rejection.code));

describe('readNdjson: lines as NDJSON splits them', () => {
  it('ends a line at \\n alone: U+2028 and U+2029 are text inside a string', async () => {
    const text = `{"t":"a\u2028b"}\n{"t":"c\u2029d"}\n`;
    expect(values(await lines([text]))).toEqual([{ t: 'a\u2028b' }, { t: 'c\u2029d' }]);
  });

  it('takes \\r\\n, a missing final newline, blank lines, and a byte order mark at the start', async () => {
    expect(values(await lines(['\ufeff{"a":1}\r\n', '\r\n  \n{"a":2}']))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('joins a line cut across chunks, even inside a multi-byte character', async () => {
    const bytes = Buffer.from('{"t":"été 🙂"}\n{"t":"x"}\n');
    const read = await lines([bytes.subarray(0, 8), bytes.subarray(8, 13), bytes.subarray(13)]);
    expect(values(read)).toEqual([{ t: 'été 🙂' }, { t: 'x' }]);
  });

  it('refuses a line that is not UTF-8 (it would be stored with U+FFFD), and counts it', async () => {
    const read = await lines([Buffer.concat([Buffer.from('{"t":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"t":"b"}\nnot json\n')])]);
    expect(read.map((line) => line.index)).toEqual([0, 1, 2]);
    expect(values(read)).toEqual(['validation/invalid_text', { t: 'b' }, 'http/invalid_json']);
  });

  it('stops a stream past its byte limit', async () => {
    await expect(lines(['{"a":1}\n'.repeat(10), '{"a":2}\n'.repeat(10)], 100)).rejects.toBeInstanceOf(StreamTooLargeError);
  });
});

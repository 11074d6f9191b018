import { encodeCopyRows } from './prediction-copy-text';
import type { PredictionRow } from './prediction-validation';

const projectId = '11111111-1111-4111-8111-111111111111';

type Row = PredictionRow & { uncertainty: number };

function row(overrides: Partial<Row> = {}): Row {
  return {
    uncertainty: 0.3,
    id: '0f8b1c52-4d2e-4a8e-9c1e-2b7f0d9a6e31',
    externalId: null,
    modelName: 'mail-filter',
    modelVersion: '2.3.1',
    input: { subject: 'hi', length: 2, tags: ['a', 'b'], urgent: false },
    scores: { ham: 0.7, spam: 0.3 },
    predictedLabel: 'ham',
    confidence: 0.7,
    slice: { country: 'FR' },
    metadata: null,
    suggestions: null,
    committee: null,
    embedding: null,
    routingOutput: undefined,
    occurredAt: new Date('2026-11-26T10:00:00.000Z'),
    ...overrides,
  };
}

/** COPY's text format, read back: a line per row, tab-separated, backslash escapes, \N for null. */
function decode(text: string): Array<Array<string | null>> {
  const unescape = (field: string) => (field === '\\N' ? null : field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c));
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => line.split('\t').map(unescape));
}

const text = (rows: Row[]) => {
  const copy = encodeCopyRows(projectId, rows);
  const decoded = copy.bytes.toString('utf8');
  copy.release();
  return decoded;
};

describe('encodeCopyRows', () => {
  it('writes the columns in insert order, with null metadata and suggestions as \\N', () => {
    expect(decode(text([row()]))).toEqual([
      [
        projectId,
        row().id,
        'mail-filter',
        '2.3.1',
        JSON.stringify(row().input),
        '{"ham":0.7,"spam":0.3}',
        'ham',
        '0.7',
        '{"country":"FR"}',
        null,
        '2026-11-26T10:00:00.000Z',
        '0.3',
        null,
        // occurred_on: the partition's day, UTC
        '2026-11-26',
        // committee, embedding, external_id
        null,
        null,
        null,
      ],
    ]);
  });

  it.each([
    ['tabs, newlines and backslashes in a model name', row({ modelName: 'a\tb\nc\rd\\e' })],
    ['a label with a backslash', row({ predictedLabel: 'x\\y', scores: { 'x\\y': 1 } })],
    ['features with quotes, backslashes and control characters', row({ input: { path: 'C:\\temp\\"x"', text: 'line 1\nline 2\ttab\r', unicode: 'été ☃ 🚀' } })],
    ['a feature that is just a backslash', row({ input: { s: '\\' } })],
    ['a feature that looks like COPY escapes', row({ input: { s: '\\N', t: '\\.' } })],
    ['metadata', row({ metadata: { trace: 'a\\b', nested: { list: [1, null, 'x\ty'] } } })],
    ['a caller’s id with backslashes and what looks like COPY escapes', row({ externalId: 'req\\N\\.\\t\\' })],
  ])('round-trips %s', (_name, value) => {
    const [fields] = decode(text([value]));
    expect(fields[16]).toBe(value.externalId);
    expect(fields[2]).toBe(value.modelName);
    expect(JSON.parse(fields[4]!)).toEqual(value.input);
    expect(JSON.parse(fields[5]!)).toEqual(value.scores);
    expect(fields[6]).toBe(value.predictedLabel);
    expect(fields[9] === null ? null : JSON.parse(fields[9])).toEqual(value.metadata);
  });

  it('keeps every row of a batch larger than its buffer, in order, and a released buffer serves the next batch intact', () => {
    const rows = Array.from({ length: 6_000 }, (_, i) =>
      row({ id: `0f8b1c52-4d2e-4a8e-9c1e-${String(i).padStart(12, '0')}`, input: { text: `é ☃ 🚀 ${'x'.repeat(i % 100)}` } }),
    );
    const large = encodeCopyRows(projectId, rows);
    expect(large.bytes.length).toBeGreaterThan(1 << 20);
    const decoded = decode(large.bytes.toString('utf8'));
    expect(decoded.map((fields) => fields[1])).toEqual(rows.map((r) => r.id));
    expect(decoded.map((fields) => JSON.parse(fields[4]!))).toEqual(rows.map((r) => r.input));
    large.release();
    const small = text([row({ modelName: 'second' })]);
    expect(decode(small)).toHaveLength(1);
    expect(decode(small)[0][2]).toBe('second');
  });

  it('does not hand out a buffer that is still held', () => {
    const first = encodeCopyRows(projectId, [row({ modelName: 'first' })]);
    const second = encodeCopyRows(projectId, [row({ modelName: 'second' })]);
    expect(decode(first.bytes.toString('utf8'))[0][2]).toBe('first');
    first.release();
    first.release(); // twice is once
    const third = encodeCopyRows(projectId, [row({ modelName: 'third' })]);
    const fourth = encodeCopyRows(projectId, [row({ modelName: 'fourth' })]);
    expect(third.bytes.buffer).not.toBe(fourth.bytes.buffer);
    expect([third.bytes.buffer, fourth.bytes.buffer]).not.toContain(second.bytes.buffer);
    expect(decode(second.bytes.toString('utf8'))[0][2]).toBe('second');
    for (const copy of [second, third, fourth]) copy.release();
  });
});

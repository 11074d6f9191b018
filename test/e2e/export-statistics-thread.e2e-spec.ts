import * as path from 'node:path';
import { legacyQuestions } from '@backflow/questions';
import { valuesOf, ValueTally, type FeatureSpec } from '../../server/src/exports/example-row';
import { spanStatistics, type StatisticsWork } from '../../server/src/exports/span-statistics';
import { maskedPaths, maskInput } from '../../server/src/exports/masking';
import { parseSpanRow } from '../../server/src/exports/span-rows';
import { splitOf } from '../../server/src/exports/split';

// the compiled worker (`npm test` builds before it runs): the thread the export starts
const WORKER = path.join(__dirname, '..', '..', 'server', 'dist', 'exports', 'statistics-worker.js');

const questions = legacyQuestions([{ name: 'ham' }, { name: 'spam' }]);
const features: FeatureSpec[] = [
  { name: 'email', type: 'bytes' },
  { name: 'score', type: 'float' },
  { name: 'subject', type: 'bytes' },
  { name: 'tokens', type: 'bytes' },
];
const work: StatisticsWork = {
  questions,
  routingQuestion: questions[0].name,
  features,
  masking: { policy: 'hash', fields: ['email'], key: Buffer.from('a project key') },
  trainPercent: 80,
  float32: true,
};

/** A row as COPY prints the span's rows query: tabs between columns, `\N` for null, backslash escapes. */
const line = (i: number) =>
  [
    `p-${i}`,
    i % 3 ? 'ham' : 'spam',
    JSON.stringify({ label: i % 3 ? 'ham' : 'spam' }),
    'feedback',
    '\\N',
    '1',
    '1',
    // jsonb text as COPY prints it: every backslash doubled (the JSON escapes of a tab, a newline and a backslash)
    JSON.stringify({ email: `p${i % 7}@example.com`, score: i / 7, subject: `s${i}\twith\nbreaks \\ é`, tokens: i % 4 ? ['a', `t${i % 5}`] : [] }).replace(
      /\\/g,
      '\\\\',
    ),
    'm',
    // a tab in a text column: COPY's \t
    `v${i % 2}\\tb`,
    String((i * 37) % 100),
    '\\N',
  ].join('\t');

async function counted(lines: string[], onThread: boolean) {
  const statistics = spanStatistics(work, onThread, WORKER);
  const tally = new ValueTally(features.length);
  const masking = { ...work.masking, key: Buffer.from(work.masking.key) };
  for (const text of lines) {
    const row = { ...parseSpanRow(text), line: text };
    maskInput(row.input, maskedPaths(masking), masking);
    const waited = statistics.add(row, splitOf(row.bucket, work.trainPercent), valuesOf(row, features, tally));
    if (waited) await waited;
  }
  const result = await statistics.finish();
  return { train: result.result('train'), eval: result.result('eval'), summary: result.summary() };
}

describe("an export's statistics on a worker thread", () => {
  it('are those counted on the export’s own thread, over lines COPY escaped, sent in many batches', async () => {
    const lines = Array.from({ length: 45_000 }, (_, i) => line(i));
    const [threaded, inPlace] = await Promise.all([counted(lines, true), counted(lines, false)]);
    expect(threaded).toEqual(inPlace);
    expect(threaded.train.num_examples! + threaded.eval.num_examples!).toBe(45_000);
    // masked as exported: the hashes were counted, not the addresses
    expect(JSON.stringify(threaded)).not.toContain('@example.com');
    expect(JSON.stringify(threaded)).toContain('with\\nbreaks \\\\ é');
  });

  it('fails the export when the worker cannot read a row, and stops when the export stops', async () => {
    const broken = spanStatistics(work, true, WORKER);
    // one line is no batch yet: no promise to wait for
    expect(broken.add({ ...parseSpanRow(line(1)), line: 'not a COPY row' }, 'train', [])).toBeUndefined();
    await expect(broken.finish()).rejects.toThrow(/export statistics: COPY row has 1 fields, expected 12/);
    await broken.abort();

    const stopped = spanStatistics(work, true, WORKER);
    expect(stopped.add({ ...parseSpanRow(line(2)), line: line(2) }, 'train', [])).toBeUndefined();
    await stopped.abort();
    expect(() => stopped.add({ ...parseSpanRow(line(3)), line: line(3) }, 'train', [])).toThrow(/the export stopped/);
    await expect(stopped.finish()).rejects.toThrow(/the export stopped/);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from '../../server/src/common/storage/local-store';
import { archivePredictions, readArchived, type ArchivedPrediction } from '../../server/src/predictions/prediction-archive';

// the compiled worker (`npm test` builds before it runs): the thread retention's archive starts
const WORKER = path.join(__dirname, '..', '..', 'server', 'dist', 'predictions', 'archive-worker.js');
// no such file: the rows are encoded on the calling thread, as under Jest's TypeScript sources
const IN_PLACE = path.join(__dirname, 'no-archive-worker.js');

/** A prediction as retention's cursor reads it, on the `day`th of three days, with every optional column filled or empty by turns. */
const row = (i: number, day: number): ArchivedPrediction => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  model_name: 'runs',
  model_version: `v${i % 3}`,
  // the largest exact integer, a long id as text (capture refuses an integer JSON cannot hold), and text with a tab, a
  // newline and a non-ASCII letter, as PostgreSQL's jsonb text holds them
  input: `{"n": 9007199254740991, "account": "12345678901234567890", "note": "a\\tb\\nc é ${i}"}`,
  scores: `{"run": ${(i % 97) / 97}, "skip": ${1 - (i % 97) / 97}}`,
  predicted_label: i % 2 ? 'run' : 'skip',
  confidence: 0.5 + (i % 50) / 100,
  slice: `{"region": "r${i % 4}"}`,
  metadata: i % 5 ? null : `{"request": "q${i}"}`,
  occurred_at: BigInt(Date.UTC(2026, 10, 1 + day)) * 1000n + BigInt(i) * 1_000_001n,
  received_at: 9_007_199_254_740_993n + BigInt(i),
  uncertainty: i % 7 ? 1 - (0.5 + (i % 50) / 100) : null,
  suggestions: i % 11 ? null : '[{"label": "run"}]',
  committee: i % 13 ? null : '{"a": "run"}',
  embedding: i % 3 ? null : '[0.1,-2.5,3]',
  external_id: i % 17 ? null : `caller-${i}`,
  occurred_on: `2026-11-0${1 + day}`,
});

// three days of 4,000 rows each, sent in batches of 700 that straddle the days (a Parquet row group is 4,096 rows)
const ROWS = Array.from({ length: 12_000 }, (_, i) => row(i, Math.floor(i / 4_000)));

async function* batches(rows: readonly ArchivedPrediction[], size: number, failAfter?: number): AsyncGenerator<ArchivedPrediction[]> {
  for (let at = 0; at < rows.length; at += size) {
    // as a cursor: each batch a turn of the event loop later
    await new Promise((resolve) => setImmediate(resolve));
    if (failAfter !== undefined && at >= failAfter) throw new Error('the cursor broke');
    yield rows.slice(at, at + size);
  }
}

describe("retention's archive on a worker thread", () => {
  let root: string;
  let temporary: string;
  const previousTmp = process.env.TMPDIR;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-archive-thread-'));
    // the archive's working files go here: a failure must leave none
    temporary = path.join(root, 'tmp');
    fs.mkdirSync(temporary);
    process.env.TMPDIR = temporary;
  });

  afterEach(() => {
    process.env.TMPDIR = previousTmp;
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes the same files, byte for byte, as encoding on the calling thread, and they read back as sent', async () => {
    expect(fs.existsSync(WORKER)).toBe(true);
    const threaded = new LocalStore(path.join(root, 'threaded'));
    const inPlace = new LocalStore(path.join(root, 'in-place'));
    const [threadKeys, inPlaceKeys] = await Promise.all([
      archivePredictions(threaded, 'runs', 'p_20261101', batches(ROWS, 700), WORKER),
      archivePredictions(inPlace, 'runs', 'p_20261101', batches(ROWS, 700), IN_PLACE),
    ]);
    expect(threadKeys).toEqual([
      'runs/date=2026-11-01/part-p_20261101.parquet',
      'runs/date=2026-11-02/part-p_20261101.parquet',
      'runs/date=2026-11-03/part-p_20261101.parquet',
    ]);
    expect(inPlaceKeys).toEqual(threadKeys);
    for (const key of threadKeys) expect(fs.readFileSync(threaded.location(key)).equals(fs.readFileSync(inPlace.location(key)))).toBe(true);

    const back = [];
    for (const key of threadKeys) for await (const rows of readArchived(threaded, key, 1_000)) back.push(...rows);
    expect(back).toHaveLength(ROWS.length);
    expect(back.map((r) => r.id)).toEqual(ROWS.map((r) => r.id));
    expect(back[4_001]).toMatchObject({
      modelVersion: 'v2',
      slice: { region: 'r1' },
      input: { n: 9007199254740991, account: '12345678901234567890', note: 'a\tb\nc é 4001' },
      externalId: null,
      // a second and a microsecond a row after the day's midnight (a Date holds the milliseconds of it)
      occurredAt: new Date(Date.UTC(2026, 10, 2) + Math.floor((4_001 * 1_000_001) / 1_000)),
    });
    expect(back[0]).toMatchObject({ embedding: [0.1, -2.5, 3], committee: { a: 'run' }, suggestions: [{ label: 'run' }], metadata: { request: 'q0' } });
    expect(fs.readdirSync(temporary)).toEqual([]);
  });

  it('fails on rows out of day order, storing nothing, and leaves no working file behind', async () => {
    const store = new LocalStore(path.join(root, 'store'));
    const shuffled = [...ROWS.slice(4_000, 8_000), ...ROWS.slice(0, 10)];
    await expect(archivePredictions(store, 'runs', 'p', batches(shuffled, 700), WORKER)).rejects.toThrow(
      /archive: archive rows out of day order: 2026-11-01 after 2026-11-02/,
    );
    // the day being written when the bad row came is not stored: it was not whole
    expect(await store.list('runs')).toEqual([]);
    expect(fs.readdirSync(temporary)).toEqual([]);
  });

  it('stops its worker and lets the error through when reading the rows fails while a batch is being encoded', async () => {
    const store = new LocalStore(path.join(root, 'store'));
    await expect(archivePredictions(store, 'runs', 'p', batches(ROWS, 700, 5_000), WORKER)).rejects.toThrow('the cursor broke');
    expect(fs.readdirSync(temporary)).toEqual([]);
  });
});

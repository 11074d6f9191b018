// Retention's archive and the server's event loop (issue 22, item 6): a day of 100,000 predictions written to Parquet
// by the built server's own code, on its worker thread and, as the baseline of the same run, on the calling thread.
// The figure is the longest the event loop waited meanwhile (what a capture request would have waited behind it),
// with the wall time and the process's CPU for the same day. Three rounds, each encoding both ways; the median. What is
// left on the server's thread is copying each batch of 2,000 rows into a message (posting 250 at a time was tried: the
// longest wait went from 20 to 17 ms, inside the noise).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { root } from './lib.mjs';

const require = createRequire(import.meta.url);
const { archivePredictions } = require(path.join(root, 'server/dist/predictions/prediction-archive.js'));
const { LocalStore } = require(path.join(root, 'server/dist/common/storage/local-store.js'));

const ROWS = Number(process.env.BENCH_ARCHIVE_ROWS ?? 100_000);
// as retention reads them: a cursor's batch of 2,000 at a time
const BATCH = 2_000;
const ROUNDS = 3;
const WORKER = path.join(root, 'server/dist/predictions/archive-worker.js');
const DAY_US = BigInt(Date.UTC(2026, 10, 1)) * 1000n;

/** A prediction of the running-route recommender as retention's cursor reads it (JSON columns as text, times in µs). */
const row = (i) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  model_name: 'recommender',
  model_version: `v${i % 3}`,
  input: JSON.stringify({
    user: `u${i % 5000}`,
    town: ['Bern', 'Zürich', 'Basel', 'Lausanne'][i % 4],
    distance_km: (i % 42) + 0.5,
    pace_s_per_km: 300 + (i % 120),
    history: [i % 7, i % 11, i % 13],
    route: `loop ${i % 900} by the lake, ${i % 17} hills`,
  }),
  scores: JSON.stringify({ click: (i % 97) / 97, skip: 1 - (i % 97) / 97 }),
  predicted_label: i % 2 ? 'click' : 'skip',
  confidence: 0.5 + (i % 50) / 100,
  slice: JSON.stringify({ region: `r${i % 4}`, cohort: `c${i % 9}` }),
  metadata: null,
  occurred_at: DAY_US + BigInt(i) * 800_000n,
  received_at: DAY_US + BigInt(i) * 800_001n,
  uncertainty: 0.5 - (i % 50) / 100,
  suggestions: null,
  committee: null,
  embedding: null,
  external_id: null,
  occurred_on: '2026-11-01',
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function encode(rows, workerFile) {
  async function* batches() {
    for (let at = 0; at < rows.length; at += BATCH) {
      // a cursor's read: the next batch a turn of the event loop later
      await new Promise((resolve) => setImmediate(resolve));
      yield rows.slice(at, at + BATCH);
    }
  }
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-bench-archive-'));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  try {
    delay.enable();
    const cpu = process.cpuUsage();
    const began = performance.now();
    await archivePredictions(new LocalStore(directory), 'bench', 'p', batches(), workerFile);
    const seconds = (performance.now() - began) / 1000;
    const used = process.cpuUsage(cpu);
    delay.disable();
    return { maxMs: delay.max / 1e6, meanMs: delay.mean / 1e6, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

export async function run(log) {
  if (!fs.existsSync(WORKER)) throw new Error(`${WORKER} is missing: build the server first (npm run build)`);
  const rows = Array.from({ length: ROWS }, (_, i) => row(i));
  const inPlace = [];
  const thread = [];
  for (let round = 0; round < ROUNDS; round++) {
    // (no such file: encoded on the calling thread, as the server did before the worker)
    inPlace.push(await encode(rows, path.join(os.tmpdir(), 'no-archive-worker.js')));
    thread.push(await encode(rows, WORKER));
    const [a, b] = [inPlace.at(-1), thread.at(-1)];
    log(
      `round ${round}: in place ${a.seconds.toFixed(2)} s, event loop waited up to ${a.maxMs.toFixed(0)} ms (mean ${a.meanMs.toFixed(1)}), CPU ${a.cpuSeconds.toFixed(2)} s; ` +
        `worker ${b.seconds.toFixed(2)} s, up to ${b.maxMs.toFixed(0)} ms (mean ${b.meanMs.toFixed(1)}), CPU ${b.cpuSeconds.toFixed(2)} s`,
    );
  }
  const of = (runs, key) => median(runs.map((r) => r[key]));
  const day = `a day of ${ROWS.toLocaleString('en-US')}`;
  return [
    {
      figure: `archive: longest event-loop wait while ${day} is encoded`,
      value: of(thread, 'maxMs'),
      unit: 'ms',
      baseline: 'the same, encoded on the calling thread',
      baselineValue: of(inPlace, 'maxMs'),
    },
    {
      figure: `archive: wall time for ${day}`,
      value: of(thread, 'seconds'),
      unit: 's',
      baseline: 'the same, encoded on the calling thread',
      baselineValue: of(inPlace, 'seconds'),
    },
    {
      figure: `archive: process CPU for ${day}`,
      value: of(thread, 'cpuSeconds'),
      unit: 's',
      baseline: 'the same, encoded on the calling thread',
      baselineValue: of(inPlace, 'cpuSeconds'),
    },
  ];
}

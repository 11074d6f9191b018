// Capture throughput: HTTP batch ingest against raw COPY into the same table, the server's CPU per
// batch-ingested prediction against a bare Fastify + COPY handler's, and single-prediction ingest
// against a bare Fastify + pg handler, in one run on one database.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { ADMIN, api, copyRow, cpuSecondsOf, freePort, postgresCpuSeconds, prediction, root, setUpProject, startDatabase, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Pool } = require('pg');
const { from: copyFrom } = require('pg-copy-streams');
const autocannon = require('autocannon');

const BATCH = 1_000;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 30); // per round: two rounds of each
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const SINGLE_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 16;

async function inParallel(items, workers, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function batchIngest(url, headers, make = prediction) {
  const bodies = Array.from({ length: BATCHES }, () => JSON.stringify(Array.from({ length: BATCH }, make)));
  const warmup = Array.from({ length: 4 }, () => JSON.stringify(Array.from({ length: BATCH }, make)));
  const send = async (body) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const reply = await response.json();
    if (reply.accepted !== BATCH) throw new Error(`batch not accepted: ${JSON.stringify(reply).slice(0, 200)}`);
  };
  await inParallel(warmup, WORKERS, send);
  const started = process.hrtime.bigint();
  await inParallel(bodies, WORKERS, send);
  return (BATCHES * BATCH) / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function rawCopy(databaseUrl, projectId) {
  const pool = new Pool({ connectionString: databaseUrl, max: WORKERS });
  pool.on('error', () => undefined);
  // the partitions the server would make for these days (its own ingest makes them as it goes)
  await pool.query(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date - 1], false)`, [
    projectId,
  ]);
  const payload = () => Array.from({ length: BATCH }, () => copyRow(projectId, prediction())).join('');
  const payloads = Array.from({ length: BATCHES }, payload);
  const warmup = Array.from({ length: 4 }, payload);
  const copy = async (payload) => {
    const client = await pool.connect();
    try {
      const stream = client.query(
        copyFrom(
          `COPY predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at, occurred_on) FROM STDIN`,
        ),
      );
      await pipeline(Readable.from([payload]), stream);
    } finally {
      client.release();
    }
  };
  await inParallel(warmup, WORKERS, copy);
  const started = process.hrtime.bigint();
  await inParallel(payloads, WORKERS, copy);
  const rate = (BATCHES * BATCH) / (Number(process.hrtime.bigint() - started) / 1e9);
  await pool.end();
  return rate;
}

async function load(url, headers) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SINGLE_SECONDS,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(prediction()) }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load test saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result['2xx'] / SINGLE_SECONDS;
}

async function startBare(databaseUrl, projectId) {
  const port = await freePort();
  const child = fork(path.join(root, 'test/bench/bare-server.mjs'), {
    // the server's own heap flags (lib.mjs startServer), so neither collects garbage more often
    execArgv: ['--max-semi-space-size=64'],
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PROJECT_ID: projectId, PORT: String(port) },
    stdio: 'ignore',
  });
  await new Promise((resolve) => child.once('message', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function run(log) {
  const database = await startDatabase();
  const server = await startServer(database.url);
  try {
    const { projectId, slug, key } = await setUpProject(server.url);
    // where the CPU goes, per 1,000 rows: the two cores are shared by PostgreSQL, the server and this process
    const cpu = async (run, pid) => {
      const [pg, srv, own] = [postgresCpuSeconds(database.dataDir), pid ? cpuSecondsOf(pid) : 0, process.cpuUsage()];
      const rate = await run();
      const per = (seconds) => ((seconds * 1000) / (BATCHES * BATCH)) * 1000;
      const used = process.cpuUsage(own);
      return {
        rate,
        serverMs: pid ? per(cpuSecondsOf(pid) - srv) : undefined,
        text: `PostgreSQL ${per(postgresCpuSeconds(database.dataDir) - pg).toFixed(0)} ms${pid ? `, server ${per(cpuSecondsOf(pid) - srv).toFixed(0)} ms` : ''}, sender ${per((used.user + used.system) / 1e6).toFixed(0)} ms of CPU per 1,000 rows`,
      };
    };
    // alternate the three, twice, as the single-prediction runs below do: a writer that always came
    // second would meet a table grown by the first one, and the autovacuum its rows set off
    const bare = await startBare(database.url, projectId);
    const batchUrl = `${server.url}/api/v1/projects/${slug}/predictions/batch`;
    const copies = [];
    const batches = [];
    const bareBatches = [];
    for (let round = 1; round <= 2; round++) {
      log(`raw COPY of 1,000-row batches (round ${round}) …`);
      copies.push(await cpu(() => rawCopy(database.url, projectId)));
      log(`bare Fastify + COPY of 1,000-prediction batches (round ${round}) …`);
      bareBatches.push(await cpu(() => batchIngest(`${bare.url}/predictions/batch`, {}), bare.pid));
      log(`HTTP batch ingest of 1,000-prediction batches (round ${round}) …`);
      batches.push(await cpu(() => batchIngest(batchUrl, { authorization: `Bearer ${key}` }), server.pid));
      log(`CPU: raw COPY: ${copies.at(-1).text}; bare batch: ${bareBatches.at(-1).text}; HTTP batch: ${batches.at(-1).text}`);
    }
    // the same batches into a project with six labeling functions, which run in the ingest transaction
    // (routing looks for their conflicts); they all vote one label, so no conflict adds tasks to the cost
    const weak = await setUpProject(server.url, 'bench-lf');
    const { token } = await api(server.url, 'POST', '/api/v1/auth/login', ADMIN);
    const functions = [
      { name: 'invoice', label: 'ham', when: { kind: 'keywords', on: { feature: 'subject' }, keywords: ['invoice', 'receipt', 'order'] } },
      { name: 'ready', label: 'ham', when: { kind: 'regex', on: { feature: 'subject' }, pattern: 'is ready$', flags: 'i' } },
      { name: 'links', label: 'ham', when: { kind: 'threshold', on: { feature: 'links' }, max: 5 } },
      { name: 'language', label: 'ham', when: { kind: 'in', on: { feature: 'language' }, values: ['fr', 'de'] } },
      { name: 'country', label: 'ham', when: { kind: 'in', on: { slice: 'country' }, values: ['FR', 'DE'] } },
      { name: 'sure', label: 'ham', when: { kind: 'score', of: 'ham', min: 0.6 } },
    ];
    await api(server.url, 'PATCH', '/api/v1/projects/bench-lf', { weakSupervision: { functions, routeConflicts: true } }, token);
    // the functions alone, in this process: what they cost per 1,000 predictions, against the entropy routing computes for each
    const { compileLabelingFunction } = require(path.join(root, 'libs/weak/dist/index.js'));
    const { entropy } = require(path.join(root, 'libs/sampling/dist/index.js'));
    const sample = Array.from({ length: 200_000 }, prediction);
    const compiled = functions.map(compileLabelingFunction);
    const timed = (work) => {
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const started = process.hrtime.bigint();
        work();
        best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
      }
      return (best / sample.length) * 1000;
    };
    let sink = 0;
    const votingMs = timed(() => {
      for (const p of sample) for (const f of compiled) if (f(p) !== null) sink++;
    });
    const entropyMs = timed(() => {
      for (const p of sample) sink += entropy(p.scores);
    });
    log(
      `six labeling functions: ${votingMs.toFixed(3)} ms per 1,000 predictions in this process; entropy: ${entropyMs.toFixed(3)} ms (${sink > 0 ? 'votes cast' : ''})`,
    );
    const weakBatches = [];
    for (let round = 1; round <= 2; round++) {
      log(`HTTP batch ingest with six labeling functions (round ${round}) …`);
      weakBatches.push(
        await cpu(() => batchIngest(`${server.url}/api/v1/projects/bench-lf/predictions/batch`, { authorization: `Bearer ${weak.key}` }), server.pid),
      );
      log(`CPU: with labeling functions: ${weakBatches.at(-1).text}`);
    }
    // the same batches with a 256-number embedding on each prediction (float32 values, as a model sends them), into a plain project
    const DIMENSIONS = 256;
    const embedded = () => ({ ...prediction(), embedding: Array.from({ length: DIMENSIONS }, () => Math.fround(Math.random() * 2 - 1)) });
    const embeddedBatches = [];
    for (let round = 1; round <= 2; round++) {
      log(`HTTP batch ingest with ${DIMENSIONS}-number embeddings (round ${round}) …`);
      embeddedBatches.push(await cpu(() => batchIngest(batchUrl, { authorization: `Bearer ${key}` }, embedded), server.pid));
      log(`CPU: with embeddings: ${embeddedBatches.at(-1).text}`);
    }
    // the same batches under a model server's own request ids, each keyed by its UUID version 5 in the project (ADR 0043)
    let requestNumber = 0;
    const withRequestId = () => ({ ...prediction(), id: `req-${process.pid}-${++requestNumber}` });
    const requestIdBatches = [];
    for (let round = 1; round <= 2; round++) {
      log(`HTTP batch ingest under request ids (round ${round}) …`);
      requestIdBatches.push(await cpu(() => batchIngest(batchUrl, { authorization: `Bearer ${key}` }, withRequestId), server.pid));
      log(`CPU: with request ids: ${requestIdBatches.at(-1).text}`);
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [copyRate, batchRate] = [mean(copies.map((c) => c.rate)), mean(batches.map((b) => b.rate))];
    const [copy, batch] = [copies.at(-1), batches.at(-1)];

    const singleUrl = `${server.url}/api/v1/projects/${slug}/predictions`;
    const bareUrl = `${bare.url}/predictions`;
    // alternate the two, twice, so neither gets the warmer table or the quieter machine
    log(`single-prediction ingest, ${CONNECTIONS} concurrent clients, ${SINGLE_SECONDS} s per run …`);
    const bareRates = [];
    const singleRates = [];
    for (let round = 0; round < 2; round++) {
      bareRates.push(await load(bareUrl, {}));
      singleRates.push(await load(singleUrl, { authorization: `Bearer ${key}` }));
    }
    await bare.stop();
    return [
      {
        figure: 'batch ingest (HTTP, 1,000/batch)',
        value: batchRate,
        unit: 'rows/s',
        baseline: 'raw COPY, same rows and table',
        baselineValue: copyRate,
        target: 0.5,
        cpu: { copy: copy.text, batch: batch.text },
      },
      {
        // CPU time of the whole process (its collector and compiler threads too), as /proc counts it; the lower
        // round of each, since whatever else the machine does only ever adds to it (a first round ran 1.3–1.6×
        // the second, for both servers, while the table was new)
        figure: 'server CPU per 1,000 batch-ingested',
        value: Math.min(...batches.map((b) => b.serverMs)),
        unit: 'ms',
        baseline: 'bare Fastify + COPY, same batches',
        baselineValue: Math.min(...bareBatches.map((b) => b.serverMs)),
        target: 1.2,
        lowerIsBetter: true,
      },
      {
        // what six labeling functions (keywords, a regular expression, a threshold, two sets, a score band) add per 1,000
        figure: 'server CPU per 1,000 with six labeling functions',
        value: Math.min(...weakBatches.map((b) => b.serverMs)),
        unit: 'ms',
        baseline: 'the same batches, no functions',
        baselineValue: Math.min(...batches.map((b) => b.serverMs)),
        target: 1.1,
        lowerIsBetter: true,
      },
      {
        figure: 'server CPU per 1,000 with 256-number embeddings',
        value: Math.min(...embeddedBatches.map((b) => b.serverMs)),
        unit: 'ms',
        baseline: 'the same batches, no embedding',
        baselineValue: Math.min(...batches.map((b) => b.serverMs)),
      },
      {
        figure: 'batch ingest with 256-number embeddings',
        value: mean(embeddedBatches.map((b) => b.rate)),
        unit: 'rows/s',
        baseline: 'the same batches, no embedding',
        baselineValue: batchRate,
      },
      {
        figure: 'server CPU per 1,000 under request ids',
        value: Math.min(...requestIdBatches.map((b) => b.serverMs)),
        unit: 'ms',
        baseline: 'the same batches under UUIDs',
        baselineValue: Math.min(...batches.map((b) => b.serverMs)),
      },
      {
        figure: 'six labeling functions, in process, per 1,000',
        value: votingMs,
        unit: 'ms',
        baseline: 'routing’s entropy of the same predictions',
        baselineValue: entropyMs,
      },
      {
        figure: `single ingest (${CONNECTIONS} clients)`,
        value: mean(singleRates),
        unit: 'req/s',
        baseline: 'bare Fastify + pg INSERT',
        baselineValue: mean(bareRates),
        target: 0.7,
      },
    ];
  } finally {
    await server.stop();
    await database.stop();
  }
}

// A recommender's capture: ranked lists of 20 candidates (item, score, position, item features)
// through HTTP batch ingest, in candidates per second, against raw COPY of the same rows into the
// same table (the batch-ingest baseline of the same bytes), alternating, in one run on one database.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { ADMIN, api, startDatabase, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Pool } = require('pg');
const { from: copyFrom } = require('pg-copy-streams');

const CANDIDATES = 20;
const LISTS_PER_BATCH = 250; // 5,000 candidates a request
const BATCHES = Number(process.env.BENCH_BATCHES ?? 16); // per round: two rounds of each
const WORKERS = 2;

let sequence = 0;
/** One list as a recommender logs it: the user's context, twenty runs with their scores, positions and features. */
function list() {
  sequence++;
  return {
    id: randomUUID(),
    model: { name: 'run-recommender', version: '7' },
    input: { user_id: `u-${sequence % 5000}`, weekly_km: 10 + (sequence % 60), goal: ['5k', '10k', 'half'][sequence % 3], hour: sequence % 24 },
    slice: { cohort: sequence % 4 ? 'returning' : 'new', platform: sequence % 2 ? 'ios' : 'android' },
    timestamp: new Date().toISOString(),
    suggestions: {
      runs: {
        candidates: Array.from({ length: CANDIDATES }, (_, i) => ({
          item: `run-${(sequence * 37 + i * 101) % 100000}`,
          score: Number((5 - i * 0.2 + ((sequence + i) % 7) / 100).toFixed(4)),
          position: i + 1,
          features: { km: 3 + ((sequence + i) % 20), climb_m: (sequence * i) % 400, surface: ['road', 'trail', 'track'][i % 3] },
        })),
      },
    },
  };
}

const escape = (s) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

/** The row the server stores for a list, as COPY text (its suggestion, the items shown as its predicted label). */
function copyText(projectId, l) {
  return (
    [
      projectId,
      l.id,
      l.model.name,
      l.model.version,
      escape(JSON.stringify(l.input)),
      '{}',
      escape(l.suggestions.runs.candidates.map((c) => c.item).join('\n')),
      0.5,
      escape(JSON.stringify(l.slice)),
      '\\N',
      l.timestamp,
      escape(JSON.stringify(l.suggestions)),
      new Date(l.timestamp).toISOString().slice(0, 10),
    ].join('\t') + '\n'
  );
}

async function inParallel(items, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const perSecond = (count, started) => count / (Number(process.hrtime.bigint() - started) / 1e9);

async function httpIngest(url, slug, key) {
  const bodies = Array.from({ length: BATCHES }, () => JSON.stringify(Array.from({ length: LISTS_PER_BATCH }, list)));
  const send = async (body) => {
    const response = await fetch(`${url}/api/v1/projects/${slug}/predictions/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body,
    });
    const reply = await response.json();
    if (reply.accepted !== LISTS_PER_BATCH) throw new Error(`batch not accepted: ${JSON.stringify(reply).slice(0, 300)}`);
  };
  await inParallel(bodies.slice(0, 2), send);
  const started = process.hrtime.bigint();
  await inParallel(bodies.slice(2), send);
  return { rate: perSecond((BATCHES - 2) * LISTS_PER_BATCH * CANDIDATES, started), bytes: bodies[0].length };
}

async function rawCopy(databaseUrl, projectId) {
  const pool = new Pool({ connectionString: databaseUrl, max: WORKERS });
  pool.on('error', () => undefined);
  // the partitions the server would make for these days (its own ingest makes them as it goes)
  await pool.query(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date - 1], false)`, [
    projectId,
  ]);
  const payloads = Array.from({ length: BATCHES }, () => Array.from({ length: LISTS_PER_BATCH }, () => copyText(projectId, list())).join(''));
  const copy = async (payload) => {
    const client = await pool.connect();
    try {
      await pipeline(
        Readable.from([payload]),
        client.query(
          copyFrom(
            `COPY predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at, suggestions, occurred_on) FROM STDIN`,
          ),
        ),
      );
    } finally {
      client.release();
    }
  };
  await inParallel(payloads.slice(0, 2), copy);
  const started = process.hrtime.bigint();
  await inParallel(payloads.slice(2), copy);
  const rate = perSecond((BATCHES - 2) * LISTS_PER_BATCH * CANDIDATES, started);
  await pool.end();
  return rate;
}

export async function run(log) {
  const database = await startDatabase();
  const server = await startServer(database.url);
  try {
    const { token } = await api(server.url, 'POST', '/api/v1/auth/login', ADMIN);
    const project = await api(
      server.url,
      'POST',
      '/api/v1/projects',
      {
        slug: 'runs',
        name: 'Suggested runs',
        questions: [{ name: 'runs', kind: 'ranking', grades: [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` })), maxItems: CANDIDATES }],
        // routing at its defaults would make tasks: the figure is capture, as the batch-ingest one
        routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 },
      },
      token,
    );
    const { secret } = await api(server.url, 'POST', '/api/v1/projects/runs/api-keys', { name: 'bench', scopes: ['ingest'] }, token);
    const copies = [];
    const https = [];
    let bytes = 0;
    for (let round = 1; round <= 2; round++) {
      log(`raw COPY of ${LISTS_PER_BATCH}-list batches of ${CANDIDATES} candidates (round ${round}) …`);
      copies.push(await rawCopy(database.url, project.id));
      log(`HTTP batch ingest of the same (round ${round}) …`);
      const http = await httpIngest(server.url, 'runs', secret);
      https.push(http.rate);
      bytes = http.bytes;
      log(`round ${round}: COPY ${Math.round(copies.at(-1))} candidates/s, HTTP ${Math.round(https.at(-1))} candidates/s`);
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return [
      {
        figure: `ranked-list ingest (HTTP, ${LISTS_PER_BATCH} lists of ${CANDIDATES} candidates a batch, ${Math.round(bytes / 1024)} KiB; validation, uncertainty, routing)`,
        value: mean(https),
        unit: 'candidates/s',
        baseline: 'raw COPY of the same rows into the same table',
        baselineValue: mean(copies),
      },
    ];
  } finally {
    await server.stop();
    await database.stop();
  }
}

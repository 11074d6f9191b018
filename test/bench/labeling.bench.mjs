// Labeling throughput and push latency: claims + submits through the socket gateway against the same
// rows written by a raw SKIP LOCKED loop, and task creation → task:assigned with 200 connected raters
// against a bare socket.io echo, in one run on one database.
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { api, ADMIN, cpuSecondsOf, freePort, LABELS, postgresCpuSeconds, prediction, root, startDatabase, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Pool } = require('pg');
const { io } = require('socket.io-client');

const TASKS = Number(process.env.BENCH_TASKS ?? 3_000);
const RATERS = Number(process.env.BENCH_RATERS ?? 16);
const CONNECTED = Number(process.env.BENCH_CONNECTED ?? 200);
// enough samples that the p99 is not one stray value (the 10th highest of 1,000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1_000);

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const ms = () => Number(process.hrtime.bigint()) / 1e6;

const TOPICS = ['billing', 'security', 'newsletter', 'personal'];
// a project of four questions of four kinds: every submit decides all of them (backflow_decide_answers)
const QUESTIONS = [
  { name: 'topics', kind: 'multi_label', labels: TOPICS.map((name) => ({ name })) },
  { name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) },
  { name: 'minutes', kind: 'numeric', min: 0, max: 600 },
  { name: 'note', kind: 'text', required: false },
];
const ANSWERS = { topics: ['billing', 'personal'], quality: 4, minutes: 12.5, note: 'reads fine' };

async function project(url, token, slug, questions) {
  const created = await api(
    url,
    'POST',
    '/api/v1/projects',
    {
      slug,
      name: slug,
      ...(questions ? { questions } : { taskType: 'single_label', labels: LABELS.map((name) => ({ name })) }),
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
    },
    token,
  );
  const { secret } = await api(url, 'POST', `/api/v1/projects/${slug}/api-keys`, { name: 'bench', scopes: ['ingest'] }, token);
  return { id: created.id, slug, key: secret };
}

/** A prediction of the four-question project: an independent probability per topic, a rating and a number with their spread. */
function questionPrediction() {
  const p = prediction();
  const at = (i) => ((p.input.body_length * (i + 3)) % 97) / 97;
  return {
    ...p,
    scores: Object.fromEntries(TOPICS.map((name, i) => [name, at(i)])),
    suggestions: { quality: { value: 3, std: 0.8 }, minutes: { value: 10 + (p.input.body_length % 50), interval: [5, 80] } },
  };
}

async function fill(url, target, count, make = prediction) {
  for (let i = 0; i < count; i += 1_000) {
    await api(url, 'POST', `/api/v1/projects/${target.slug}/predictions/batch`, Array.from({ length: Math.min(1_000, count - i) }, make), target.key);
  }
}

async function raters(url, token, target, count) {
  const made = [];
  for (let i = 0; i < count; i++) {
    const email = `rater-${i}-${randomUUID().slice(0, 6)}@example.com`;
    const password = `Pass-${randomUUID()}`;
    const user = await api(url, 'POST', '/api/v1/users', { email, password, role: 'rater' }, token);
    await api(url, 'POST', `/api/v1/projects/${target.slug}/members`, { email, role: 'rater' }, token);
    made.push({ id: user.id, email, token: (await api(url, 'POST', '/api/v1/auth/login', { email, password })).token });
  }
  return made;
}

const connect = (url, token) =>
  new Promise((resolve, reject) => {
    const socket = io(`${url}/labeling`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });

/** CPU milliseconds per task of the server, PostgreSQL and this process over a phase (where /proc tells). */
function cpuMeter(server, database) {
  const at = () => ({ server: cpuSecondsOf(server.pid), postgres: postgresCpuSeconds(database.dataDir), own: process.cpuUsage() });
  const start = at();
  return (tasks) => {
    const end = at();
    const own = process.cpuUsage(start.own);
    const per = (seconds) => ((seconds * 1000) / tasks).toFixed(2);
    return `CPU per task: server ${per(end.server - start.server)} ms, PostgreSQL ${per(end.postgres - start.postgres)} ms, raters ${per((own.user + own.system) / 1e6)} ms`;
  };
}

/**
 * Raters through the socket gateway. `separate`: a claim event, then a submit event, per task;
 * otherwise as the rater UI does it: one claim, then each submit leases the next task (`next`).
 */
async function gatewayRate(url, target, people, { answer = { label: 'ham' }, separate = false, meter, log }) {
  const sockets = await Promise.all(people.map((p) => connect(url, p.token)));
  let pairs = 0;
  const cpu = meter();
  const started = ms();
  const check = (reply) => {
    if (reply.error) throw new Error(JSON.stringify(reply.error));
    return reply;
  };
  await Promise.all(
    sockets.map(async (socket) => {
      let task = check(await socket.emitWithAck('task:claim', { project: target.slug })).task;
      while (task) {
        const annotation = { id: randomUUID(), ...answer };
        const submitted = check(await socket.emitWithAck('task:submit', { project: target.slug, taskId: task.id, annotation, next: !separate }));
        pairs++;
        task = separate ? check(await socket.emitWithAck('task:claim', { project: target.slug })).task : check(submitted.next).task;
      }
    }),
  );
  const rate = pairs / ((ms() - started) / 1000);
  log(`  ${target.slug}${separate ? ' (claim and submit as two events)' : ''}: ${Math.round(rate)} tasks/s; ${cpu(pairs)}`);
  for (const socket of sockets) socket.close();
  return rate;
}

/**
 * The floor: the same rows the gateway writes, by two hand-written statements per task and no
 * checks: a SKIP LOCKED pick that marks the task taken and inserts the lease, then the answer,
 * the lease ended, the task completed and its label.
 */
async function rawRate(databaseUrl, target, people, { answers = { label: 'ham' }, value = 'ham', meter, log }) {
  const pool = new Pool({ connectionString: databaseUrl, max: people.length });
  pool.on('error', () => undefined);
  let pairs = 0;
  let doubles = 0;
  const cpu = meter();
  const started = ms();
  await Promise.all(
    people.map(async (rater) => {
      for (;;) {
        const { rows } = await pool.query(
          `WITH next AS (
             SELECT id FROM tasks
              WHERE project_id = $1 AND state IN ('queued', 'escalated') AND gold_item_id IS NULL
              ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
           taken AS (UPDATE tasks t SET state = 'leased' FROM next WHERE t.id = next.id RETURNING t.id, t.prediction_id),
           leased AS (INSERT INTO task_leases (task_id, rater_id, project_id, expires_at) SELECT id, $2, $1, now() + interval '2 minutes' FROM taken)
           SELECT id, prediction_id FROM taken`,
          [target.id, rater.id],
        );
        if (rows.length === 0) return;
        const answered = await pool.query(
          `WITH added AS (INSERT INTO annotations (id, project_id, task_id, rater_id, label, answers) VALUES ($1, $2, $3, $4, $6, $7)),
           released AS (DELETE FROM task_leases WHERE task_id = $3),
           labelled AS (INSERT INTO labels (project_id, prediction_id, value, source, agreement, task_id, answers) VALUES ($2, $5, $6, 'consensus', 1, $3, $7))
           UPDATE tasks SET state = 'completed', completed_at = now(), annotations_count = annotations_count + 1 WHERE id = $3 AND state = 'leased'`,
          [randomUUID(), target.id, rows[0].id, rater.id, rows[0].prediction_id, value, JSON.stringify(answers)],
        );
        if (answered.rowCount !== 1) doubles++;
        pairs++;
      }
    }),
  );
  const rate = pairs / ((ms() - started) / 1000);
  log(`  ${target.slug} by raw SQL: ${Math.round(rate)} tasks/s; ${cpu(pairs)}`);
  await pool.end();
  if (doubles) throw new Error(`raw loop: ${doubles} double claims`);
  return rate;
}

/**
 * After loading: the maintenance autovacuum would do (VACUUM ANALYZE) and a checkpoint, so that
 * neither comes due during whichever measured phase runs first.
 */
async function settle(databaseUrl) {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  await pool.query('VACUUM ANALYZE');
  await pool.query('CHECKPOINT');
  await pool.end();
}

async function doubleClaims(databaseUrl, target) {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM (SELECT task_id FROM annotations WHERE project_id = $1 GROUP BY task_id HAVING count(*) > 1) d`,
    [target.id],
  );
  await pool.end();
  return rows[0].n;
}

async function pushLatency(url, target, people) {
  const sockets = await Promise.all(people.map((p) => connect(url, p.token)));
  let waiting;
  // a rater answers what reaches them and asks for more; a task can also arrive as the reply to that ask
  const receive = async (socket, task) => {
    waiting?.(ms());
    await socket.emitWithAck('task:submit', { project: target.slug, taskId: task.id, annotation: { id: randomUUID(), label: 'ham' } });
    const next = await socket.emitWithAck('task:claim', { project: target.slug });
    if (next.task) await receive(socket, next.task);
  };
  // (a socket closed at the end leaves its last ask unanswered: ignore it)
  for (const socket of sockets) socket.on('task:assigned', ({ task }) => void receive(socket, task).catch(() => undefined));
  // every rater asks once and finds nothing: all of them are idle
  const replies = await Promise.all(sockets.map((socket) => socket.emitWithAck('task:claim', { project: target.slug })));
  const busy = replies.filter((r) => r.task || r.error);
  if (busy.length) throw new Error(`raters not idle before the latency run: ${JSON.stringify(busy[0]).slice(0, 300)}`);
  // a task exists once the request that creates it is acknowledged (after its commit): from then
  // to task:assigned is the push; from the request being sent, the whole loop with the ingest
  const fromCreation = [];
  const endToEnd = [];
  for (let i = 0; i < SAMPLES; i++) {
    const assigned = new Promise((resolve, reject) => {
      waiting = resolve;
      setTimeout(() => reject(new Error(`no task:assigned within 10 s (sample ${i})`)), 10_000).unref();
    });
    const sent = ms();
    const response = await fetch(`${url}/api/v1/projects/${target.slug}/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.key}` },
      body: JSON.stringify(prediction()),
    });
    const acknowledged = ms();
    if (response.status !== 201) throw new Error(`prediction not accepted: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    const at = await assigned;
    fromCreation.push(at - acknowledged);
    endToEnd.push(at - sent);
    waiting = undefined;
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const socket of sockets) socket.close();
  return { fromCreation, endToEnd };
}

/** The floor for a push: a socket.io round trip (emit, acknowledgement) to a bare server in its own process, with as many sockets connected. */
async function rawEchoLatency() {
  const port = await freePort();
  const child = fork(path.join(root, 'test/bench/bare-push-server.mjs'), { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: 'ignore' });
  await new Promise((resolve) => child.once('message', resolve));
  const url = `http://127.0.0.1:${port}`;
  const sockets = await Promise.all(
    Array.from(
      { length: CONNECTED },
      () =>
        new Promise((resolve) => {
          const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
          socket.once('connect', () => resolve(socket));
        }),
    ),
  );
  const samples = [];
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const sent = ms();
      await sockets[i % sockets.length].emitWithAck('echo', { task: prediction() });
      samples.push(ms() - sent);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    for (const socket of sockets) socket.close();
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }
  return samples;
}

export async function run(log) {
  const database = await startDatabase();
  const server = await startServer(database.url);
  try {
    const { token } = await api(server.url, 'POST', '/api/v1/auth/login', ADMIN);
    const meter = () => cpuMeter(server, database);
    const gateway = await project(server.url, token, 'gateway');
    const separate = await project(server.url, token, 'gateway-separate');
    const raw = await project(server.url, token, 'raw');
    log(`routing ${TASKS} tasks into each of three projects`);
    for (const target of [gateway, separate, raw]) await fill(server.url, target, TASKS);
    log(`creating ${CONNECTED} raters`);
    const people = await raters(server.url, token, gateway, CONNECTED);
    const workers = people.slice(0, RATERS);
    for (const person of workers) await api(server.url, 'POST', `/api/v1/projects/${separate.slug}/members`, { email: person.email, role: 'rater' }, token);
    await settle(database.url);

    log(
      `claim + submit: ${RATERS} socket raters through the gateway (each submit leasing the next task, then as two events), then a raw SKIP LOCKED loop on as many connections`,
    );
    const gatewayPairs = await gatewayRate(server.url, gateway, workers, { meter, log });
    const separatePairs = await gatewayRate(server.url, separate, workers, { separate: true, meter, log });
    const rawPairs = await rawRate(database.url, raw, workers, { meter, log });
    for (const target of [gateway, separate]) {
      const doubles = await doubleClaims(database.url, target);
      if (doubles) throw new Error(`${target.slug}: ${doubles} tasks answered twice`);
    }

    log(`claim + submit of a four-question project (multi-label, rating, numeric, text): ${RATERS} socket raters, then the raw loop`);
    const gatewayQ = await project(server.url, token, 'gateway-q', QUESTIONS);
    const rawQ = await project(server.url, token, 'raw-q', QUESTIONS);
    await fill(server.url, gatewayQ, TASKS, questionPrediction);
    await fill(server.url, rawQ, TASKS, questionPrediction);
    for (const target of [gatewayQ, rawQ])
      for (const person of workers) await api(server.url, 'POST', `/api/v1/projects/${target.slug}/members`, { email: person.email, role: 'rater' }, token);
    await settle(database.url);
    const gatewayQPairs = await gatewayRate(server.url, gatewayQ, workers, { answer: { answers: ANSWERS }, meter, log });
    const rawQPairs = await rawRate(database.url, rawQ, workers, { answers: ANSWERS, value: 'billing\npersonal', meter, log });
    const doublesQ = await doubleClaims(database.url, gatewayQ);
    if (doublesQ) throw new Error(`gateway (questions): ${doublesQ} tasks answered twice`);

    log(`push latency: ${SAMPLES} tasks created one at a time, ${CONNECTED} idle raters connected`);
    const { fromCreation: ours, endToEnd } = await pushLatency(server.url, gateway, people);
    const bare = await rawEchoLatency();
    if (process.env.BENCH_DIST)
      for (const [name, xs] of [
        ['created → assigned', ours],
        ['POST sent → assigned', endToEnd],
        ['bare echo', bare],
      ])
        log(`${name}: ${[0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 1].map((q) => `${q}=${quantile(xs, q).toFixed(1)}`).join(' ')}`);
    log(
      `task created (its request acknowledged) → task:assigned p50 ${quantile(ours, 0.5).toFixed(1)} ms p99 ${quantile(ours, 0.99).toFixed(1)} ms; with the ingest (request sent → task:assigned) p50 ${quantile(endToEnd, 0.5).toFixed(1)} ms p99 ${quantile(endToEnd, 0.99).toFixed(1)} ms; bare socket.io echo p50 ${quantile(bare, 0.5).toFixed(1)} ms p99 ${quantile(bare, 0.99).toFixed(1)} ms`,
    );
    return [
      {
        figure: `claim + submit through the gateway (${RATERS} socket raters, each submit leasing the next task as the rater UI does; 0 double claims)`,
        value: gatewayPairs,
        unit: 'tasks/s',
        baseline: `the same rows by raw SQL: SKIP LOCKED claim + answer, ${RATERS} connections`,
        baselineValue: rawPairs,
        target: 0.7,
      },
      {
        figure: `claim + submit through the gateway as two events per task (a claim, then a submit)`,
        value: separatePairs,
        unit: 'tasks/s',
        baseline: `the same raw SQL loop`,
        baselineValue: rawPairs,
      },
      {
        figure: `claim + submit of a four-question project through the gateway (${RATERS} socket raters, every question decided in the submit, the next task leased by it)`,
        value: gatewayQPairs,
        unit: 'tasks/s',
        baseline: `the same rows (answers as jsonb) by raw SQL: SKIP LOCKED claim + answer, ${RATERS} connections`,
        baselineValue: rawQPairs,
        target: 0.7,
      },
      {
        figure: `task created → task:assigned p99 (${CONNECTED} raters; p50 ${quantile(ours, 0.5).toFixed(1)} ms; with the ingest p99 ${quantile(endToEnd, 0.99).toFixed(1)} ms)`,
        value: quantile(ours, 0.99),
        unit: 'ms',
        baseline: `socket.io echo (emit → ack) to a bare server process, p99 (p50 ${quantile(bare, 0.5).toFixed(1)} ms)`,
        baselineValue: quantile(bare, 0.99),
        target: 3,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await server.stop();
    await database.stop();
  }
}

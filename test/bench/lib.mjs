// Shared pieces of the benchmarks: an embedded PostgreSQL, the built server as a process, data shaped like traffic.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startEmbeddedPostgres } = require(path.join(root, 'server/dist/database/embedded-postgres.js'));

export const ADMIN = { email: 'bench@example.com', password: 'Bench-pass-123!' };
export const LABELS = ['ham', 'spam', 'phish'];

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway PostgreSQL for one benchmark run (kept with BENCH_KEEP_DATABASE=1), or the DATABASE_URL server with a fresh database. */
export async function startDatabase() {
  if (process.env.DATABASE_URL) {
    const { Client } = require('pg');
    const name = `backflow_bench_${Date.now()}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return { url: url.toString(), stop: async () => undefined };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-bench-'));
  fs.chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: 0 });
  return {
    url: pg.url,
    dataDir: path.join(dir, 'postgres'),
    stop: async () => {
      await pg.stop({ evenIfShared: true });
      // BENCH_KEEP_DATABASE=1: the data directory stays, to look into the end of a run afterwards
      if (process.env.BENCH_KEEP_DATABASE) console.error(`[bench] database kept in ${path.join(dir, 'postgres')}`);
      else fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The built server (`node server/dist/main.js`) on the given database. */
/** Where the servers a benchmark starts write their log (BENCH_SERVER_LOG, or a file in the OS temp dir named in the first line of the run). */
export const serverLog = process.env.BENCH_SERVER_LOG ?? path.join(os.tmpdir(), `backflow-bench-server-${process.pid}.log`);
let serverLogNamed = false;

export async function startServer(databaseUrl, env = {}, nodeArgs = []) {
  const port = await freePort();
  if (!serverLogNamed) {
    serverLogNamed = true;
    process.stderr.write(`server log: ${serverLog}\n`);
  }
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load
  if (process.env.BENCH_NODE_ARGS) nodeArgs = [...process.env.BENCH_NODE_ARGS.split(' '), ...nodeArgs];
  // the same flags as npm start
  const child = spawn(process.execPath, [...nodeArgs, '--max-semi-space-size=64', path.join(root, 'server/dist/main.js')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      BACKFLOW_ADMIN_EMAIL: ADMIN.email,
      BACKFLOW_ADMIN_PASSWORD: ADMIN.password,
      ...env,
    },
    // the server's log (warnings and errors: LOG_LEVEL=warn) kept in a file, so a 500 can be read after the run
    stdio: ['ignore', fs.openSync(serverLog, 'a'), 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, () => stderr);
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function waitReady(url, child, output = () => '') {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output()}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready: ${output()}`);
}

export async function api(url, method, route, body, token) {
  const response = await fetch(url + route, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} -> ${response.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** A project and an ingest key on a running server. */
export async function setUpProject(url, slug = 'bench') {
  const { token } = await api(url, 'POST', '/api/v1/auth/login', ADMIN);
  const project = await api(
    url,
    'POST',
    '/api/v1/projects',
    { slug, name: 'Benchmark', taskType: 'single_label', labels: LABELS.map((name) => ({ name })) },
    token,
  );
  const key = await api(url, 'POST', `/api/v1/projects/${slug}/api-keys`, { name: 'bench', scopes: ['ingest'] }, token);
  return { projectId: project.id, slug, key: key.secret };
}

let sequence = 0;
/** One prediction like a real one: about ten features, three class scores, slice keys. */
export function prediction() {
  sequence++;
  const a = 0.2 + ((sequence * 7919) % 600) / 1000;
  const b = (1 - a) * 0.7;
  return {
    id: randomUUID(),
    model: { name: 'mail-filter', version: '2.3.1' },
    input: {
      subject: `Your invoice ${sequence} is ready`,
      sender_domain: ['example.com', 'mail.example.org', 'news.example.net'][sequence % 3],
      body_length: 200 + (sequence % 1800),
      links: sequence % 7,
      has_attachment: sequence % 5 === 0,
      hour: sequence % 24,
      language: ['en', 'fr', 'de'][sequence % 3],
      sender_reputation: ((sequence * 31) % 100) / 100,
      recipients: 1 + (sequence % 4),
      tokens: ['invoice', 'ready', 'payment'],
    },
    scores: { ham: a, spam: b, phish: 1 - a - b },
    slice: { country: ['FR', 'DE', 'US', 'BR'][sequence % 4], device: sequence % 2 ? 'mobile' : 'desktop' },
    timestamp: new Date().toISOString(),
  };
}

const copyEscape = (s) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

/** One prediction as a row of COPY text, the columns the server writes computed the plain way: the baselines' rows. */
export function copyRow(projectId, p) {
  const scores = p.scores;
  const predicted = Object.keys(scores).reduce((a, b) => (scores[a] >= scores[b] ? a : b));
  const at = new Date(p.timestamp ?? Date.now());
  return (
    [
      projectId,
      p.id,
      copyEscape(p.model.name),
      copyEscape(p.model.version),
      copyEscape(JSON.stringify(p.input)),
      copyEscape(JSON.stringify(scores)),
      copyEscape(predicted),
      scores[predicted],
      copyEscape(JSON.stringify(p.slice ?? {})),
      '\\N',
      at.toISOString(),
      at.toISOString().slice(0, 10),
    ].join('\t') + '\n'
  );
}

export function machine() {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** A process's /proc stat fields after its name: [state, ppid, …]; undefined once it is gone or where there is no /proc. */
function statOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 where there is no /proc. */
export function cpuSecondsOf(pid) {
  const fields = statOf(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / 100 : 0;
}

/**
 * CPU seconds used so far by a PostgreSQL cluster: its postmaster, the backends and workers
 * that have ended (the postmaster reaps them, so their time is its children's time), and the
 * live ones. 0 when the cluster is not one of ours (DATABASE_URL) or there is no /proc.
 */
export function postgresCpuSeconds(dataDir) {
  if (!dataDir) return 0;
  let postmaster;
  try {
    postmaster = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
  } catch {
    return 0;
  }
  const own = statOf(postmaster);
  if (!own) return 0;
  let total = (Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) / 100;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statOf(entry);
    if (fields?.[1] === postmaster) total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}

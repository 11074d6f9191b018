// A month of traffic in compressed time (issue 22): predictions stamped over 30 days, about 1% routed and labeled, retention of 7
// days with an archive, run after each day as the hourly job would. `npm run bench` replays 600,000 predictions;
// `npm run bench -- --scale` (or BENCH_SCALE_PREDICTIONS) the long version, 20 million. Every figure is a ratio to a
// baseline of the same run: the size after day 7 (before retention removed anything), the ingest rate into the empty
// table, the endpoints' p95 at 100,000 predictions.
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADMIN, api, prediction, serverLog, startDatabase, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');

const DAYS = 30;
const RETENTION_DAYS = 7;
const TOTAL = Number(process.env.BENCH_SCALE_PREDICTIONS ?? (process.argv.includes('--scale') ? 20_000_000 : 600_000));
const FIRST = Math.min(100_000, Math.ceil(TOTAL / 6));
const BATCH = 1_000;
const WORKERS = 4;
const PROBES = 20;
const DAY_MS = 86_400_000;

const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/** Sends `count` predictions stamped across `day` (days before now), in 1,000-row batches from four workers; the rate and each batch's latency. */
async function ingest(url, slug, key, count, day) {
  const start = Date.now() - day * DAY_MS - DAY_MS + 60_000;
  let next = 0;
  const latencies = [];
  const began = performance.now();
  const worker = async () => {
    for (;;) {
      const from = next;
      next += BATCH;
      if (from >= count) return;
      const rows = Array.from({ length: Math.min(BATCH, count - from) }, (_, i) => ({
        ...prediction(),
        timestamp: new Date(start + ((from + i) / count) * (DAY_MS - 120_000)).toISOString(),
      }));
      const sent = performance.now();
      const response = await fetch(`${url}/api/v1/projects/${slug}/predictions/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(rows),
      });
      const reply = await response.json();
      if (reply.accepted !== rows.length) throw new Error(`batch not accepted: ${JSON.stringify(reply).slice(0, 200)}`);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return { rate: count / ((performance.now() - began) / 1000), latencies };
}

/**
 * The day's routed predictions labeled, as raters would have done through the day: each task made
 * when its prediction was (its timestamp, in the month's compressed time: routing stamps a task
 * with the wall clock) and completed ten minutes later, with a consensus label (by SQL: the setup,
 * not what is measured). Without it the queue only grows (20,000,000 predictions left 200,000
 * tasks open) and every task of the month falls in the operations chart's last hour of wall time.
 */
async function labelRouted(databaseUrl, projectId) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `WITH done AS (
         UPDATE tasks t SET state = 'completed', created_at = p.occurred_at, completed_at = p.occurred_at + interval '10 minutes'
           FROM predictions p
          WHERE t.project_id = $1 AND t.state = 'queued' AND t.gold_item_id IS NULL AND p.project_id = t.project_id AND p.id = t.prediction_id
          RETURNING t.id, t.prediction_id, t.completed_at)
       INSERT INTO labels (project_id, prediction_id, value, answers, source, agreement, task_id, created_at)
       SELECT $1, prediction_id, 'ham', '{"label": "ham"}', 'consensus', 1, id, completed_at FROM done`,
      [projectId],
    );
  } finally {
    await client.end();
  }
}

/**
 * A retention run, however long it takes: fetch gives up on a reply after five minutes, and the
 * first run over a backlog (the eight days of the baseline project at the 20-million scale) rolls
 * every hour of it.
 */
/** The last errors the server logged (pino level 50 and up). */
function serverErrors() {
  try {
    return fs
      .readFileSync(serverLog, 'utf8')
      .split('\n')
      .filter((line) => /"level":(5|6)\d/.test(line))
      .slice(-5)
      .join('\n');
  } catch {
    return '(no server log)';
  }
}

function runRetention(url, slug, token, body = {}) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/api/v1/projects/${slug}/retention/run`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(JSON.parse(text))
            : reject(new Error(`retention run -> ${response.statusCode} ${text.slice(0, 300)}\nthe server's errors:\n${serverErrors()}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** The p95 of each read endpoint a team watches, over `PROBES` calls each. */
async function endpointP95(url, slug, token) {
  const routes = {
    monitoring: `/api/v1/projects/${slug}/monitoring?hours=24`,
    operations: `/api/v1/projects/${slug}/operations?minutes=60`,
    quality: `/api/v1/projects/${slug}/quality?days=7`,
  };
  const result = {};
  for (const [name, route] of Object.entries(routes)) {
    const times = [];
    for (let i = 0; i < PROBES; i++) {
      const began = performance.now();
      await api(url, 'GET', route, undefined, token);
      times.push(performance.now() - began);
    }
    result[name] = p95(times);
  }
  return result;
}

async function sizes(databaseUrl, projectId) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const [{ bytes, rows }] = (
      await client.query(
        `SELECT coalesce(sum(pg_total_relation_size(name::regclass)), 0)::bigint AS bytes,
                (SELECT count(*) FROM predictions WHERE project_id = $1)::bigint AS rows
           FROM prediction_partitions WHERE project_id = $1`,
        [projectId],
      )
    ).rows;
    const [{ database }] = (await client.query(`SELECT pg_database_size(current_database())::bigint AS database`)).rows;
    // the hourly rollups kept for the project's life, and how many predictions they hold
    const [rollups] = (
      await client.query(
        `SELECT pg_total_relation_size('prediction_rollups')::bigint AS bytes, count(*)::bigint AS rows, coalesce(sum(predictions), 0)::bigint AS predictions
           FROM prediction_rollups WHERE project_id = $1`,
        [projectId],
      )
    ).rows;
    return {
      bytes: Number(bytes),
      rows: Number(rows),
      database: Number(database),
      rollups: { bytes: Number(rollups.bytes), rows: Number(rollups.rows), predictions: Number(rollups.predictions) },
    };
  } finally {
    await client.end();
  }
}

const archiveBytes = (dir) => {
  let total = 0;
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else total += fs.statSync(full).size;
    }
  };
  walk(dir);
  return total;
};

export async function run(log) {
  const archive = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-bench-archive-'));
  const database = await startDatabase();
  const server = await startServer(database.url, { ARCHIVE_ROOT: archive });
  try {
    const { token } = await api(server.url, 'POST', '/api/v1/auth/login', ADMIN);
    const settings = {
      taskType: 'single_label',
      labels: ['ham', 'spam', 'phish'].map((name) => ({ name })),
      routing: { strategy: 'least_confidence', targetRate: 0.01, explorationRate: 0, dedupeWindowMinutes: 0 },
      retention: { days: RETENTION_DAYS, archive: true },
    };
    const project = await api(server.url, 'POST', '/api/v1/projects', { ...settings, slug: 'scale', name: 'A month of traffic' }, token);
    const { secret: key } = await api(server.url, 'POST', '/api/v1/projects/scale/api-keys', { name: 'bench', scopes: ['ingest'] }, token);
    const perDay = Math.ceil(TOTAL / DAYS);
    // the endpoints' baseline: a project like it with only the last 8 days of the same traffic (8 × 20,000 by default),
    // so that the monitoring windows (the last day, and the 7 before) hold what the month's hold at the end, and only
    // the history differs; rolled up as the job would
    const earlyProject = await api(server.url, 'POST', '/api/v1/projects', { ...settings, slug: 'early', name: 'Eight days' }, token);
    const { secret: earlyKey } = await api(server.url, 'POST', '/api/v1/projects/early/api-keys', { name: 'bench', scopes: ['ingest'] }, token);
    for (let day = 7; day >= 0; day--) {
      await ingest(server.url, 'early', earlyKey, perDay, day);
      await labelRouted(database.url, earlyProject.id);
    }
    await runRetention(server.url, 'early', token);
    log(
      `${TOTAL.toLocaleString('en-US')} predictions over ${DAYS} days (${perDay.toLocaleString('en-US')} a day), retention ${RETENTION_DAYS} days with an archive …`,
    );

    // the baselines: an empty table, and the endpoints with the last 8 days alone (above)
    const empty = await ingest(server.url, 'scale', key, FIRST, DAYS);
    // every prediction sent, the baseline's first 100,000 included
    let sent = FIRST;
    const early = await endpointP95(server.url, 'early', token);
    const earlyCount = 8 * perDay;
    // gone before the month starts: the sizes below are the month's project alone
    await api(server.url, 'DELETE', '/api/v1/projects/early?confirm=early', undefined, token);
    log(`empty table: ${Math.round(empty.rate).toLocaleString('en-US')} rows/s; p95 with the last 8 days alone: ${JSON.stringify(early)}`);

    let afterWeek;
    let last;
    const retentionSeconds = [];
    const duringRetention = [];
    for (let day = DAYS - 1; day >= 0; day--) {
      const today = Math.max(0, day === DAYS - 1 ? perDay - FIRST : perDay);
      sent += today;
      // the job runs while traffic goes on: one batch stream during each run
      const traffic = ingest(server.url, 'scale', key, today, day);
      const began = performance.now();
      // as the hourly job would have run as the day began: the days before are over, today's hours are still coming in
      // (a run as of the day's end, while its traffic is sent, rolls hours half full and rolls them all again later)
      const reply = await runRetention(server.url, 'scale', token, { asOf: new Date(Date.now() - (day + 1) * DAY_MS).toISOString() });
      if (reply.partitions) retentionSeconds.push((performance.now() - began) / 1000);
      last = await traffic;
      await labelRouted(database.url, project.id);
      if (reply.partitions) duringRetention.push(...last.latencies);
      if (DAYS - day === RETENTION_DAYS) afterWeek = await sizes(database.url, project.id);
      if ((DAYS - day) % (TOTAL > 1_000_000 ? 1 : 5) === 0)
        log(`day ${DAYS - day}: ${Math.round(last.rate).toLocaleString('en-US')} rows/s; retention ${JSON.stringify(reply).slice(0, 160)}`);
    }
    const final = await runRetention(server.url, 'scale', token);
    const end = await sizes(database.url, project.id);
    const late = await endpointP95(server.url, 'scale', token);
    const tail = await ingest(server.url, 'scale', key, FIRST, 0);
    const archived = archiveBytes(archive);
    log(
      `after day ${RETENTION_DAYS}: ${afterWeek.rows.toLocaleString('en-US')} rows, ${(afterWeek.bytes / afterWeek.rows).toFixed(0)} bytes a prediction; ` +
        `at the end: ${end.rows.toLocaleString('en-US')} rows (${(end.bytes / end.rows).toFixed(0)} bytes a prediction), database ${(end.database / 2 ** 20).toFixed(0)} MiB ` +
        `(after day ${RETENTION_DAYS}: ${(afterWeek.database / 2 ** 20).toFixed(0)} MiB); archive ${(archived / 2 ** 20).toFixed(0)} MiB; last retention ${JSON.stringify(final).slice(0, 120)}; ` +
        `retention runs took ${retentionSeconds.map((s) => s.toFixed(1)).join(', ')} s; slowest batch during them ${Math.max(0, ...duringRetention).toFixed(0)} ms; ` +
        `rollups: ${end.rollups.rows.toLocaleString('en-US')} rows, ${(end.rollups.bytes / 2 ** 20).toFixed(1)} MiB for ${end.rollups.predictions.toLocaleString('en-US')} of the ${sent.toLocaleString('en-US')} predictions sent`,
    );
    return [
      {
        figure: `scale: database size after ${DAYS} days`,
        value: end.database / 2 ** 20,
        unit: 'MiB',
        baseline: `size after day ${RETENTION_DAYS}`,
        baselineValue: afterWeek.database / 2 ** 20,
        target: 1.2,
        lowerIsBetter: true,
      },
      {
        figure: 'scale: bytes on disk per prediction kept',
        value: end.bytes / end.rows,
        unit: 'B',
        baseline: `the same after day ${RETENTION_DAYS}`,
        baselineValue: afterWeek.bytes / afterWeek.rows,
      },
      {
        figure: 'scale: archive bytes per prediction removed',
        value: archived / Math.max(1, sent - end.rows),
        unit: 'B',
        baseline: 'bytes on disk per prediction',
        baselineValue: afterWeek.bytes / afterWeek.rows,
      },
      {
        figure: 'scale: rollup bytes per prediction rolled up',
        value: end.rollups.bytes / Math.max(1, end.rollups.predictions),
        unit: 'B',
        baseline: 'bytes on disk per prediction',
        baselineValue: afterWeek.bytes / afterWeek.rows,
      },
      {
        figure: `scale: batch ingest after ${DAYS} days`,
        value: tail.rate,
        unit: 'rows/s',
        baseline: 'the same into the empty table',
        baselineValue: empty.rate,
        target: 0.9,
      },
      ...Object.keys(early).map((name) => ({
        figure: `scale: ${name} p95 after ${DAYS} days`,
        value: late[name],
        unit: 'ms',
        baseline: `p95 with the last 8 days alone (${earlyCount.toLocaleString('en-US')} predictions)`,
        baselineValue: early[name],
        target: 2,
        lowerIsBetter: true,
      })),
      {
        figure: 'scale: slowest batch while retention ran',
        value: Math.max(0, ...duringRetention),
        unit: 'ms',
        baseline: 'p95 batch into the empty table',
        baselineValue: p95(empty.latencies),
      },
    ];
  } finally {
    await server.stop();
    await database.stop();
    fs.rmSync(archive, { recursive: true, force: true });
  }
}

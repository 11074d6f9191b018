// Export throughput and memory: 1,000,000 labeled rows to GZIP TFRecord by the CLI (its own process,
// its peak RSS read from /proc), beside raw `COPY … TO STDOUT` of the span's rows, and the peak RSS of
// a 100,000-row export: memory must not grow with the span.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { api, ADMIN, root, startDatabase, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');
const { to: copyTo } = require('pg-copy-streams');

const LARGE = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
const SMALL = Math.round(LARGE / 10);

/** `rows` predictions with ten features and a feedback label each, written by SQL (the setup is not measured). */
async function seed(databaseUrl, projectId, rows, questions = false) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date], false)`, [projectId]);
    await client.query(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, occurred_at, occurred_on)
       SELECT $1, gen_random_uuid(), 'mail-filter', '2.3.1',
              jsonb_build_object('subject', 'Your invoice ' || i || ' is ready', 'sender_domain', (ARRAY['example.com', 'mail.example.org'])[1 + i % 2],
                                 'body_length', 200 + i % 1800, 'links', i % 7, 'has_attachment', i % 5 = 0, 'hour', i % 24,
                                 'language', (ARRAY['en', 'fr', 'de'])[1 + i % 3], 'sender_reputation', (i % 100) / 100.0,
                                 'recipients', 1 + i % 4, 'tokens', jsonb_build_array('invoice', 'ready')),
              '{"ham": 0.7, "spam": 0.3}', 'ham', 0.7, '{"country": "FR"}', now(), (now() AT TIME ZONE 'UTC')::date
         FROM generate_series(1, $2) AS i`,
      [projectId, rows],
    );
    if (questions) {
      // a multi-label answer (label indexes and a multi-hot list in the export) and a number with a fraction
      await client.query(
        `INSERT INTO labels (project_id, prediction_id, value, source, rule, answers)
         SELECT project_id, id, array_to_string(t, E'\\n'), 'feedback', 'bench', jsonb_build_object('topics', to_jsonb(t), 'minutes', m)
           FROM (SELECT project_id, id,
                        CASE get_byte(uuid_send(id), 0) % 4 WHEN 0 THEN ARRAY['billing'] WHEN 1 THEN ARRAY['billing', 'security'] WHEN 2 THEN ARRAY['newsletter']
                             ELSE ARRAY[]::text[] END AS t,
                        (get_byte(uuid_send(id), 1) + 0.5)::float8 AS m
                   FROM predictions WHERE project_id = $1) p`,
        [projectId],
      );
    } else {
      await client.query(
        `INSERT INTO labels (project_id, prediction_id, value, source, rule, answers)
         SELECT project_id, id, v, 'feedback', 'bench', jsonb_build_object('label', v)
           FROM (SELECT project_id, id, CASE WHEN (get_byte(uuid_send(id), 0) % 3) = 0 THEN 'spam' ELSE 'ham' END AS v FROM predictions WHERE project_id = $1) p`,
        [projectId],
      );
    }
  } finally {
    await client.end();
  }
}

/** The CLI's export in its own process: seconds, rows, and its peak RSS (VmHWM) sampled until it exits. */
async function cliExport(databaseUrl, exportRoot, slug) {
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_EXPORT_NODE_ARGS?.split(' ') ?? []), path.join(root, 'server/dist/cli.js'), '--json', 'export', slug],
    {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, EXPORT_ROOT: exportRoot, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  let peak = 0;
  const sample = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
    } catch {
      // exited
    }
  }, 50);
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (process.env.BENCH_SHOW_STDERR) process.stderr.write(stderr.replace(/exporting[^\n]*/g, ''));
  clearInterval(sample);
  if (code !== 0) throw new Error(`export failed (${code}): ${stderr.slice(-2000)}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, rows: JSON.parse(stdout).rows, peakRss: peak };
}

/**
 * The floor: the rows of the span the export just wrote, out of PostgreSQL by COPY TO STDOUT with
 * the export's own joins and order, read and dropped. (Until 5 December this joined labels to
 * predictions by project; its plan, and so its time, turned on whether autovacuum had analyzed the
 * tables yet: 4.4 to 15 s for the same million rows.)
 */
async function rawCopyOut(databaseUrl, projectId) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const [{ id: spanId }] = (await client.query(`SELECT id FROM export_spans WHERE project_id = $1 AND span = 1`, [projectId])).rows;
    const started = process.hrtime.bigint();
    let bytes = 0;
    const stream = client.query(
      copyTo(`COPY (SELECT l.prediction_id, l.value, l.answers, l.source, l.agreement, l.weight, p.input, p.model_name, p.model_version
                      FROM span_labels sl JOIN labels l ON l.id = sl.label_id
                      JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
                     WHERE sl.span_id = ${Number(spanId)} ORDER BY l.prediction_id, l.id) TO STDOUT`),
    );
    await pipeline(stream, new Writable({ write: (chunk, _encoding, done) => ((bytes += chunk.length), done()) }));
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
  } finally {
    await client.end();
  }
}

/** Statistics for every table the exports read, so neither the export nor the floor depends on when autovacuum came by. */
async function analyze(databaseUrl) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}

export async function run(log) {
  const database = await startDatabase();
  const server = await startServer(database.url);
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-bench-exports-'));
  let stopped = false;
  try {
    const { token } = await api(server.url, 'POST', '/api/v1/auth/login', ADMIN);
    const projects = {};
    const questions = [
      { name: 'topics', kind: 'multi_label', labels: ['billing', 'security', 'newsletter', 'personal'].map((name) => ({ name })) },
      { name: 'minutes', kind: 'numeric', min: 0 },
    ];
    for (const [slug, rows, asked] of [
      ['export-small', SMALL, false],
      ['export-large', LARGE, false],
      ['export-questions', LARGE, true],
    ]) {
      const kinds = asked ? { questions } : { taskType: 'single_label', labels: [{ name: 'ham' }, { name: 'spam' }] };
      const created = await api(server.url, 'POST', '/api/v1/projects', { slug, name: slug, ...kinds, export: { formats: ['tfrecord'] } }, token);
      log(`seeding ${rows.toLocaleString('en-US')} labeled rows into ${slug}`);
      await seed(database.url, created.id, rows, asked);
      projects[slug] = created.id;
    }
    await server.stop();
    stopped = true;
    await analyze(database.url);

    log(`exporting ${SMALL.toLocaleString('en-US')} rows (the memory baseline)`);
    const small = await cliExport(database.url, exportRoot, 'export-small');
    log(`exporting ${LARGE.toLocaleString('en-US')} rows`);
    const large = await cliExport(database.url, exportRoot, 'export-large');
    log(`raw COPY TO STDOUT of the ${LARGE.toLocaleString('en-US')} rows of its span`);
    const copy = await rawCopyOut(database.url, projects['export-large']);
    log(`exporting ${LARGE.toLocaleString('en-US')} rows of a multi-label + numeric project`);
    const asked = await cliExport(database.url, exportRoot, 'export-questions');
    const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);
    log(
      `export ${large.rows} rows in ${large.seconds.toFixed(1)} s (${Math.round(large.rows / large.seconds)} rows/s, peak RSS ${mb(large.peakRss)} MiB); COPY TO STDOUT ${copy.seconds.toFixed(1)} s (${Math.round(LARGE / copy.seconds)} rows/s); ${small.rows} rows: peak RSS ${mb(small.peakRss)} MiB`,
    );
    return [
      {
        // a ratio to the same run's COPY, not a fixed time: a slower machine is slower at both (issue 22)
        figure: `export of ${LARGE.toLocaleString('en-US')} rows to TFRecord.gz, CLI process (${large.seconds.toFixed(1)} s)`,
        value: large.rows / large.seconds,
        unit: 'rows/s',
        baseline: "COPY … TO STDOUT of the span's rows (the same joins and order), read and dropped",
        baselineValue: LARGE / copy.seconds,
        target: 0.25,
      },
      {
        figure: `export of ${LARGE.toLocaleString('en-US')} rows of a multi-label + numeric project (label indexes, multi-hot, a float per row)`,
        value: asked.seconds,
        unit: 's',
        baseline: 'the single-label export of as many rows, this run',
        baselineValue: large.seconds,
        target: 1.2,
        lowerIsBetter: true,
      },
      {
        figure: `export peak RSS at ${LARGE.toLocaleString('en-US')} rows`,
        value: large.peakRss / 2 ** 20,
        unit: 'MiB',
        baseline: `peak RSS at ${SMALL.toLocaleString('en-US')} rows`,
        baselineValue: small.peakRss / 2 ** 20,
        target: 1.2,
        lowerIsBetter: true,
      },
    ];
  } finally {
    if (!stopped) await server.stop();
    await database.stop();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  }
}

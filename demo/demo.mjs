#!/usr/bin/env node
// `npm run demo`: the whole loop on real data. Starts Backflow, creates a spam-filter project from the SpamAssassin
// corpus, streams a small model's predictions through libs/client-ts, simulates user feedback and raters, and after
// each span lands trains the next model version from the span's TFRecord files and deploys it. Beside it, a project
// of another question kind does the same with house prices (a numeric question; demo/house-demo.mjs).
// `npm run demo -- --compare`: uncertainty against random routing at the same label budget, then exits.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BackflowClient } from '@backflow/client-ts';
import { api, ensureMember, ensureProject, idempotent, landSpan as landSpanOf, signIn, sourcesOf } from './backflow-api.mjs';
import { FEEDBACK_RULES, FeedbackSimulator } from './feedback-simulator.mjs';
import { runHouseLoop } from './house-demo.mjs';
import { runRunsLoop } from './runs-demo.mjs';
import { runAssistantLoop } from './assistant-demo.mjs';
import { SimulatedRater } from './simulated-raters.mjs';
import { compareSvg, curveSvg } from './charts.mjs';
import { LABELS, loadCorpus, randomSource } from './spam-corpus.mjs';
import { evaluate, trainModel } from './spam-model.mjs';
import { committeeOf, embeddingOf, labelsToReach, policySettings, POLICIES } from './compare-policies.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { values: flags } = parseArgs({
  options: {
    raters: { type: 'string', default: '0' },
    'rater-accuracy': { type: 'string', default: '0.9' },
    rate: { type: 'string', default: '5' },
    'span-every': { type: 'string', default: '60' },
    'span-minutes': { type: 'string', default: '3' },
    'seed-size': { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    project: { type: 'string', default: 'spam-demo' },
    only: { type: 'string' },
    'house-project': { type: 'string', default: 'house-demo' },
    'house-rate': { type: 'string', default: '1' },
    'house-span-every': { type: 'string', default: '20' },
    'house-seed-size': { type: 'string', default: '20' },
    'house-rater-noise': { type: 'string', default: '0.02' },
    'runs-project': { type: 'string', default: 'runs-demo' },
    'runs-day-seconds': { type: 'string', default: '4' },
    'runs-lists-per-day': { type: 'string', default: '300' },
    'assistant-project': { type: 'string', default: 'assistant-demo' },
    'assistant-prompts': { type: 'string', default: '400' },
    compare: { type: 'boolean', default: false },
    'compare-rounds': { type: 'string', default: '10' },
    'compare-batch': { type: 'string', default: '400' },
    'compare-labels': { type: 'string', default: '20' },
    'compare-seeds': { type: 'string', default: '5' },
    'compare-targets': { type: 'string', default: '0.85,0.9,0.93' },
    'compare-policies': { type: 'string', default: POLICIES.join(',') },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`npm run demo -- [--raters N] [--rater-accuracy 0.9] [--rate 5] [--span-every 60] [--span-minutes 3]
                   [--seed-size 40] [--seed 1] [--project spam-demo] [--only spam|houses|runs|assistant]
                   [--house-project house-demo] [--house-rate 1] [--house-span-every 20] [--house-seed-size 20] [--house-rater-noise 0.02]
                   [--runs-project runs-demo] [--runs-day-seconds 4] [--runs-lists-per-day 300]
                   [--assistant-project assistant-demo] [--assistant-prompts 400]
npm run demo -- --compare [--compare-rounds 10] [--compare-batch 400] [--compare-labels 20] [--rater-accuracy 0.9]
                   [--compare-seeds 5] [--compare-policies ${POLICIES.join(',')}] [--compare-targets 0.85,0.9,0.93]`);
  process.exit(0);
}
const number = (name, { min = 0, max = Infinity } = {}) => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got ${flags[name]}`);
  return value;
};
const options = {
  raters: Math.floor(number('raters', { max: 50 })),
  raterAccuracy: number('rater-accuracy', { max: 1 }),
  rate: number('rate', { min: 0.1, max: 500 }),
  spanEvery: Math.floor(number('span-every', { min: 1 })),
  spanMinutes: number('span-minutes', { min: 0.1 }),
  seedSize: Math.floor(number('seed-size', { min: 4 })),
  seed: Math.floor(number('seed')),
  project: flags.project,
  only: flags.only,
  houseProject: flags['house-project'],
  houseRate: number('house-rate', { min: 0.1, max: 500 }),
  houseSpanEvery: Math.floor(number('house-span-every', { min: 1 })),
  houseSeedSize: Math.floor(number('house-seed-size', { min: 10, max: 200 })),
  houseRaterNoise: number('house-rater-noise', { max: 1 }),
  runsProject: flags['runs-project'],
  runsDaySeconds: number('runs-day-seconds', { min: 0 }),
  runsListsPerDay: Math.floor(number('runs-lists-per-day', { min: 10, max: 5_000 })),
  assistantProject: flags['assistant-project'],
  assistantPrompts: Math.floor(number('assistant-prompts', { min: 10, max: 20_000 })),
  compareRounds: Math.floor(number('compare-rounds', { min: 1 })),
  compareBatch: Math.floor(number('compare-batch', { min: 10 })),
  compareLabels: Math.floor(number('compare-labels', { min: 1 })),
  compareSeeds: Math.floor(number('compare-seeds', { min: 1, max: 50 })),
  comparePolicies: flags['compare-policies'].split(',').map((p) => p.trim()),
  compareTargets: flags['compare-targets'].split(',').map((t) => {
    const target = Number(t);
    if (!(target > 0 && target < 1)) throw new Error(`--compare-targets: ${t} is not an accuracy between 0 and 1`);
    return target;
  }),
};
for (const policy of options.comparePolicies)
  if (!POLICIES.includes(policy)) throw new Error(`--compare-policies: ${policy} is not one of ${POLICIES.join(', ')}`);
if (options.only !== undefined && !['spam', 'houses', 'runs', 'assistant'].includes(options.only))
  throw new Error(`--only must be spam, houses, runs or assistant, got ${options.only}`);

const port = Number(process.env.PORT ?? 3000);
const baseUrl = `http://127.0.0.1:${port}`;
// the demo's own data directory by default, so it never meets the admin of an earlier `npm start`
const dataDir = path.resolve(root, process.env.BACKFLOW_DATA_DIR ?? '.data/demo');
const admin = { email: process.env.BACKFLOW_ADMIN_EMAIL ?? 'admin@example.com', password: process.env.BACKFLOW_ADMIN_PASSWORD ?? 'demo-admin-password' };
const PEOPLE = [
  { email: 'rater1@example.com', password: 'demo-rater1-password' },
  { email: 'rater2@example.com', password: 'demo-rater2-password' },
];
const simulatedRaterAccount = (n) => ({ email: `sim-rater${n}@example.com`, password: `demo-sim-rater${n}-password` });

const log = (line) => console.log(`[demo ${new Date().toISOString().slice(11, 19)}] ${line}`);
const percent = (x) => `${(100 * x).toFixed(1)}%`;
const sliceText = (slices) =>
  Object.entries(slices)
    .sort()
    .map(([k, v]) => `${k} ${percent(v)}`)
    .join(', ');

let server;
let stopping = false;

function startServer() {
  mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'demo-server.log');
  const out = createWriteStream(logFile, { flags: 'a' });
  const env = {
    LOG_LEVEL: 'warn',
    ...process.env,
    PORT: String(port),
    BACKFLOW_DATA_DIR: dataDir,
    BACKFLOW_ADMIN_EMAIL: admin.email,
    BACKFLOW_ADMIN_PASSWORD: admin.password,
  };
  server = spawn(process.execPath, ['--max-semi-space-size=64', path.join(root, 'server/dist/main.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.pipe(out);
  server.stderr.pipe(out);
  server.once('exit', (code, signal) => {
    if (stopping) return;
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
    console.error(`Backflow stopped unexpectedly (${signal ?? `exit ${code}`}); the end of ${logFile}:\n${tail}`);
    process.exit(1);
  });
  return logFile;
}

async function waitForHealth(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(`Backflow did not answer ${baseUrl}/healthz within ${timeoutMs / 1000} s`);
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!killed) server.kill('SIGKILL');
}

const cleanups = [];
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(error);
    }
  }
  await stopServer();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, (s) => void shutdown(s));

function projectSettings(slug, name, routing) {
  return {
    slug,
    name,
    taskType: 'single_label',
    labels: [
      { name: 'ham', hotkey: '1', description: 'mail the recipient wanted (newsletters they subscribed to included)' },
      { name: 'spam', hotkey: '2', description: 'unsolicited bulk mail: ads, scams, offers nobody asked for' },
    ],
    instructions: [
      '# Is this email spam?',
      'Real emails from the SpamAssassin public corpus (2002-2003). Read the subject, the sender and the body.',
      '- **ham** (1): mail the recipient wanted: people, mailing lists, newsletters they signed up for.',
      '- **spam** (2): unsolicited bulk mail: ads, offers, scams.',
      'Not sure? Press S to skip.',
    ].join('\n\n'),
    overlap: 1,
    routing,
    feedbackRules: FEEDBACK_RULES,
    export: {
      formats: ['tfrecord'],
      features: ['subject', 'sender', 'body', 'format'].map((feature) => ({ name: feature, type: 'bytes' })),
      splits: { train: 80, eval: 20 },
    },
    monitoring: { minLabels: 10 },
  };
}

async function createKey(adminApi, slug, name, scopes) {
  const key = await adminApi.post(`/api/v1/projects/${slug}/api-keys`, { name, scopes });
  // revoked on the way out, when the server is still there to hear it (Ctrl-C reaches it too)
  cleanups.push(() =>
    fetch(`${baseUrl}/api/v1/projects/${slug}/api-keys/${key.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminApi.token}` } }).catch(
      () => undefined,
    ),
  );
  return key.secret;
}

const landSpan = (adminApi, exportApi, slug) => landSpanOf({ adminApi, exportApi, slug, directory: path.join(dataDir, 'demo-spans') });

async function setUp() {
  log(`starting Backflow on ${baseUrl} (data in ${dataDir}${process.env.DATABASE_URL ? ', PostgreSQL at DATABASE_URL' : ', embedded PostgreSQL'})`);
  if (
    await fetch(`${baseUrl}/healthz`).then(
      () => true,
      () => false,
    )
  )
    throw new Error(`something already answers on port ${port}: stop it, or set PORT`);
  const logFile = startServer();
  await waitForHealth(180_000);
  log(`Backflow is up (server log: ${logFile})`);
  let token;
  try {
    token = await signIn(baseUrl, admin.email, admin.password);
  } catch (error) {
    throw new Error(
      `cannot sign in as ${admin.email}: ${error.message}. This database has another admin: set BACKFLOW_ADMIN_EMAIL and BACKFLOW_ADMIN_PASSWORD to theirs, or BACKFLOW_DATA_DIR to a new directory.`,
      { cause: error },
    );
  }
  const adminApi = Object.assign(api(baseUrl, token), { token });
  return adminApi;
}

async function runLoop(adminApi, simulated) {
  const slug = options.project;
  const corpus = loadCorpus({ seed: options.seed, seedSize: options.seedSize });
  const truthByKey = new Map([...corpus.seed, ...corpus.traffic, ...corpus.test].map((email) => [email.key, email.label]));
  // enough exploration that the monitoring page's estimate for all traffic rests on more than a handful of labels
  const routing = {
    strategy: 'entropy',
    targetRate: 0.08,
    explorationRate: 0.05,
    budget: { perHour: 2_000 },
    contradictionConfidence: 0.8,
    dedupeWindowMinutes: 60,
  };
  const state = await ensureProject(adminApi, projectSettings(slug, 'Spam filter (demo)', routing));
  for (const account of [...PEOPLE, ...simulated]) await ensureMember(adminApi, slug, account, 'rater');
  const ingestKey = await createKey(adminApi, slug, `demo model server ${new Date().toISOString()}`, ['ingest']);
  const exportKey = await createKey(adminApi, slug, `demo trainer ${new Date().toISOString()}`, ['export:read']);
  const exportApi = api(baseUrl, exportKey);
  log(
    `project "${slug}" (${state}): ${corpus.seed.length + corpus.traffic.length + corpus.test.length} emails of the SpamAssassin public corpus; label at ${baseUrl}/projects/${slug}/label, monitoring at ${baseUrl}/projects/${slug}/quality`,
  );

  const test = corpus.test;
  let model = trainModel(corpus.seed, 'v1');
  const curve = [];
  const first = evaluate(model, test);
  curve.push({ version: model.version, span: 0, examples: model.examples, ...first });
  log(
    `model v1 trained on ${corpus.seed.length} seed emails: accuracy ${percent(first.accuracy)} on ${test.length} held-out emails (${sliceText(first.slices)})`,
  );

  const random = randomSource(options.seed + 7);
  let rejected = 0;
  const backflow = new BackflowClient({
    baseUrl,
    apiKey: ingestKey,
    project: slug,
    onRejected: (_kind, items) => {
      rejected += items.length;
      if (rejected <= 3) log(`rejected: ${items[0].code} ${items[0].field} ${items[0].message}`);
    },
    onError: (error) => stopping || log(`ingest error: ${error.message}`),
  });
  const feedback = new FeedbackSimulator({ backflow, random });
  cleanups.push(async () => {
    feedback.stop();
    // Ctrl-C reaches the server too: what it can no longer take is not worth waiting for
    await Promise.race([backflow.close(), sleep(3_000)]);
  });

  const raters = [];
  for (const account of simulated) {
    const raterToken = await signIn(baseUrl, account.email, account.password);
    const rater = new SimulatedRater({
      client: api(baseUrl, raterToken),
      project: slug,
      email: account.email,
      truthByKey,
      accuracy: options.raterAccuracy,
      random: randomSource(options.seed * 31 + raters.length),
    });
    raters.push(rater);
    void rater.run((r, error) => stopping || log(`${r.email}: ${error.message}`));
  }
  cleanups.push(() => raters.forEach((r) => r.stop()));

  let sent = 0;
  let next = 0;
  const producer = setInterval(() => {
    const email = corpus.traffic[next++ % corpus.traffic.length];
    const scores = model.predict(email);
    const predicted = scores.spam >= 0.5 ? 'spam' : 'ham';
    const id = backflow.predict({
      id: randomUUID(),
      model: { name: 'spam-filter', version: model.version },
      input: { subject: email.subject, sender: email.sender, body: email.body, format: email.format },
      scores,
      slice: { format: email.format, tld: email.tld },
    });
    feedback.observe(id, email, predicted);
    sent++;
  }, 1_000 / options.rate);
  cleanups.push(() => clearInterval(producer));

  // the whole curve on the way out, on screen and beside the server log
  cleanups.push(() => {
    if (curve.length < 2) return;
    const table = curveTable(curve);
    writeFileSync(path.join(dataDir, 'demo-curve.md'), `${table}\n`);
    writeFileSync(path.join(dataDir, 'demo-curve.svg'), curveSvg(curve, test.length));
    console.log(
      `\naccuracy on ${test.length} held-out emails by model version (also in ${path.join(dataDir, 'demo-curve.md')}, charted in demo-curve.svg):\n${table}\n`,
    );
  });
  const training = [...corpus.seed];
  let labelsAtLastSpan = 0;
  let lastSpanAt = Date.now();
  let lastReport = 0;
  const labelsSoFar = () => raters.reduce((n, r) => n + r.labels, 0) + feedback.sent;
  while (!stopping) {
    await sleep(2_000);
    if (stopping) break;
    const labels = labelsSoFar();
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      const stats = backflow.stats();
      const operations = await adminApi.get(`/api/v1/projects/${slug}/operations?minutes=60`).catch(() => undefined);
      const tasks = operations?.points.reduce((n, p) => n + p.created, 0);
      const open = operations?.points.at(-1)?.open;
      const queue = operations ? `, tasks ${tasks} (open ${open ?? 0})` : '';
      log(
        `predictions sent ${sent}, feedback events ${feedback.sent} (client: ${stats.accepted} stored, ${stats.buffered} buffered)${queue}, simulated answers ${raters.reduce((n, r) => n + r.answers, 0)}, model ${model.version}`,
      );
    }
    const due = labels - labelsAtLastSpan >= options.spanEvery || Date.now() - lastSpanAt >= options.spanMinutes * 60_000;
    if (!due) continue;
    lastSpanAt = Date.now();
    labelsAtLastSpan = labels;
    await backflow.flush();
    const landed = await landSpan(adminApi, exportApi, slug).catch((error) => log(`export: ${error.message}`));
    if (!landed) continue;
    training.push(...landed.rows.filter((row) => LABELS.includes(row.label)));
    const version = `v${curve.length + 1}`;
    model = trainModel(training, version);
    const result = evaluate(model, test);
    curve.push({ version, span: landed.span, examples: training.length, ...result });
    log(`span ${landed.span} landed: ${landed.rows.length} labels (${sourcesOf(landed.rows)}), read back from its TFRecord files`);
    log(
      `model ${version} trained on ${training.length} emails (seed + spans 1-${landed.span}): accuracy ${percent(result.accuracy)} (${sliceText(result.slices)}); deployed`,
    );
    console.log(curveTable(curve.length > 12 ? [curve[0], ...curve.slice(-11)] : curve));
  }
}

function curveTable(curve) {
  const slices = [...new Set(curve.flatMap((c) => Object.keys(c.slices)))].sort();
  const header = `| model | trained after | training emails | accuracy | ${slices.join(' | ')} |`;
  const rule = `| --- | --- | ---: | ---: | ${slices.map(() => '---:').join(' | ')} |`;
  const rows = curve.map(
    (c) =>
      `| ${c.version} | ${c.span === 0 ? 'seed' : `span ${c.span}`} | ${c.examples} | ${percent(c.accuracy)} | ${slices.map((s) => (c.slices[s] === undefined ? '' : percent(c.slices[s]))).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

/**
 * The same loop in rounds, once per routing policy on a fresh project: a batch of traffic, then at most
 * `compareLabels` tasks labeled (highest priority first, as raters get them), a span, the next model.
 */
async function runPolicy(adminApi, policy, corpus, truthByKey, seed) {
  const batch = options.compareBatch;
  const budget = options.compareLabels;
  const slug = `spam-compare-${policy}-${seed}-${Date.now().toString(36)}`;
  const settings = policySettings(policy, budget, batch);
  const base = projectSettings(slug, `Spam filter: ${policy} routing (seed ${seed})`, settings.routing);
  await ensureProject(adminApi, {
    ...base,
    ...(settings.weakSupervision ? { weakSupervision: settings.weakSupervision } : {}),
    export: { ...base.export, ...(settings.sources ? { sources: settings.sources } : {}) },
  });
  const account = simulatedRaterAccount(1);
  await ensureMember(adminApi, slug, account, 'rater');
  const rater = new SimulatedRater({
    client: api(baseUrl, await signIn(baseUrl, account.email, account.password)),
    project: slug,
    email: account.email,
    truthByKey,
    accuracy: options.raterAccuracy,
    random: randomSource(seed * 131),
    speed: 0,
  });
  const bootstrap = randomSource(seed * 17 + 3);
  const exportApi = api(baseUrl, await createKey(adminApi, slug, 'compare trainer', ['export:read']));
  const backflow = new BackflowClient({
    baseUrl,
    apiKey: await createKey(adminApi, slug, 'compare model server', ['ingest']),
    project: slug,
    onError: (error) => log(`ingest error: ${error.message}`),
  });

  const training = [...corpus.seed];
  let model = trainModel(training, 'v1');
  const points = [{ labels: 0, accuracy: evaluate(model, corpus.test).accuracy }];
  let spent = 0;
  for (let round = 0; round < options.compareRounds && !stopping; round++) {
    const committee = policy === 'committee' ? committeeOf(training, model.version, bootstrap) : [];
    for (const email of corpus.traffic.slice(round * batch, (round + 1) * batch)) {
      backflow.predict({
        model: { name: 'spam-filter', version: model.version },
        input: { subject: email.subject, sender: email.sender, body: email.body, format: email.format },
        scores: model.predict(email),
        slice: { format: email.format },
        ...(committee.length ? { committee: Object.fromEntries(committee.map((m, i) => [`bootstrap${i + 1}`, m.predict(email)])) } : {}),
        ...(policy === 'diversity' ? { embedding: embeddingOf(email) } : {}),
      });
    }
    await backflow.flush();
    let labeled = 0;
    while (labeled < budget && (await rater.labelOne())) labeled++;
    spent += labeled;
    // the label model's labels join the span (they cost no one's time)
    if (policy === 'weak') await adminApi.post(`/api/v1/projects/${slug}/weak-supervision/label`, {});
    const landed = await landSpan(adminApi, exportApi, slug);
    if (landed) training.push(...landed.rows);
    model = trainModel(training, `v${round + 2}`);
    const { accuracy } = evaluate(model, corpus.test);
    points.push({ labels: spent, accuracy });
    log(`${policy} (seed ${seed}): round ${round + 1}, ${spent} labels spent, model ${model.version} accuracy ${percent(accuracy)}`);
  }
  await backflow.close();
  return points;
}

async function runCompare(adminApi) {
  const seeds = Array.from({ length: options.compareSeeds }, (_, i) => options.seed + i);
  log(
    `compare: ${options.comparePolicies.join(', ')} over seeds ${seeds.join(', ')}; ${options.compareRounds} rounds of ${options.compareBatch} predictions, at most ${options.compareLabels} labels per round (rater accuracy ${options.raterAccuracy})`,
  );
  const curves = new Map(options.comparePolicies.map((policy) => [policy, []]));
  let first;
  for (const seed of seeds) {
    const corpus = loadCorpus({ seed, seedSize: options.seedSize });
    if (options.compareRounds * options.compareBatch > corpus.traffic.length)
      throw new Error(`--compare-rounds × --compare-batch must be at most ${corpus.traffic.length}`);
    const truthByKey = new Map([...corpus.seed, ...corpus.traffic, ...corpus.test].map((email) => [email.key, email.label]));
    const bySeed = new Map();
    for (const policy of options.comparePolicies) {
      const points = await runPolicy(adminApi, policy, corpus, truthByKey, seed);
      bySeed.set(policy, points);
      curves.get(policy).push(points);
      if (stopping) return;
    }
    first ??= { bySeed, corpus };
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
  const targets = options.compareTargets;
  const lines = [
    `| policy | ${targets.map((t) => `labels to ${percent(t)}`).join(' | ')} | final accuracy | labels spent |`,
    `| --- | ${targets.map(() => '---:').join(' | ')} | ---: | ---: |`,
  ];
  for (const policy of options.comparePolicies) {
    const runs = curves.get(policy);
    const cells = targets.map((target) => {
      const needed = runs.map((points) => labelsToReach(points, target)).filter((n) => n !== null);
      if (needed.length === 0) return `not reached`;
      const missed = runs.length - needed.length;
      return `${mean(needed).toFixed(0)} ± ${sd(needed).toFixed(0)}${missed ? ` (${missed} of ${runs.length} seeds never)` : ''}`;
    });
    const finals = runs.map((points) => points.at(-1).accuracy);
    lines.push(
      `| ${policy} | ${cells.join(' | ')} | ${percent(mean(finals))} ± ${percent(sd(finals))} | ${Math.round(mean(runs.map((points) => points.at(-1).labels)))} |`,
    );
  }
  const seedAccuracy = mean([...curves.values()][0].map((points) => points[0].accuracy));
  console.log(
    `\nHuman labels to reach each held-out accuracy, mean ± sd over ${seeds.length} seeds (the seed model, on ${options.seedSize} emails: ${percent(seedAccuracy)}); ${options.compareLabels} labels per round of ${options.compareBatch} predictions, ${options.compareRounds} rounds:\n\n${lines.join('\n')}\n`,
  );
  if (first.bySeed.has('uncertainty') && first.bySeed.has('random')) {
    const chart = path.join(dataDir, 'demo-compare.svg');
    writeFileSync(chart, compareSvg({ uncertainty: first.bySeed.get('uncertainty'), random: first.bySeed.get('random') }, first.corpus.test.length));
    console.log(`(seed ${seeds[0]}'s uncertainty and random curves charted in ${chart})`);
  }
}

/** The four projects side by side (or the one `--only` names), with the same people and simulated raters. */
async function runProjects(adminApi) {
  const runs = (project) => options.only === undefined || options.only === project;
  const simulated = Array.from({ length: options.raters }, (_, i) => simulatedRaterAccount(i + 1));
  // the accounts first, so the two projects do not race to create them
  for (const account of [...PEOPLE, ...simulated]) await idempotent(() => adminApi.post('/api/v1/users', { ...account, role: 'rater' }));
  console.log(`
  Backflow demo: ${baseUrl}   (Ctrl-C stops the demo and the server)
    admin    ${admin.email} / ${admin.password}
${PEOPLE.map((p) => `    rater    ${p.email} / ${p.password}`).join('\n')}
    simulated raters: ${simulated.length ? `${simulated.map((s) => s.email).join(', ')} (accuracy ${options.raterAccuracy})` : 'none (--raters N to add some)'}
    projects: ${[
      runs('spam') && `${options.project} (spam filter, a label question)`,
      runs('houses') && `${options.houseProject} (house prices, a numeric question)`,
      runs('runs') && `${options.runsProject} (suggested runs, a ranking question)`,
      runs('assistant') && `${options.assistantProject} (a travel assistant, generation and preference questions)`,
    ]
      .filter(Boolean)
      .join(', ')}
`);
  const shared = {
    adminApi,
    baseUrl,
    dataDir,
    options,
    people: PEOPLE,
    simulated,
    log,
    isStopping: () => stopping,
    onCleanup: (cleanup) => cleanups.push(cleanup),
    createKey: (slug, name, scopes) => createKey(adminApi, slug, name, scopes),
  };
  await Promise.all([
    runs('spam') && runLoop(adminApi, simulated),
    runs('houses') && runHouseLoop(shared),
    runs('runs') && runRunsLoop(shared),
    runs('assistant') && runAssistantLoop(shared),
  ]);
}

try {
  const adminApi = await setUp();
  if (flags.compare) {
    await runCompare(adminApi);
    await shutdown('done');
  } else {
    await runProjects(adminApi);
  }
} catch (error) {
  console.error(`demo: ${error.message}`);
  stopping = true;
  await stopServer();
  process.exit(1);
}

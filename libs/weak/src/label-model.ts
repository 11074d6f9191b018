import { dawidSkene } from '@backflow/agreement';
import type { Vote } from './labeling-functions';

/** A labeling function's abstention, as Dawid-Skene sees it: an answer of its own. */
const ABSTAIN = '\u0000abstain';

/** A fitted label model as data (JSON): what applying it to new votes needs. */
export interface LabelModelParameters {
  classes: string[];
  priors: number[];
  /** per function, P(its answer | true class): a row per class, a column per class then one for abstaining */
  confusions: number[][][];
}

/** The probabilistic label of one prediction's votes under fitted parameters (all abstaining: the priors). */
export function applyLabelModel(parameters: LabelModelParameters, votes: readonly Vote[]): { label: string; probability: number; posteriors: number[] } {
  const { classes, priors, confusions } = parameters;
  const K = classes.length;
  const logs = priors.map(Math.log);
  votes.slice(0, confusions.length).forEach((vote, j) => {
    const confusion = confusions[j];
    const column = vote === null ? K : classes.indexOf(vote);
    if (column < 0) return;
    for (let t = 0; t < K; t++) logs[t] += Math.log(confusion[t][column]);
  });
  const top = Math.max(...logs);
  const weights = logs.map((l) => Math.exp(l - top));
  const sum = weights.reduce((a, b) => a + b, 0);
  const posteriors = weights.map((w) => w / sum);
  let best = 0;
  for (let t = 1; t < K; t++) if (posteriors[t] > posteriors[best]) best = t;
  return { label: classes[best], probability: posteriors[best], posteriors };
}

export interface LabelModel {
  classes: string[];
  /** the share of each true class */
  priors: number[];
  /**
   * Per function (in the order given), its estimated accuracy when it votes: P(the true class is
   * its vote | it voted), over its votes weighted as the model expects them; null for a function
   * that never voted.
   */
  accuracies: Array<number | null>;
  /** Per function, P(it votes | true class) for each class: how its coverage depends on the truth. */
  propensities: number[][];
  /** The probabilistic label of one prediction's votes (all abstaining: the priors). */
  predict(votes: readonly Vote[]): { label: string; probability: number; posteriors: number[] };
  /** the fitted parameters, to keep and apply elsewhere */
  parameters: LabelModelParameters;
  iterations: number;
  converged: boolean;
}

/**
 * Fits the label model: Dawid and Skene's EM with the labeling functions as raters and each
 * prediction as an item, an abstention being an answer of its own (so a function that only ever
 * votes one label still tells the classes apart: it votes more often on one). Starts from each
 * prediction's share of votes (majority vote), as the paper does.
 */
export function fitLabelModel(votes: ReadonlyArray<readonly Vote[]>, functions: number, classes: readonly string[]): LabelModel {
  // predictions with the same votes are one item with their count: a handful of functions make few patterns
  const patterns = new Map<string, { votes: readonly Vote[]; count: number }>();
  for (const row of votes) {
    const cast = row.slice(0, functions);
    const key = JSON.stringify(cast);
    const pattern = patterns.get(key);
    if (pattern) pattern.count++;
    else patterns.set(key, { votes: cast, count: 1 });
  }
  const answers = [...patterns.values()].flatMap((pattern, i) =>
    pattern.votes.map((vote, j) => ({ item: String(i), rater: String(j), label: vote ?? ABSTAIN })),
  );
  const itemWeights = new Map([...patterns.values()].map((pattern, i) => [String(i), pattern.count]));
  const fitted = dawidSkene(answers, classes, { answers: [ABSTAIN], smoothing: 0.5, itemWeights, maxIterations: 1_000 });
  const K = classes.length;
  const abstainColumn = K; // after the classes
  const confusionOf = (j: number) => fitted.confusion.get(String(j));
  const accuracies = Array.from({ length: functions }, (_, j) => {
    const confusion = confusionOf(j);
    if (!confusion || !votes.some((row) => row[j] !== null)) return null;
    // P(true = c | votes c) = π_c m[c][c] / Σ_t π_t m[t][c], over the labels it votes, weighted by how often it votes each
    let right = 0;
    let all = 0;
    for (let c = 0; c < K; c++) {
      const votesFor = classes.map((_, t) => fitted.priors[t] * confusion[t][c]);
      right += votesFor[c];
      all += votesFor.reduce((a, b) => a + b, 0);
    }
    return all > 0 ? right / all : null;
  });
  const propensities = Array.from({ length: functions }, (_, j) => {
    const confusion = confusionOf(j);
    return classes.map((_, t) => (confusion ? 1 - confusion[t][abstainColumn] : 0));
  });
  const parameters: LabelModelParameters = {
    classes: [...classes],
    priors: fitted.priors,
    confusions: Array.from({ length: functions }, (_, j) => confusionOf(j) ?? classes.map(() => new Array<number>(K + 1).fill(1 / (K + 1)))),
  };
  const predict = (row: readonly Vote[]) => applyLabelModel(parameters, row);
  return {
    classes: [...classes],
    priors: fitted.priors,
    accuracies,
    propensities,
    predict,
    parameters,
    iterations: fitted.iterations,
    converged: fitted.converged,
  };
}

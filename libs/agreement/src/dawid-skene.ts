export interface RaterAnswer {
  item: string;
  rater: string;
  label: string;
}

export interface DawidSkeneOptions {
  /** Stop after this many EM rounds even if not converged. */
  maxIterations?: number;
  /** Converged when no prior and no confusion cell moves by more than this in a round. */
  tolerance?: number;
  /**
   * A pseudo-count added to every confusion cell (a Dirichlet prior), so a rater never seen
   * giving some answer is not certain never to give it; 0 is the plain maximum likelihood of
   * the paper.
   */
  smoothing?: number;
  /**
   * What a rater may answer, when more than the true classes: a labeling function's abstention,
   * say. Each rater's confusion is then classes × answers; an item's starting classes count only
   * the answers that are classes (an item with none starts uniform).
   */
  answers?: readonly string[];
  /**
   * How many items each one stands for (1 when absent): items whose answers are all alike may be
   * given once with their count, which fits the same model in a fraction of the time.
   */
  itemWeights?: ReadonlyMap<string, number>;
}

export interface DawidSkeneResult {
  classes: string[];
  /** Estimated share of each true class. */
  priors: number[];
  /** Per rater, confusion[true][answered]: the probability of answering a class (or another answer, in `answers` order after the classes) given the true one. */
  confusion: Map<string, number[][]>;
  /** Per item, the probability of each true class. */
  posteriors: Map<string, number[]>;
  /** Per item, the most probable true class. */
  labels: Map<string, string>;
  iterations: number;
  converged: boolean;
  /** log-likelihood of the answers after each round (never falls when smoothing is 0) */
  logLikelihood: number[];
}

/**
 * Dawid and Skene's EM estimate of each rater's confusion matrix and each item's true class
 * (Dawid & Skene, "Maximum Likelihood Estimation of Observer Error-Rates Using the EM
 * Algorithm", Applied Statistics 28(1), 1979). Starts, as the paper does (eq. 3.1), from each
 * item's share of answers per class. A rater may answer an item more than once.
 */
export function dawidSkene(answers: readonly RaterAnswer[], classes: readonly string[], options: DawidSkeneOptions = {}): DawidSkeneResult {
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-6;
  const smoothing = options.smoothing ?? 0.01;
  const K = classes.length;
  // the answers a rater may give: the classes first, then any others (an abstention)
  const answerSet = [...classes, ...(options.answers ?? []).filter((a) => !classes.includes(a))];
  const A = answerSet.length;
  const classIndex = new Map(answerSet.map((c, i) => [c, i]));
  const items: string[] = [];
  const itemIndex = new Map<string, number>();
  const raters: string[] = [];
  const raterIndex = new Map<string, number>();
  // answers as (item, rater, class) triples
  const triples: Array<[number, number, number]> = [];
  for (const a of answers) {
    const c = classIndex.get(a.label);
    if (c === undefined) throw new RangeError(`answer ${a.label} is not one of the classes`);
    let i = itemIndex.get(a.item);
    if (i === undefined) itemIndex.set(a.item, (i = items.push(a.item) - 1));
    let r = raterIndex.get(a.rater);
    if (r === undefined) raterIndex.set(a.rater, (r = raters.push(a.rater) - 1));
    triples.push([i, r, c]);
  }
  const I = items.length;
  const R = raters.length;
  const weights = items.map((item) => options.itemWeights?.get(item) ?? 1);
  const totalWeight = weights.reduce((a, b) => a + b, 0);

  // T[i][j]: probability that item i's true class is j
  let T = Array.from({ length: I }, () => new Array<number>(K).fill(0));
  for (const [i, , c] of triples) if (c < K) T[i][c]++;
  for (const row of T) if (!normalise(row)) row.fill(1 / K);

  let priors = new Array<number>(K).fill(1 / K);
  let confusion = Array.from({ length: R }, () => Array.from({ length: K }, () => new Array<number>(A).fill(1 / A)));
  const logLikelihood: number[] = [];
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && I > 0) {
    iterations++;
    // M-step: priors and confusion matrices from the current soft classes (eqs. 2.3, 2.4)
    const nextPriors = new Array<number>(K).fill(0);
    T.forEach((row, i) => {
      for (let j = 0; j < K; j++) nextPriors[j] += (weights[i] * row[j]) / totalWeight;
    });
    const nextConfusion = Array.from({ length: R }, () => Array.from({ length: K }, () => new Array<number>(A).fill(smoothing)));
    for (const [i, r, c] of triples) for (let j = 0; j < K; j++) nextConfusion[r][j][c] += weights[i] * T[i][j];
    for (const matrix of nextConfusion) for (const row of matrix) if (!normalise(row)) row.fill(1 / A);

    // E-step in logs: log p_j + Σ log π[r][j][answer] per item (eq. 2.5)
    const logs = Array.from({ length: I }, () => nextPriors.map(Math.log));
    for (const [i, r, c] of triples) for (let j = 0; j < K; j++) logs[i][j] += Math.log(nextConfusion[r][j][c]);
    let total = 0;
    T = logs.map((row, i) => {
      const top = Math.max(...row);
      const odds = row.map((l) => (top === -Infinity ? 1 / K : Math.exp(l - top)));
      const sum = odds.reduce((a, b) => a + b, 0);
      total += weights[i] * (top + Math.log(sum));
      return odds.map((w) => w / sum);
    });
    logLikelihood.push(total);

    const moved = Math.max(maxChange(priors, nextPriors), ...nextConfusion.map((m, r) => Math.max(...m.map((row, j) => maxChange(confusion[r][j], row)))));
    priors = nextPriors;
    confusion = nextConfusion;
    if (iterations > 1 && moved < tolerance) {
      converged = true;
      break;
    }
  }
  return {
    classes: [...classes],
    priors,
    confusion: new Map(raters.map((rater, r) => [rater, confusion[r]])),
    posteriors: new Map(items.map((item, i) => [item, T[i]])),
    labels: new Map(items.map((item, i) => [item, classes[argmax(T[i])]])),
    iterations,
    converged,
    logLikelihood,
  };
}

/** Scales a row to sum to 1; false when it sums to 0. */
function normalise(row: number[]): boolean {
  const sum = row.reduce((a, b) => a + b, 0);
  if (sum <= 0) return false;
  for (let j = 0; j < row.length; j++) row[j] /= sum;
  return true;
}

function maxChange(a: readonly number[], b: readonly number[]): number {
  let max = 0;
  for (let j = 0; j < a.length; j++) max = Math.max(max, Math.abs(a[j] - b[j]));
  return max;
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

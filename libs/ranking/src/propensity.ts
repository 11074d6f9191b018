import { normalQuantile } from '@backflow/drift';
import type { ClickLogRow, SwapRecord } from './click-model';
import { clipProbability } from './distributions';
import { invertSymmetric } from './linear-algebra';
import { fitLogisticRegression, logisticPrediction } from './logistic-regression';

/** The examination probability of one position relative to position 1 (θ_k / θ_1), with its interval. */
export interface PropensityEstimate {
  position: number;
  value: number;
  low: number;
  high: number;
  /** how many impressions (EM) or experiment lists (swaps) at this position the estimate rests on */
  observations: number;
}

export interface RegressionEmOptions {
  /** EM steps at most (three per accelerated cycle) */
  maxIterations?: number;
  /** stop when no relative propensity moves by more than this in one cycle */
  tolerance?: number;
  confidence?: number;
  /** L2 penalty of the relevance regression (when rows carry features) */
  ridge?: number;
}

export interface RegressionEmFit {
  /** positions that were shown at least once, in order; position 1 is 1 exactly */
  propensities: PropensityEstimate[];
  /** γ per (context, item) pair on the scale where θ_1 = 1: the pair's click probability at position 1 */
  relevance: Array<{ contextId: string; itemId: string; value: number }>;
  /** the relevance regression's coefficients (intercept first), when rows carry features */
  coefficients?: number[];
  iterations: number;
  converged: boolean;
  logLikelihood: number;
}

const PROBABILITY_FLOOR = 1e-6;

/**
 * Position bias (θ_k) and relevance (γ) of the position-based model by expectation-maximization,
 * after Wang, Golbandi, Bendersky, Metzler & Najork, "Position Bias Estimation for Unbiased
 * Learning to Rank in Personal Search" (WSDM 2018): a click is E·R with E ~ Bernoulli(θ_k)
 * and R ~ Bernoulli(γ); the E-step takes the posteriors of E and R for every unclicked
 * impression, the M-step re-estimates θ_k per position and γ. The steps are accelerated by
 * SQUAREM (Varadhan & Roland 2008), which keeps EM's fixed point and its monotone likelihood.
 *
 * Without features, γ is one parameter per (context, item) pair (the paper's standard EM).
 * With `features` on every row, γ = σ(β·x) is fitted by a ridge logistic regression on the
 * posterior relevance as soft targets (a generalized M-step: three Newton steps per EM step,
 * warm-started): the paper's regression EM, except that the paper fits gradient-boosted trees
 * to relevance labels sampled from the posteriors. Features must be the same for a pair on every row.
 *
 * Identification needs the same pair seen at different positions (a ranker with some
 * variation); only θ_k / θ_1 is identified, so results are on that scale. The intervals are
 * Wald intervals on log(θ_k / θ_1) from the expected Fisher information of the observed-data
 * likelihood, θ_1 held at its estimate (it only sets the scale) and the per-pair γ eliminated
 * by a Schur complement. They take impressions as independent, as the model does: clicks that
 * depend on each other within a list (cascade behaviour) make them too narrow. A position
 * with no click gets [0, a Poisson upper bound]; a position no pair links to another position
 * is not identified and gets an unbounded interval (high = Infinity).
 * Undefined when there is no row, no impression at position 1, or no click at all.
 */
export function estimatePropensitiesEM(rows: readonly ClickLogRow[], options: RegressionEmOptions = {}): RegressionEmFit | undefined {
  const confidence = options.confidence ?? 0.95;
  const problem = indexClickLog(rows);
  if (!problem || problem.positionTrials[0] === 0) return undefined;
  if (!problem.cellClicks.some((clicks) => clicks > 0)) return undefined;
  const settings = { maxIterations: options.maxIterations ?? 3000, tolerance: options.tolerance ?? 1e-6, ridge: options.ridge ?? 1e-4 };
  const fit = runEm(problem, settings);
  const intervals = fisherIntervals(problem, fit, settings.ridge, confidence);

  const propensities: PropensityEstimate[] = [];
  for (let k = 0; k < problem.positionTrials.length; k++) {
    if (problem.positionTrials[k] === 0) continue;
    const value = fit.theta[k] / fit.theta[0];
    const [low, high] = k === 0 ? [1, 1] : intervals[k];
    propensities.push({ position: k + 1, value, low: Math.min(low, value), high: Math.max(high, value), observations: problem.positionTrials[k] });
  }
  return {
    propensities,
    relevance: problem.pairs.map((pair, p) => ({ contextId: pair.contextId, itemId: pair.itemId, value: fit.gamma[p] * fit.theta[0] })),
    coefficients: fit.coefficients,
    iterations: fit.iterations,
    converged: fit.converged,
    logLikelihood: fit.logLikelihood,
  };
}

/**
 * Wald intervals for θ_k / θ_1 from the expected information of the click likelihood. Per cell
 * (pair p at position k, n impressions, q = θ_k·γ_p) the information is n / (q(1 − q)) · g·gᵀ,
 * g the gradient of q. With a γ per pair the γ block is diagonal and is eliminated pair by
 * pair (Schur complement), leaving a K × K system in θ.
 */
function fisherIntervals(problem: ClickLogIndex, fit: EmState, ridge: number, confidence: number): Array<[number, number]> {
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const positions = problem.positionTrials.length;
  const { theta, gamma } = fit;
  const positionClicks = new Float64Array(positions);
  const expectedAtTop = new Float64Array(positions);
  for (let c = 0; c < problem.cellPair.length; c++) {
    positionClicks[problem.cellPosition[c]] += problem.cellClicks[c];
    expectedAtTop[problem.cellPosition[c]] += problem.cellTrials[c] * theta[0] * gamma[problem.cellPair[c]];
  }
  // θ_1 is held fixed (it sets the scale); a position without a click sits on the boundary, where Wald says nothing
  const free = [...Array(positions).keys()].filter((k) => k > 0 && positionClicks[k] > 0);
  const slot = new Int32Array(positions).fill(-1);
  free.forEach((k, i) => (slot[k] = i));
  const features = problem.withFeatures ? problem.pairs[0].features!.length + 1 : 0;
  const size = free.length + features;
  const information = Array.from({ length: size }, () => new Array<number>(size).fill(0));

  if (!problem.withFeatures) {
    for (let p = 0; p < problem.pairs.length; p++) {
      let relevanceInformation = 0;
      const links: Array<{ i: number; value: number }> = [];
      for (let j = problem.pairCellOffsets[p]; j < problem.pairCellOffsets[p + 1]; j++) {
        const c = problem.pairCells[j];
        const n = problem.cellTrials[c];
        const k = problem.cellPosition[c];
        const q = theta[k] * gamma[p];
        relevanceInformation += (n * theta[k]) / (gamma[p] * (1 - q));
        if (slot[k] < 0) continue;
        information[slot[k]][slot[k]] += (n * gamma[p]) / (theta[k] * (1 - q));
        links.push({ i: slot[k], value: n / (1 - q) });
      }
      for (const a of links) for (const b of links) information[a.i][b.i] -= (a.value * b.value) / relevanceInformation;
    }
  } else {
    for (let c = 0; c < problem.cellPair.length; c++) {
      const n = problem.cellTrials[c];
      const k = problem.cellPosition[c];
      const p = problem.cellPair[c];
      const q = theta[k] * gamma[p];
      const weight = n / (q * (1 - q));
      const gradient = new Array<number>(size).fill(0);
      if (slot[k] >= 0) gradient[slot[k]] = gamma[p];
      const slope = theta[k] * gamma[p] * (1 - gamma[p]);
      gradient[free.length] = slope;
      problem.pairs[p].features!.forEach((x, j) => (gradient[free.length + 1 + j] = slope * x));
      for (let a = 0; a < size; a++) if (gradient[a] !== 0) for (let b = 0; b <= a; b++) information[a][b] += weight * gradient[a] * gradient[b];
    }
    for (let j = free.length + 1; j < size; j++) information[j][j] += ridge;
    for (let a = 0; a < size; a++) for (let b = a + 1; b < size; b++) information[a][b] = information[b][a];
  }
  // a position no pair links to another has no information left; a whisker of ridge keeps the solve defined and its interval unbounded
  for (let a = 0; a < size; a++) information[a][a] += 1e-12 * Math.max(1, information[a][a]);
  const covariance = invertSymmetric(information);

  const intervals: Array<[number, number]> = Array.from({ length: positions }, () => [0, Infinity]);
  for (let k = 1; k < positions; k++) {
    const value = theta[k] / theta[0];
    if (positionClicks[k] === 0) {
      if (expectedAtTop[k] > 0) intervals[k] = [0, -Math.log((1 - confidence) / 2) / expectedAtTop[k]];
      continue;
    }
    if (!covariance) continue;
    const spread = Math.exp((z * Math.sqrt(Math.max(0, covariance[slot[k]][slot[k]]))) / theta[k]);
    intervals[k] = [value / spread, value * spread];
  }
  return intervals;
}

interface ClickLogIndex {
  pairs: Array<{ contextId: string; itemId: string; features?: readonly number[] }>;
  /** per cell (one pair at one position) */
  cellPair: Int32Array;
  cellPosition: Int32Array;
  cellTrials: Float64Array;
  cellClicks: Float64Array;
  /** cells grouped by pair: pairCells[pairCellOffsets[p] … pairCellOffsets[p + 1]) */
  pairCellOffsets: Int32Array;
  pairCells: Int32Array;
  positionTrials: Float64Array;
  pairTrials: Float64Array;
  withFeatures: boolean;
}

function indexClickLog(rows: readonly ClickLogRow[]): ClickLogIndex | undefined {
  if (rows.length === 0) return undefined;
  const withFeatures = rows[0].features !== undefined;
  const pairIndex = new Map<string, number>();
  const pairs: ClickLogIndex['pairs'] = [];
  let positions = 0;
  for (const row of rows) {
    if (!(Number.isInteger(row.position) && row.position >= 1)) throw new RangeError('a position must be an integer from 1');
    if ((row.features !== undefined) !== withFeatures) throw new RangeError('either every row carries features or none does');
    positions = Math.max(positions, row.position);
    const key = `${row.contextId}\u0000${row.itemId}`;
    if (!pairIndex.has(key)) {
      pairIndex.set(key, pairs.length);
      pairs.push({ contextId: row.contextId, itemId: row.itemId, features: row.features });
    } else if (withFeatures && pairs[pairIndex.get(key)!].features!.length !== row.features!.length) {
      throw new RangeError('every row needs the same number of features');
    }
  }
  if (withFeatures && pairs.some((pair) => pair.features!.length !== pairs[0].features!.length))
    throw new RangeError('every row needs the same number of features');

  const cellIndex = new Map<number, number>();
  const cellPair: number[] = [];
  const cellPosition: number[] = [];
  const cellTrials: number[] = [];
  const cellClicks: number[] = [];
  const positionTrials = new Float64Array(positions);
  const pairTrials = new Float64Array(pairs.length);
  for (const row of rows) {
    const pair = pairIndex.get(`${row.contextId}\u0000${row.itemId}`)!;
    const key = pair * positions + (row.position - 1);
    let cell = cellIndex.get(key);
    if (cell === undefined) {
      cell = cellPair.length;
      cellIndex.set(key, cell);
      cellPair.push(pair);
      cellPosition.push(row.position - 1);
      cellTrials.push(0);
      cellClicks.push(0);
    }
    cellTrials[cell] += 1;
    if (row.clicked) cellClicks[cell] += 1;
    positionTrials[row.position - 1] += 1;
    pairTrials[pair] += 1;
  }
  const pairCellOffsets = new Int32Array(pairs.length + 1);
  for (const pair of cellPair) pairCellOffsets[pair + 1]++;
  for (let p = 0; p < pairs.length; p++) pairCellOffsets[p + 1] += pairCellOffsets[p];
  const pairCells = new Int32Array(cellPair.length);
  const filled = pairCellOffsets.slice(0, pairs.length);
  cellPair.forEach((pair, c) => (pairCells[filled[pair]++] = c));
  return {
    pairs,
    cellPair: Int32Array.from(cellPair),
    cellPosition: Int32Array.from(cellPosition),
    cellTrials: Float64Array.from(cellTrials),
    cellClicks: Float64Array.from(cellClicks),
    pairCellOffsets,
    pairCells,
    positionTrials,
    pairTrials,
    withFeatures,
  };
}

interface EmParameters {
  theta: Float64Array;
  gamma: Float64Array;
  coefficients?: number[];
}

interface EmState extends EmParameters {
  /** EM steps taken (three per accelerated cycle) */
  iterations: number;
  converged: boolean;
  logLikelihood: number;
}

/**
 * EM accelerated by SQUAREM (Varadhan & Roland, "Simple and Globally Convergent Methods for
 * Accelerating the Convergence of Any EM Algorithm", Scand. J. Statistics 2008, scheme S3):
 * plain EM crawls here, since an unclicked impression at a low position says almost nothing
 * about whether it was examined. The extrapolated point is projected back into (0, 1); a cycle
 * whose likelihood falls below that of its two plain steps is replaced by them, so the
 * likelihood never falls.
 */
function runEm(problem: ClickLogIndex, settings: { maxIterations: number; tolerance: number; ridge: number }): EmState {
  let current = initialParameters(problem);
  let iterations = 0;
  let converged = false;
  while (iterations + 3 <= settings.maxIterations) {
    const first = emStep(problem, current, settings.ridge);
    const second = emStep(problem, first, settings.ridge);
    const extrapolated = emStep(problem, squaremExtrapolation(problem, current, first, second), settings.ridge);
    iterations += 3;
    const next = logLikelihood(problem, extrapolated) >= logLikelihood(problem, second) ? extrapolated : second;
    const moved = largestRelativeChange(problem.positionTrials, current.theta, next.theta);
    current = next;
    if (moved < settings.tolerance) {
      converged = true;
      break;
    }
  }
  return { ...current, iterations, converged, logLikelihood: logLikelihood(problem, current) };
}

/** Raw click-through rates per position scaled under 1, then γ as clicks over expected examinations. */
function initialParameters(problem: ClickLogIndex): EmParameters {
  const positions = problem.positionTrials.length;
  const pairCount = problem.pairTrials.length;
  const positionClicks = new Float64Array(positions);
  for (let c = 0; c < problem.cellPair.length; c++) positionClicks[problem.cellPosition[c]] += problem.cellClicks[c];
  const rates = Array.from(positionClicks, (c, k) => (problem.positionTrials[k] > 0 ? c / problem.positionTrials[k] : 0));
  const top = Math.max(...rates);
  const theta = new Float64Array(positions);
  for (let k = 0; k < positions; k++) theta[k] = clipProbability(top > 0 ? (0.9 * rates[k]) / top : 0.5, PROBABILITY_FLOOR);
  const pairClicks = new Float64Array(pairCount);
  const pairExamination = new Float64Array(pairCount);
  for (let c = 0; c < problem.cellPair.length; c++) {
    pairClicks[problem.cellPair[c]] += problem.cellClicks[c];
    pairExamination[problem.cellPair[c]] += problem.cellTrials[c] * theta[problem.cellPosition[c]];
  }
  const gamma = new Float64Array(pairCount);
  for (let p = 0; p < pairCount; p++) gamma[p] = clipProbability(pairExamination[p] > 0 ? pairClicks[p] / pairExamination[p] : 0.5, PROBABILITY_FLOOR);
  if (!problem.withFeatures) return { theta, gamma };
  const features = problem.pairs[0].features!.length;
  return { theta, gamma: gamma.fill(0.5), coefficients: new Array<number>(features + 1).fill(0) };
}

/** One EM step: posteriors of examination and relevance for the unclicked impressions, then θ per position and γ. */
function emStep(problem: ClickLogIndex, parameters: EmParameters, ridge: number): EmParameters {
  const { theta, gamma } = parameters;
  const examined = new Float64Array(theta.length);
  const relevant = new Float64Array(gamma.length);
  for (let c = 0; c < problem.cellPair.length; c++) {
    const n = problem.cellTrials[c];
    const k = problem.cellPosition[c];
    const p = problem.cellPair[c];
    const x = problem.cellClicks[c];
    const t = theta[k];
    const g = gamma[p];
    const unclicked = (n - x) / (1 - t * g);
    // an unclicked impression was examined-and-irrelevant, or unexamined-and-relevant, or neither
    examined[k] += x + unclicked * t * (1 - g);
    relevant[p] += x + unclicked * (1 - t) * g;
  }
  const nextTheta = theta.slice();
  for (let k = 0; k < theta.length; k++)
    if (problem.positionTrials[k] > 0) nextTheta[k] = clipProbability(examined[k] / problem.positionTrials[k], PROBABILITY_FLOOR);
  const nextGamma = gamma.slice();
  if (!problem.withFeatures) {
    for (let p = 0; p < gamma.length; p++) nextGamma[p] = clipProbability(relevant[p] / problem.pairTrials[p], PROBABILITY_FLOOR);
    return { theta: nextTheta, gamma: nextGamma };
  }
  const observations = problem.pairs.map((pair, p) => ({
    features: pair.features!,
    trials: problem.pairTrials[p],
    successes: relevant[p] < problem.pairTrials[p] ? relevant[p] : problem.pairTrials[p],
  }));
  const regression = fitLogisticRegression(observations, { ridge, start: parameters.coefficients, maxIterations: 3 });
  const coefficients = regression ? regression.coefficients : parameters.coefficients!;
  return { theta: nextTheta, gamma: predictRelevance(problem, coefficients), coefficients };
}

function predictRelevance(problem: ClickLogIndex, coefficients: readonly number[]): Float64Array {
  return Float64Array.from(problem.pairs, (pair) => clipProbability(logisticPrediction(coefficients, pair.features!), PROBABILITY_FLOOR));
}

/**
 * SQUAREM's step x0 − 2α·r + α²·v with α = −|r| / |v| (at most −1), on the probabilities θ and
 * γ (or θ and the coefficients), projected back into (0, 1).
 */
function squaremExtrapolation(problem: ClickLogIndex, x0: EmParameters, x1: EmParameters, x2: EmParameters): EmParameters {
  const u0 = flatten(x0);
  const u1 = flatten(x1);
  const u2 = flatten(x2);
  let rr = 0;
  let vv = 0;
  for (let i = 0; i < u0.length; i++) {
    const r = u1[i] - u0[i];
    const v = u2[i] - 2 * u1[i] + u0[i];
    rr += r * r;
    vv += v * v;
  }
  if (vv === 0) return x2;
  const alpha = Math.min(-1, -Math.sqrt(rr / vv));
  const u = new Float64Array(u0.length);
  for (let i = 0; i < u.length; i++) u[i] = u0[i] - 2 * alpha * (u1[i] - u0[i]) + alpha * alpha * (u2[i] - 2 * u1[i] + u0[i]);
  const positions = x0.theta.length;
  const theta = u.slice(0, positions).map((t) => clipProbability(t, PROBABILITY_FLOOR));
  if (!problem.withFeatures) return { theta, gamma: u.slice(positions).map((g) => clipProbability(g, PROBABILITY_FLOOR)) };
  const coefficients = Array.from(u.slice(positions));
  return { theta, gamma: predictRelevance(problem, coefficients), coefficients };
}

function flatten(parameters: EmParameters): Float64Array {
  const rest = parameters.coefficients ?? parameters.gamma;
  const flat = new Float64Array(parameters.theta.length + rest.length);
  flat.set(parameters.theta);
  flat.set(rest, parameters.theta.length);
  return flat;
}

function logLikelihood(problem: ClickLogIndex, parameters: EmParameters): number {
  // read once: a global looked up per cell costs thirtyfold inside Jest's vm sandbox
  const { log, log1p } = Math;
  let total = 0;
  for (let c = 0; c < problem.cellPair.length; c++) {
    const q = parameters.theta[problem.cellPosition[c]] * parameters.gamma[problem.cellPair[c]];
    total += problem.cellClicks[c] * log(q) + (problem.cellTrials[c] - problem.cellClicks[c]) * log1p(-q);
  }
  return total;
}

/** The largest change of a relative propensity θ_k / θ_1 over the positions shown. */
function largestRelativeChange(positionTrials: Float64Array, before: Float64Array, after: Float64Array): number {
  let moved = 0;
  for (let k = 0; k < before.length; k++) if (positionTrials[k] > 0) moved = Math.max(moved, Math.abs(after[k] / after[0] - before[k] / before[0]));
  return moved;
}

/**
 * Relative propensities from a randomized swap experiment (intervention harvesting by swaps:
 * RandPair of Wang, Bendersky, Metzler & Najork, "Learning to Rank with Selection Bias in
 * Personal Search", SIGIR 2016; the swap intervention of Joachims, Swaminathan & Schnabel,
 * "Unbiased Learning-to-Rank with Biased Feedback", WSDM 2017). In lists of pivot k, the two
 * items at positions 1 and k are the same pair in either order, so under the position-based
 * model θ_k / θ_1 = CTR at k / CTR at 1.
 *
 * Each position's click-through rate is the mean of its rates in swapped and in unswapped
 * lists, so the ratio stays unbiased whatever the swap probability (RandPair's coin is 1/2;
 * Joachims et al.'s always-swapped lists need unswapped control lists of the same pivots,
 * recorded with `swapped: false`). The interval is the delta method on the log of that ratio
 * of means, with the covariance of the two clicks of a list (Katz-style log interval); when a
 * position has no click at all, half a click per arm is added for the interval only
 * (Haldane–Anscombe). A pivot is left out without at least two lists in each arm or with no
 * click at position 1; undefined when no pivot is left.
 */
export function estimatePropensitiesFromSwaps(records: readonly SwapRecord[], options: { confidence?: number } = {}): PropensityEstimate[] | undefined {
  const z = normalQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2);
  const arms = new Map<number, [SwapArm, SwapArm]>();
  for (const record of records) {
    if (!(Number.isInteger(record.pivot) && record.pivot >= 2)) throw new RangeError('a pivot must be an integer from 2');
    let pair = arms.get(record.pivot);
    if (!pair) arms.set(record.pivot, (pair = [emptyArm(), emptyArm()]));
    const arm = pair[record.swapped ? 1 : 0];
    arm.lists++;
    if (record.clickedTop) arm.top++;
    if (record.clickedPivot) arm.pivot++;
    if (record.clickedTop && record.clickedPivot) arm.both++;
  }
  const estimates: PropensityEstimate[] = [];
  for (const pivot of [...arms.keys()].sort((a, b) => a - b)) {
    const [unswapped, swapped] = arms.get(pivot)!;
    if (unswapped.lists < 2 || swapped.lists < 2) continue;
    const top = (unswapped.top / unswapped.lists + swapped.top / swapped.lists) / 2;
    const atPivot = (unswapped.pivot / unswapped.lists + swapped.pivot / swapped.lists) / 2;
    if (top === 0) continue;
    const value = atPivot / top;
    const corrected = (arm: SwapArm): SwapArm =>
      arm.top === 0 || arm.pivot === 0 ? { lists: arm.lists, top: Math.max(arm.top, 0.5), pivot: Math.max(arm.pivot, 0.5), both: arm.both } : arm;
    const a = corrected(unswapped);
    const b = corrected(swapped);
    const moments = [armMoments(a), armMoments(b)];
    const meanTop = (moments[0].meanTop + moments[1].meanTop) / 2;
    const meanPivot = (moments[0].meanPivot + moments[1].meanPivot) / 2;
    const varianceTop = (moments[0].varianceTop + moments[1].varianceTop) / 4;
    const variancePivot = (moments[0].variancePivot + moments[1].variancePivot) / 4;
    const covariance = (moments[0].covariance + moments[1].covariance) / 4;
    const logVariance = Math.max(0, variancePivot / meanPivot ** 2 + varianceTop / meanTop ** 2 - (2 * covariance) / (meanPivot * meanTop));
    const spread = Math.exp(z * Math.sqrt(logVariance));
    const centre = meanPivot / meanTop;
    estimates.push({ position: pivot, value, low: Math.min(value, centre / spread), high: Math.max(value, centre * spread), observations: a.lists + b.lists });
  }
  if (estimates.length === 0) return undefined;
  return [{ position: 1, value: 1, low: 1, high: 1, observations: records.length }, ...estimates];
}

interface SwapArm {
  lists: number;
  top: number;
  pivot: number;
  both: number;
}

function emptyArm(): SwapArm {
  return { lists: 0, top: 0, pivot: 0, both: 0 };
}

/** An arm's mean clicks at the two positions, and the variances and covariance of those means. */
function armMoments(arm: SwapArm) {
  const n = arm.lists;
  const meanTop = arm.top / n;
  const meanPivot = arm.pivot / n;
  // unbiased sample (co)variances of 0/1 clicks, divided by n for the variance of a mean
  const varianceTop = Math.max(0, (arm.top - n * meanTop * meanTop) / (n - 1)) / n;
  const variancePivot = Math.max(0, (arm.pivot - n * meanPivot * meanPivot) / (n - 1)) / n;
  const covariance = (arm.both - n * meanTop * meanPivot) / (n - 1) / n;
  return { meanTop, meanPivot, varianceTop, variancePivot, covariance };
}

/**
 * Inverse-propensity weights 1/θ_k (index 0 is position 1), each clipped at `maxWeight`: the
 * propensity clipping of Joachims et al. (WSDM 2017) and the truncated importance weights of
 * Strehl, Langford, Li & Kakade (NeurIPS 2010), trading a little bias for bounded variance.
 * A propensity of 0 takes `maxWeight` (and is refused when there is no clip).
 */
export function inversePropensityWeights(propensities: readonly number[], maxWeight = Infinity): number[] {
  if (!(maxWeight >= 1)) throw new RangeError('a weight clip below 1 would down-weight position 1');
  return propensities.map((theta) => {
    if (!(theta >= 0 && Number.isFinite(theta))) throw new RangeError('a propensity must be a non-negative number');
    if (theta === 0) {
      if (maxWeight === Infinity) throw new RangeError('a propensity of 0 needs a weight clip');
      return maxWeight;
    }
    return Math.min(1 / theta, maxWeight);
  });
}

/** A point estimate with an interval; the interval is the whole [0, 1] when fewer than two impressions leave no spread to measure. */
export interface RelevanceInterval {
  value: number;
  low: number;
  high: number;
}

export interface ItemRelevanceEstimate {
  itemId: string;
  impressions: number;
  clicks: number;
  /** inverse-propensity-scored click rate: mean of clicked / θ_k */
  ips: RelevanceInterval;
  /** clicks over expected examinations: Σ clicked / Σ θ_k */
  ratio: RelevanceInterval;
}

/**
 * Each item's position-debiased click-through rate (its γ under the position-based model, on
 * the scale of the propensities given: with θ_1 = 1, the click-through rate it would have at
 * position 1), two ways:
 * - `ips`, the inverse-propensity-scored mean (Horvitz–Thompson; Joachims et al., WSDM 2017):
 *   unbiased when the weights are not clipped, with a normal interval from the sample variance;
 * - `ratio`, clicks over expected examinations, Σ clicked / Σ θ_k (COEC, Zhang & Jones,
 *   "Comparing Click Logs and Editorial Labels for Training Query Rewriting", WWW 2007): the
 *   self-normalized form. Self-normalized IPS would divide by Σ E/θ, but a click log records no
 *   examination E; Σ θ_k is the expected number of examinations, which makes this a ratio
 *   estimator: consistent, with less variance than `ips`; interval by linearization.
 * `propensities[k − 1]` is θ_k; a row at a position without one is refused. Items in first-seen order.
 */
export function unbiasedItemRelevance(
  rows: ReadonlyArray<Pick<ClickLogRow, 'itemId' | 'position' | 'clicked'>>,
  propensities: readonly number[],
  options: { maxWeight?: number; confidence?: number } = {},
): ItemRelevanceEstimate[] {
  const weights = inversePropensityWeights(propensities, options.maxWeight);
  const z = normalQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2);
  const byItem = new Map<string, Array<{ weight: number; clicked: number }>>();
  for (const row of rows) {
    if (!(Number.isInteger(row.position) && row.position >= 1 && row.position <= weights.length))
      throw new RangeError(`no propensity for position ${row.position}`);
    let impressions = byItem.get(row.itemId);
    if (!impressions) byItem.set(row.itemId, (impressions = []));
    impressions.push({ weight: weights[row.position - 1], clicked: row.clicked ? 1 : 0 });
  }
  return [...byItem].map(([itemId, impressions]) => {
    const n = impressions.length;
    let clicks = 0;
    let scored = 0;
    let examinations = 0;
    for (const i of impressions) {
      clicks += i.clicked;
      scored += i.clicked * i.weight;
      examinations += 1 / i.weight;
    }
    const ips = scored / n;
    const ratio = clicks / examinations;
    if (n < 2) return { itemId, impressions: n, clicks, ips: { value: ips, low: 0, high: 1 }, ratio: { value: ratio, low: 0, high: 1 } };
    let ipsSquares = 0;
    let ratioSquares = 0;
    for (const i of impressions) {
      ipsSquares += (i.clicked * i.weight - ips) ** 2;
      ratioSquares += (i.clicked - ratio / i.weight) ** 2;
    }
    const ipsError = Math.sqrt(ipsSquares / (n - 1) / n);
    const ratioError = Math.sqrt((n / (n - 1)) * ratioSquares) / examinations;
    return {
      itemId,
      impressions: n,
      clicks,
      ips: { value: ips, low: Math.max(0, ips - z * ipsError), high: ips + z * ipsError },
      ratio: { value: ratio, low: Math.max(0, ratio - z * ratioError), high: ratio + z * ratioError },
    };
  });
}

import { clipProbability } from './distributions';
import type { RateBucket } from './change';
import { integerDraw, normalDraw } from './random';

/** One item shown in one ranked list, as a click log records it. Positions start at 1. */
export interface ClickLogRow {
  /** the query or context the list answered */
  contextId: string;
  itemId: string;
  position: number;
  clicked: boolean;
  /** numeric features of the (context, item) pair, for the regression step of regression EM */
  features?: readonly number[];
}

/**
 * One list of a randomized swap experiment (RandPair): the items at position 1 and at `pivot`
 * were put in one order or the other by a coin flip, `swapped` telling which.
 */
export interface SwapRecord {
  /** the k of the (1, k) pair; at least 2 */
  pivot: number;
  swapped: boolean;
  clickedTop: boolean;
  clickedPivot: boolean;
}

/** An item as a simulation sees it: its attraction γ (the click probability once examined). */
export interface SimulatedItem {
  itemId: string;
  attraction: number;
  features?: readonly number[];
}

export interface SimulatedContext {
  contextId: string;
  items: readonly SimulatedItem[];
}

/**
 * Examination probabilities θ_k = 1 / k^η, the power law Joachims, Swaminathan & Schnabel
 * ("Unbiased Learning-to-Rank with Biased Feedback", WSDM 2017) simulate position bias with;
 * η = 0 is no bias, larger η steeper bias. Index 0 is position 1.
 */
export function powerLawExamination(positions: number, exponent = 1): number[] {
  if (!(Number.isInteger(positions) && positions >= 1)) throw new RangeError('positions must be a positive integer');
  if (!(exponent >= 0)) throw new RangeError('the exponent must be non-negative');
  return Array.from({ length: positions }, (_, i) => 1 / (i + 1) ** exponent);
}

/**
 * The position-based model (PBM; Craswell, Zoeter, Taylor & Ramsey, WSDM 2008; Richardson,
 * Dominowska & Ragno, WWW 2007): P(click at position k) = θ_k · γ, the probability the
 * position is examined times the probability the item attracts a click once examined.
 */
export function positionBasedClickProbability(examination: number, attraction: number): number {
  if (!(examination >= 0 && examination <= 1)) throw new RangeError('an examination probability must be in [0, 1]');
  if (!(attraction >= 0 && attraction <= 1)) throw new RangeError('an attraction must be in [0, 1]');
  return examination * attraction;
}

/**
 * Clicks on one impression of a list under the position-based model: item i (in shown order)
 * is clicked with probability θ_{i+1} · γ_i, independently. The list is cut at the last
 * position `examination` covers.
 */
export function simulateListClicks(attractions: readonly number[], examination: readonly number[], random: () => number): boolean[] {
  const shown = Math.min(attractions.length, examination.length);
  const clicks = new Array<boolean>(shown);
  for (let i = 0; i < shown; i++) clicks[i] = random() < positionBasedClickProbability(examination[i], attractions[i]);
  return clicks;
}

export interface ClickLogSimulation {
  contexts: readonly SimulatedContext[];
  /** θ_k, index 0 is position 1; its length is how many positions a list shows */
  examination: readonly number[];
  listsPerContext: number;
  /**
   * The logging ranker orders items by logit(γ) plus normal noise of this standard deviation,
   * afresh per impression: 0 always shows the same order (and leaves position bias
   * unidentifiable); larger values move items over more positions.
   */
  rankingNoise: number;
  random: () => number;
}

/**
 * A click log from a noisy logging ranker and position-based users: per context, `listsPerContext`
 * impressions, each ranking the context's items by a noisy score and clicking by the PBM.
 * The ranker puts attractive items on top, so the raw click-through rate per position confounds
 * position with relevance, as production logs do.
 */
export function simulateClickLog(simulation: ClickLogSimulation): ClickLogRow[] {
  const { contexts, examination, listsPerContext, rankingNoise, random } = simulation;
  const rows: ClickLogRow[] = [];
  for (const context of contexts) {
    const logits = context.items.map((item) => Math.log(clipProbability(item.attraction) / (1 - clipProbability(item.attraction))));
    for (let list = 0; list < listsPerContext; list++) {
      const order = context.items
        .map((item, i) => ({ item, score: logits[i] + rankingNoise * normalDraw(random) }))
        .sort((a, b) => b.score - a.score)
        .map((scored) => scored.item);
      const clicks = simulateListClicks(
        order.map((item) => item.attraction),
        examination,
        random,
      );
      clicks.forEach((clicked, i) =>
        rows.push({ contextId: context.contextId, itemId: order[i].itemId, position: i + 1, clicked, features: order[i].features }),
      );
    }
  }
  return rows;
}

export interface SwapSimulation {
  lists: number;
  /** θ_k, index 0 is position 1; pivots are drawn uniformly from 2 … its length */
  examination: readonly number[];
  /** the attractions of one list in the logging ranker's order (at least as long as `examination`) */
  drawAttractions: (random: () => number) => readonly number[];
  /** the chance the pair is shown swapped; RandPair's 1/2 by default */
  swapProbability?: number;
  random: () => number;
}

/**
 * A randomized swap experiment (RandPair, Wang, Bendersky, Metzler & Najork, SIGIR 2016; the
 * swap intervention of Joachims et al., WSDM 2017): per list, a pivot k uniform in 2 … K, and
 * the items at positions 1 and k exchanged with probability `swapProbability`; clicks on the
 * two positions by the position-based model.
 */
export function simulateSwapExperiment(simulation: SwapSimulation): SwapRecord[] {
  const { lists, examination, drawAttractions, random } = simulation;
  const swapProbability = simulation.swapProbability ?? 0.5;
  if (examination.length < 2) throw new RangeError('a swap needs at least two positions');
  const records: SwapRecord[] = [];
  for (let list = 0; list < lists; list++) {
    const attractions = drawAttractions(random);
    const pivot = 2 + integerDraw(random, examination.length - 1);
    const swapped = random() < swapProbability;
    const top = swapped ? attractions[pivot - 1] : attractions[0];
    const atPivot = swapped ? attractions[0] : attractions[pivot - 1];
    records.push({
      pivot,
      swapped,
      clickedTop: random() < positionBasedClickProbability(examination[0], top),
      clickedPivot: random() < positionBasedClickProbability(examination[pivot - 1], atPivot),
    });
  }
  return records;
}

/**
 * A click-through-rate series for the change detectors: buckets at times 0, 1, 2, … of
 * `impressions` each, every impression clicked with probability rate(time) (binomial noise only).
 */
export function simulateRateSeries(rate: (time: number) => number, buckets: number, impressions: number, random: () => number): RateBucket[] {
  return Array.from({ length: buckets }, (_, time) => {
    const p = rate(time);
    let clicks = 0;
    for (let i = 0; i < impressions; i++) if (random() < p) clicks++;
    return { time, impressions, clicks };
  });
}

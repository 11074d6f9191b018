import { ndcgAtK, precisionAtK, reciprocalRank } from '@backflow/ranking';
import type { MultiLabelQuestion, Question, RankingQuestion, RatingQuestion, Span, SpansQuestion } from './definitions';
import { relevantGrade } from './kinds/ranking';
import { multiLabelKind } from './kinds/multi-label';
import { ratingKind } from './kinds/rating';
import { spansKind } from './kinds/spans';
import { trimText } from './kinds/text';
import { normalCdf } from '@backflow/drift';
import { normalizedEditDistance } from '@backflow/sampling';
import { isFiniteNumber, isObject, type NumberSuggestion } from './shared';

// How well a model's output for the routing question matches its labels, kind by kind. A unit's weight is its inclusion
// weight (1 / the probability routing had of sending it to raters): the figures describe all traffic, not routing's sample.

/** A weighted estimate Σ w·a / Σ w·b with its linearised (Taylor) standard error: a mean, a proportion, an F1. */
export interface MetricEstimate {
  value: number;
  standardError: number;
  /** units measured */
  n: number;
  /** Kish's effective sample size, (Σw)² / Σw² */
  effectiveN: number;
}

export interface RatioTerm {
  numerator: number;
  denominator: number;
  weight: number;
}

/**
 * Σ w·a / Σ w·b (a Hájek ratio: with b = 1 a weighted mean or proportion), with the standard
 * error of its linearisation, √Σ (w·(a − R·b))² / Σ w·b. Undefined when Σ w·b is 0.
 */
export function ratioEstimate(terms: readonly RatioTerm[]): MetricEstimate | undefined {
  let top = 0;
  let bottom = 0;
  let weights = 0;
  let squares = 0;
  for (const t of terms) {
    top += t.weight * t.numerator;
    bottom += t.weight * t.denominator;
    weights += t.weight;
    squares += t.weight * t.weight;
  }
  if (terms.length === 0 || bottom <= 0) return undefined;
  const value = top / bottom;
  let variance = 0;
  for (const t of terms) variance += (t.weight * (t.numerator - value * t.denominator)) ** 2;
  return { value, standardError: Math.sqrt(variance) / bottom, n: terms.length, effectiveN: (weights * weights) / squares };
}

/** Which way a metric gets better. */
export type Better = 'higher' | 'lower';

/**
 * One-sided p-value that the current estimate is worse than the baseline (z on the two
 * standard errors): small means the change is unlikely to be chance.
 */
export function worsePValue(
  baseline: Pick<MetricEstimate, 'value' | 'standardError'>,
  current: Pick<MetricEstimate, 'value' | 'standardError'>,
  better: Better,
): number {
  const worse = better === 'higher' ? baseline.value - current.value : current.value - baseline.value;
  const se = Math.sqrt(baseline.standardError ** 2 + current.standardError ** 2);
  if (se === 0) return worse > 0 ? 0 : 1;
  return 1 - normalCdf(worse / se);
}

/** Precision, recall and F1 of weighted counts: each null when its denominator is 0. */
export interface PrecisionRecall {
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const precisionRecall = (tp: number, fp: number, fn: number): PrecisionRecall => ({
  precision: ratio(tp, tp + fp),
  recall: ratio(tp, tp + fn),
  f1: ratio(2 * tp, 2 * tp + fp + fn),
});

function weightsOf(units: ReadonlyArray<{ weight: number }>): { total: number; effectiveN: number } {
  let total = 0;
  let squares = 0;
  for (const u of units) {
    total += u.weight;
    squares += u.weight * u.weight;
  }
  return { total, effectiveN: squares > 0 ? (total * total) / squares : 0 };
}

/** What one kind's figures all carry: the units measured and what the weights leave of them. */
interface Measured {
  n: number;
  effectiveN: number;
}

export interface LabelSetUnit {
  /** the model's labels (score ≥ MULTI_LABEL_CUTOFF, or the labels it sent) */
  predicted: readonly string[];
  actual: readonly string[];
  weight: number;
}

export interface MultiLabelFigures extends Measured {
  /** the share of units whose label set is exactly the model's */
  subsetAccuracy: number;
  /** the share of the question's labels the model got wrong (in one set and not the other), per unit */
  hammingLoss: number;
  /** over every (unit, label) decision */
  micro: PrecisionRecall;
  /** the mean of the per-label F1s that are defined (the label was predicted or labelled somewhere) */
  macroF1: number | null;
  perLabel: Array<{ label: string } & PrecisionRecall & { support: number }>;
}

const setCounts = (predicted: ReadonlySet<string>, actual: ReadonlySet<string>) => {
  let tp = 0;
  for (const label of predicted) if (actual.has(label)) tp++;
  return { tp, fp: predicted.size - tp, fn: actual.size - tp };
};

export function multiLabelFigures(question: MultiLabelQuestion, units: readonly LabelSetUnit[]): MultiLabelFigures | undefined {
  const { total, effectiveN } = weightsOf(units);
  if (units.length === 0 || total <= 0) return undefined;
  const names = question.labels.map((l) => l.name);
  const counts = new Map(names.map((name) => [name, { tp: 0, fp: 0, fn: 0, support: 0 }]));
  let exact = 0;
  let wrong = 0;
  for (const u of units) {
    const predicted = new Set(u.predicted);
    const actual = new Set(u.actual);
    let differing = 0;
    for (const name of names) {
      const c = counts.get(name)!;
      const p = predicted.has(name);
      const a = actual.has(name);
      if (p && a) c.tp += u.weight;
      else if (p) c.fp += u.weight;
      else if (a) c.fn += u.weight;
      if (a) c.support += u.weight;
      if (p !== a) differing++;
    }
    if (differing === 0) exact += u.weight;
    wrong += (u.weight * differing) / names.length;
  }
  const perLabel = names.map((label) => {
    const c = counts.get(label)!;
    return { label, ...precisionRecall(c.tp, c.fp, c.fn), support: c.support };
  });
  const sum = (key: 'tp' | 'fp' | 'fn') => [...counts.values()].reduce((s, c) => s + c[key], 0);
  const f1s = perLabel.map((l) => l.f1).filter((f): f is number => f !== null);
  return {
    n: units.length,
    effectiveN,
    subsetAccuracy: exact / total,
    hammingLoss: wrong / total,
    micro: precisionRecall(sum('tp'), sum('fp'), sum('fn')),
    macroF1: f1s.length ? f1s.reduce((s, f) => s + f, 0) / f1s.length : null,
    perLabel,
  };
}

/** Micro F1 over (unit, label) decisions, 2·TP / (2·TP + FP + FN), as a ratio estimate. */
export function microF1(units: ReadonlyArray<{ predicted: readonly string[]; actual: readonly string[]; weight: number }>): MetricEstimate | undefined {
  return ratioEstimate(
    units.map((u) => {
      const { tp, fp, fn } = setCounts(new Set(u.predicted), new Set(u.actual));
      return { numerator: 2 * tp, denominator: 2 * tp + fp + fn, weight: u.weight };
    }),
  );
}

export interface NumberUnit {
  predicted: number;
  actual: number;
  /** the model's predictive interval, when it sent one (or a std) */
  interval?: readonly [number, number];
  weight: number;
}

export interface NumericFigures extends Measured {
  /** mean absolute error */
  mae: number;
  /** root mean squared error */
  rmse: number;
  /** the share of labels inside the model's interval, over the units that have one; null when none has */
  coverage: number | null;
  /** units whose model sent an interval or a std */
  withInterval: number;
}

/** The normal 97.5% quantile: a std stands for the interval value ± Z95·std. */
export const Z95 = 1.959963984540054;

/** The model's interval for a number: as sent, else value ± Z95·std; undefined when it sent neither. */
export function intervalOf(s: NumberSuggestion): [number, number] | undefined {
  if (s.interval) return [s.interval[0], s.interval[1]];
  return s.std !== undefined ? [s.value - Z95 * s.std, s.value + Z95 * s.std] : undefined;
}

export function numericFigures(units: readonly NumberUnit[]): NumericFigures | undefined {
  const { total, effectiveN } = weightsOf(units);
  if (units.length === 0 || total <= 0) return undefined;
  let absolute = 0;
  let squared = 0;
  let intervalWeight = 0;
  let inside = 0;
  let withInterval = 0;
  for (const u of units) {
    const error = u.predicted - u.actual;
    absolute += u.weight * Math.abs(error);
    squared += u.weight * error * error;
    if (!u.interval) continue;
    withInterval++;
    intervalWeight += u.weight;
    if (u.actual >= u.interval[0] && u.actual <= u.interval[1]) inside += u.weight;
  }
  return {
    n: units.length,
    effectiveN,
    mae: absolute / total,
    rmse: Math.sqrt(squared / total),
    coverage: intervalWeight > 0 ? inside / intervalWeight : null,
    withInterval,
  };
}

export const meanAbsoluteError = (units: readonly NumberUnit[]) =>
  ratioEstimate(units.map((u) => ({ numerator: Math.abs(u.predicted - u.actual), denominator: 1, weight: u.weight })));

export interface RatingUnit {
  /** the model's value: it may lie between points (an expected rating) */
  predicted: number;
  actual: number;
  weight: number;
}

export interface RatingFigures extends Measured {
  /** the share where the point nearest the model's value is the label */
  exactAccuracy: number;
  /** the share where that point is at most one point of the scale from the label */
  withinOneAccuracy: number;
  /** Spearman's ρ between the model's value and the label (weighted midranks); null when either does not vary */
  spearman: number | null;
}

/** How many points of the scale apart the point nearest the model's value is from the label. */
function pointsApart(question: RatingQuestion, u: RatingUnit): number {
  const index = (value: number) => question.points.findIndex((p) => p.value === value);
  return Math.abs(index(ratingKind.predicted(question, { value: u.predicted })!) - index(u.actual));
}

/**
 * Weighted midranks: the weight of the values below, plus half the weight of those equal
 * (with weights of 1, the usual midrank less ½ — Spearman's ρ does not see the shift).
 */
function weightedRanks(values: readonly number[], weights: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let below = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    let tied = 0;
    while (j < order.length && values[order[j]] === values[order[i]]) tied += weights[order[j++]];
    for (let k = i; k < j; k++) ranks[order[k]] = below + tied / 2;
    below += tied;
    i = j;
  }
  return ranks;
}

/** Spearman's ρ with weights: the weighted Pearson correlation of the weighted midranks. Undefined when either side does not vary. */
export function weightedSpearman(units: ReadonlyArray<{ x: number; y: number; weight: number }>): number | undefined {
  const weights = units.map((u) => u.weight);
  const rx = weightedRanks(
    units.map((u) => u.x),
    weights,
  );
  const ry = weightedRanks(
    units.map((u) => u.y),
    weights,
  );
  const total = weights.reduce((s, w) => s + w, 0);
  if (units.length < 2 || total <= 0) return undefined;
  const mx = rx.reduce((s, r, i) => s + weights[i] * r, 0) / total;
  const my = ry.reduce((s, r, i) => s + weights[i] * r, 0) / total;
  let covariance = 0;
  let vx = 0;
  let vy = 0;
  for (let i = 0; i < units.length; i++) {
    covariance += weights[i] * (rx[i] - mx) * (ry[i] - my);
    vx += weights[i] * (rx[i] - mx) ** 2;
    vy += weights[i] * (ry[i] - my) ** 2;
  }
  return vx > 0 && vy > 0 ? covariance / Math.sqrt(vx * vy) : undefined;
}

export function ratingFigures(question: RatingQuestion, units: readonly RatingUnit[]): RatingFigures | undefined {
  const { total, effectiveN } = weightsOf(units);
  if (units.length === 0 || total <= 0) return undefined;
  let exact = 0;
  let withinOne = 0;
  for (const u of units) {
    const apart = pointsApart(question, u);
    if (apart === 0) exact += u.weight;
    if (apart <= 1) withinOne += u.weight;
  }
  return {
    n: units.length,
    effectiveN,
    exactAccuracy: exact / total,
    withinOneAccuracy: withinOne / total,
    spearman: weightedSpearman(units.map((u) => ({ x: u.predicted, y: u.actual, weight: u.weight }))) ?? null,
  };
}

export const withinOneAccuracy = (question: RatingQuestion, units: readonly RatingUnit[]) =>
  ratioEstimate(units.map((u) => ({ numerator: pointsApart(question, u) <= 1 ? 1 : 0, denominator: 1, weight: u.weight })));

export interface SpansUnit {
  predicted: readonly Span[];
  actual: readonly Span[];
  weight: number;
}

/** Spans matched exactly (start, end and label), micro-averaged over every span of every unit. */
export type SpansFigures = Measured & PrecisionRecall;

const spanKeys = (spans: readonly Span[]) => spans.map((s) => `${s.start}:${s.end}:${s.label}`);

export function spansFigures(units: readonly SpansUnit[]): SpansFigures | undefined {
  const { total, effectiveN } = weightsOf(units);
  if (units.length === 0 || total <= 0) return undefined;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const u of units) {
    const c = setCounts(new Set(spanKeys(u.predicted)), new Set(spanKeys(u.actual)));
    tp += u.weight * c.tp;
    fp += u.weight * c.fp;
    fn += u.weight * c.fn;
  }
  return { n: units.length, effectiveN, ...precisionRecall(tp, fp, fn) };
}

export const spanF1 = (units: readonly SpansUnit[]) =>
  microF1(units.map((u) => ({ predicted: spanKeys(u.predicted), actual: spanKeys(u.actual), weight: u.weight })));

export interface TextUnit {
  predicted: string;
  actual: string;
  weight: number;
  /** the normalized edit distance of the two, ends trimmed (worked out once per label, with the unit) */
  distance?: number;
}

/**
 * Exact match of the two texts, ends trimmed (spaces, tabs, line ends): no partial credit; and
 * how far the labels moved the model's text, the weighted mean normalized edit distance (0 the
 * model's text kept, 1 nothing of it kept).
 */
export interface TextFigures extends Measured {
  exactAccuracy: number;
  meanEditDistance: number;
}

const textMatches = (u: TextUnit) => trimText(u.predicted) === trimText(u.actual);

export function textFigures(units: readonly TextUnit[]): TextFigures | undefined {
  const { total, effectiveN } = weightsOf(units);
  if (units.length === 0 || total <= 0) return undefined;
  return {
    n: units.length,
    effectiveN,
    exactAccuracy: units.reduce((s, u) => s + (textMatches(u) ? u.weight : 0), 0) / total,
    meanEditDistance: units.reduce((s, u) => s + (u.distance ?? normalizedEditDistance(trimText(u.predicted), trimText(u.actual))) * u.weight, 0) / total,
  };
}

export const textExactAccuracy = (units: readonly TextUnit[]) =>
  ratioEstimate(units.map((u) => ({ numerator: textMatches(u) ? 1 : 0, denominator: 1, weight: u.weight })));

export interface RankingUnit {
  /** the raters' grades as relevance (the grade's place on the scale, 0 = the lowest), in the model's order: by score, highest first */
  relevance: number[];
  weight: number;
}

/** A ranking model's lists against their graded labels, each list weighted by its inclusion weight. */
export interface RankingFigures extends Measured {
  k: number;
  /** NDCG@k over the lists with a relevant item (gain 2^rel − 1, log2 discount); null when none has one */
  ndcg: number | null;
  /** the reciprocal rank of the first relevant item (0 when none is) */
  mrr: number;
  /** the share of relevant items among the top k (a shorter list still divides by k) */
  precisionAtK: number;
  /** lists in which no item was graded relevant: NDCG leaves them out */
  withoutRelevant: number;
}

/** The model's order of a ranking suggestion: by score, highest first, then by the position shown. */
function modelOrder(output: Record<string, unknown>): string[] | undefined {
  if (!Array.isArray(output.candidates)) return undefined;
  const candidates = output.candidates.filter(
    (c): c is { item: string; score: number; position: number } => isObject(c) && typeof c.item === 'string' && isFiniteNumber(c.score),
  );
  return [...candidates].sort((a, b) => b.score - a.score || (a.position ?? 0) - (b.position ?? 0)).map((c) => c.item);
}

function rankingMetrics(question: RankingQuestion): KindMeasure<RankingUnit> {
  const place = new Map(question.grades.map((g, i) => [g.value, i]));
  const relevant = place.get(relevantGrade(question)) ?? 1;
  const perList = (units: readonly RankingUnit[]) =>
    units.map((u) => ({
      ndcg: ndcgAtK(u.relevance, question.k),
      rr: reciprocalRank(u.relevance, relevant, question.k),
      precision: precisionAtK(u.relevance, question.k, relevant),
      weight: u.weight,
    }));
  return {
    kind: 'ranking',
    headline: 'ndcg',
    better: 'higher',
    unit(output, answer, weight) {
      const order = isObject(output) ? modelOrder(output) : undefined;
      if (!order || !Array.isArray(answer)) return undefined;
      const graded = new Map(
        answer.filter((g): g is { item: string; grade: number } => isObject(g) && typeof g.item === 'string').map((g) => [g.item, g.grade]),
      );
      const relevance = order.map((item) => place.get(graded.get(item) ?? Number.NaN));
      if (relevance.some((r) => r === undefined)) return undefined;
      return { relevance: relevance as number[], weight };
    },
    figures(units) {
      const { total, effectiveN } = weightsOf(units);
      if (units.length === 0 || total <= 0) return undefined;
      const lists = perList(units);
      const withRelevant = lists.filter((l) => l.ndcg !== undefined);
      const ndcgWeight = withRelevant.reduce((s, l) => s + l.weight, 0);
      return {
        kind: 'ranking',
        n: units.length,
        effectiveN,
        k: question.k,
        ndcg: ndcgWeight > 0 ? withRelevant.reduce((s, l) => s + l.weight * l.ndcg!, 0) / ndcgWeight : null,
        mrr: lists.reduce((s, l) => s + l.weight * l.rr, 0) / total,
        precisionAtK: lists.reduce((s, l) => s + l.weight * l.precision, 0) / total,
        withoutRelevant: lists.length - withRelevant.length,
      };
    },
    headlineOf: (units) =>
      ratioEstimate(
        perList(units)
          .filter((l) => l.ndcg !== undefined)
          .map((l) => ({ numerator: l.ndcg!, denominator: 1, weight: l.weight })),
      ),
  };
}

/** The figure each kind's alerts watch. */
export type HeadlineMetric = 'micro_f1' | 'mae' | 'within_one_accuracy' | 'span_f1' | 'exact_accuracy' | 'ndcg';

export type KindFigures =
  | ({ kind: 'multi_label' } & MultiLabelFigures)
  | ({ kind: 'numeric' } & NumericFigures)
  | ({ kind: 'rating' } & RatingFigures)
  | ({ kind: 'spans' } & SpansFigures)
  | ({ kind: 'text' } & TextFigures)
  | ({ kind: 'ranking' } & RankingFigures);

/**
 * The metrics of a routing question of one kind: how a prediction's output and a label's answer
 * become a unit, the kind's figures over units, and its headline figure with a standard error.
 */
export interface KindMeasure<U extends { weight: number } = { weight: number }> {
  kind: KindFigures['kind'];
  headline: HeadlineMetric;
  better: Better;
  /** undefined when the output or the answer is not there to compare */
  unit(output: unknown, answer: unknown, weight: number): U | undefined;
  figures(units: readonly U[]): KindFigures | undefined;
  headlineOf(units: readonly U[]): MetricEstimate | undefined;
}

const withKind = <K extends KindFigures['kind'], F>(kind: K, figures: F | undefined) => figures && { kind, ...figures };
const isSpanList = (value: unknown): value is Span[] => Array.isArray(value);

function multiLabelMetrics(question: MultiLabelQuestion): KindMeasure<LabelSetUnit> {
  return {
    kind: 'multi_label',
    headline: 'micro_f1',
    better: 'higher',
    unit: (output, answer, weight) =>
      isObject(output) && Array.isArray(answer) ? { predicted: multiLabelKind.predicted(question, output)!, actual: answer as string[], weight } : undefined,
    figures: (units) => withKind('multi_label', multiLabelFigures(question, units)),
    headlineOf: microF1,
  };
}

const numericMetrics: KindMeasure<NumberUnit> = {
  kind: 'numeric',
  headline: 'mae',
  better: 'lower',
  unit(output, answer, weight) {
    if (!isObject(output) || !isFiniteNumber(output.value) || !isFiniteNumber(answer)) return undefined;
    const interval = intervalOf(output as unknown as NumberSuggestion);
    return { predicted: output.value, actual: answer, weight, ...(interval && { interval }) };
  },
  figures: (units) => withKind('numeric', numericFigures(units)),
  headlineOf: meanAbsoluteError,
};

function ratingMetrics(question: RatingQuestion): KindMeasure<RatingUnit> {
  return {
    kind: 'rating',
    headline: 'within_one_accuracy',
    better: 'higher',
    unit: (output, answer, weight) =>
      isObject(output) && isFiniteNumber(output.value) && isFiniteNumber(answer) && question.points.some((p) => p.value === answer)
        ? { predicted: output.value, actual: answer, weight }
        : undefined,
    figures: (units) => withKind('rating', ratingFigures(question, units)),
    headlineOf: (units) => withinOneAccuracy(question, units),
  };
}

function spansMetrics(question: SpansQuestion): KindMeasure<SpansUnit> {
  return {
    kind: 'spans',
    headline: 'span_f1',
    better: 'higher',
    unit: (output, answer, weight) =>
      isObject(output) && isSpanList(output.spans) && isSpanList(answer)
        ? { predicted: spansKind.predicted(question, { spans: output.spans })!, actual: answer, weight }
        : undefined,
    figures: (units) => withKind('spans', spansFigures(units)),
    headlineOf: spanF1,
  };
}

/** The text a model gave: a text question's `value`, a generation's first response (the one its user saw). */
function modelText(output: unknown): string | undefined {
  if (!isObject(output)) return undefined;
  if (typeof output.value === 'string') return output.value;
  const first: unknown = Array.isArray(output.responses) ? output.responses[0] : undefined;
  return isObject(first) && typeof first.text === 'string' ? first.text : undefined;
}

const textMetrics: KindMeasure<TextUnit> = {
  kind: 'text',
  headline: 'exact_accuracy',
  better: 'higher',
  unit: (output, answer, weight) => {
    const predicted = modelText(output);
    if (predicted === undefined || typeof answer !== 'string') return undefined;
    return { predicted, actual: answer, weight, distance: normalizedEditDistance(trimText(predicted), trimText(answer)) };
  },
  figures: (units) => withKind('text', textFigures(units)),
  headlineOf: textExactAccuracy,
};

/** The metrics of a routing question's kind; undefined for a label question, which accuracy describes. */
export function kindMeasureOf(question: Question): KindMeasure | undefined {
  switch (question.kind) {
    case 'label':
      return undefined;
    case 'multi_label':
      return multiLabelMetrics(question);
    case 'numeric':
      return numericMetrics;
    case 'rating':
      return ratingMetrics(question);
    case 'spans':
      return spansMetrics(question);
    case 'text':
    case 'generation':
      return textMetrics;
    case 'preference':
      // a preference is never the routing question: the model predicts nothing for it
      return undefined;
    case 'ranking':
      return rankingMetrics(question);
  }
}

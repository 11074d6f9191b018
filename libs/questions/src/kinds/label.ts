import { majorityVote } from '@backflow/agreement';
import { entropy, leastConfidence, margin } from '@backflow/sampling';
import { LabelQuestion } from '../definitions';
import { fail, ok, type Checked, type QuestionKind } from '../kind';
import { isFiniteNumber, isObject } from '../shared';

/** A single-label model's output: class probabilities (summing to 1), or just the label. */
export interface LabelSuggestion {
  scores?: Record<string, number>;
  value?: string;
}

export const SUM_TOLERANCE = { least: 1e-3, perScore: 5e-4 } as const;

/**
 * How far a single-label distribution of `classes` scores may sum from 1: 0.001, or 0.0005 per
 * score when that is more, which is as far as rounding every score to three decimals can move
 * the sum. A model that logs rounded scores is never refused; scores that are no distribution
 * (logits, independent sigmoids) still are. The scores are stored as sent, never renormalised.
 */
export function sumTolerance(classes: number): number {
  return Math.max(SUM_TOLERANCE.least, classes * SUM_TOLERANCE.perScore);
}
// a sum of doubles carries its own rounding (0.499 + 0.5 is 0.999 but 1 − 0.999 is 0.0010000000000000009)
const DOUBLE_ROUNDING = 1e-9;

/** The first fault of class scores: an unknown label, a score that is no probability, none at all, or a single-label sum off 1. */
export type ScoresFault =
  | { fault: 'unknown_label' | 'not_probability'; label: string }
  | { fault: 'empty' }
  | { fault: 'not_normalized'; sum: number; classes: number; tolerance: number };

/** What a sum off 1 is told: the tolerance, how it was reached, and the sum received. */
export function notNormalizedMessage(fault: { sum: number; classes: number; tolerance: number }): string {
  const shown = (x: number) => String(Number(x.toFixed(9)));
  return (
    `single-label scores must sum to 1 within ±${shown(fault.tolerance)} (0.001, or 0.0005 per score when more: ` +
    `what rounding each score to three decimals can add up to); these ${fault.classes} sum to ${shown(fault.sum)}`
  );
}

/**
 * The rule for class scores over `known` labels (`sumToOne`: a single-label distribution), the
 * one capture and suggestions both apply; undefined when they hold.
 */
export function scoresFault(scores: Readonly<Record<string, unknown>>, known: ReadonlySet<string>, sumToOne: boolean): ScoresFault | undefined {
  let sum = 0;
  let count = 0;
  for (const label in scores) {
    const p = scores[label];
    if (!known.has(label)) return { fault: 'unknown_label', label };
    if (!isFiniteNumber(p) || p < 0 || p > 1) return { fault: 'not_probability', label };
    sum += p;
    count++;
  }
  if (count === 0) return { fault: 'empty' };
  if (sumToOne) {
    const tolerance = sumTolerance(count);
    if (Math.abs(sum - 1) > tolerance + DOUBLE_ROUNDING) return { fault: 'not_normalized', sum, classes: count, tolerance };
  }
  return undefined;
}

/** Class scores over the question's labels, each a probability. `sumToOne`: a single-label distribution. */
export function checkScores(labels: ReadonlyArray<{ name: string }>, raw: unknown, sumToOne: boolean): Checked<Record<string, number>> {
  if (!isObject(raw)) return fail('expected an object of scores by label');
  const fault = scoresFault(raw, new Set(labels.map((l) => l.name)), sumToOne);
  switch (fault?.fault) {
    case undefined:
      return ok(raw as Record<string, number>);
    case 'unknown_label':
      return fail(`"${fault.label}" is not one of the question's labels (${labels.map((l) => l.name).join(', ')})`, fault.label);
    case 'not_probability':
      return fail('a score must be a finite probability in [0, 1]', fault.label);
    case 'empty':
      return fail('at least one label score is needed');
    case 'not_normalized':
      return fail(notNormalizedMessage(fault));
  }
}

/** The highest score; ties go to the label listed first in `order`. */
export function argmaxLabel(scores: Readonly<Record<string, number>>, order: readonly string[]): string {
  let best = order.find((label) => label in scores) ?? Object.keys(scores)[0];
  for (const label of order) if ((scores[label] ?? -1) > (scores[best] ?? -1)) best = label;
  return best;
}

const namesOf = (question: LabelQuestion) => question.labels.map((l) => l.name);

export const labelKind: QuestionKind<LabelQuestion, LabelSuggestion, string> = {
  kind: 'label',
  settings: LabelQuestion,
  suggestion(question, raw) {
    if (!isObject(raw)) return fail('expected an object: {"scores": {…}} or {"value": "<label>"}');
    for (const key of Object.keys(raw)) if (key !== 'scores' && key !== 'value') return fail(`unknown key "${key}"`, key);
    const out: LabelSuggestion = {};
    if (raw.scores !== undefined) {
      const scores = checkScores(question.labels, raw.scores, true);
      if (!scores.ok) return fail(scores.issue.message, 'scores', ...scores.issue.path);
      out.scores = scores.value;
    }
    if (raw.value !== undefined) {
      if (typeof raw.value !== 'string' || !question.labels.some((l) => l.name === raw.value)) return fail("one of the question's labels", 'value');
      out.value = raw.value;
    }
    if (!out.scores && out.value === undefined) return fail('scores or value is needed');
    return ok(out);
  },
  uncertainty(_question, s, strategy) {
    if (!s.scores) return 0;
    switch (strategy) {
      case 'least_confidence':
        return leastConfidence(s.scores);
      case 'margin':
        return margin(s.scores);
      case 'entropy':
      case 'max_entropy':
        return entropy(s.scores);
    }
  },
  confidence(question, s) {
    if (!s.scores) return 1;
    return s.scores[s.value ?? argmaxLabel(s.scores, namesOf(question))] ?? 0;
  },
  predicted(question, s) {
    return s.value ?? argmaxLabel(s.scores!, namesOf(question));
  },
  answer(question, raw) {
    if (typeof raw !== 'string') return fail("a label: one of the question's labels, as a string");
    if (!question.labels.some((l) => l.name === raw))
      return fail(`"${raw}" is not one of the question's labels (${question.labels.map((l) => l.name).join(', ')})`);
    return ok(raw);
  },
  consensus(_question, answers, threshold) {
    const { label, share } = majorityVote(answers);
    return label !== undefined && share >= threshold ? { decided: true, value: label, agreement: share } : { decided: false, agreement: share };
  },
  agreement: () => ({ kind: 'alpha', distance: 'nominal' }),
  columns(question) {
    const names = question.labels.map((l) => l.name);
    return [
      { name: question.name, type: 'int', list: false, domain: { min: 0, max: names.length - 1 }, values: (a) => [names.indexOf(a)] },
      { name: `${question.name}_name`, type: 'bytes', list: false, values: (a) => [a] },
    ];
  },
};

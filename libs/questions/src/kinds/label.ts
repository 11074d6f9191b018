import { entropy, leastConfidence, margin } from '@backflow/sampling';
import { LabelQuestion } from '../definitions';
import { fail, ok, type Checked, type QuestionKind } from '../kind';
import { isFiniteNumber, isObject } from '../shared';

/** A single-label model's output: class probabilities (summing to 1), or just the label. */
export interface LabelSuggestion {
  scores?: Record<string, number>;
  value?: string;
}

const SUM_TOLERANCE = 1e-3;

/** Class scores over the question's labels, each a probability. `sumToOne`: a single-label distribution. */
export function checkScores(labels: ReadonlyArray<{ name: string }>, raw: unknown, sumToOne: boolean): Checked<Record<string, number>> {
  if (!isObject(raw)) return fail('expected an object of scores by label');
  const known = new Set(labels.map((l) => l.name));
  let sum = 0;
  const keys = Object.keys(raw);
  if (keys.length === 0) return fail('at least one label score is needed');
  for (const label of keys) {
    const p = raw[label];
    if (!known.has(label)) return fail(`"${label}" is not one of the question's labels (${labels.map((l) => l.name).join(', ')})`, label);
    if (!isFiniteNumber(p) || p < 0 || p > 1) return fail('a score must be a finite probability in [0, 1]', label);
    sum += p;
  }
  if (sumToOne && Math.abs(sum - 1) > SUM_TOLERANCE) return fail(`single-label scores must sum to 1 (±${SUM_TOLERANCE}); they sum to ${sum.toFixed(6)}`);
  return ok(raw as Record<string, number>);
}

/** The highest score; ties go to the label listed first. */
export function argmaxLabel(scores: Readonly<Record<string, number>>, labels: ReadonlyArray<{ name: string }>): string {
  let best = labels.find((l) => l.name in scores)?.name ?? Object.keys(scores)[0];
  for (const { name } of labels) if ((scores[name] ?? -1) > (scores[best] ?? -1)) best = name;
  return best;
}

/** The most chosen value with its share; a tie for the top has no majority. */
export function plurality<T>(answers: readonly T[], key: (answer: T) => string = String): { value: T | undefined; top: number; tied: boolean } {
  const counts = new Map<string, { value: T; n: number }>();
  for (const answer of answers) {
    const k = key(answer);
    const entry = counts.get(k);
    if (entry) entry.n++;
    else counts.set(k, { value: answer, n: 1 });
  }
  let best: { value: T; n: number } | undefined;
  let second = 0;
  for (const entry of counts.values()) {
    if (!best || entry.n > best.n) {
      second = best?.n ?? 0;
      best = entry;
    } else if (entry.n > second) second = entry.n;
  }
  return { value: best?.value, top: best?.n ?? 0, tied: best !== undefined && best.n === second };
}

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
    return s.scores[s.value ?? argmaxLabel(s.scores, question.labels)] ?? 0;
  },
  predicted(question, s) {
    return s.value ?? argmaxLabel(s.scores!, question.labels);
  },
  answer(question, raw) {
    if (typeof raw !== 'string') return fail("a label: one of the question's labels, as a string");
    if (!question.labels.some((l) => l.name === raw))
      return fail(`"${raw}" is not one of the question's labels (${question.labels.map((l) => l.name).join(', ')})`);
    return ok(raw);
  },
  consensus(_question, answers, threshold) {
    const { value, top, tied } = plurality(answers);
    const agreement = answers.length === 0 ? 0 : top / answers.length;
    return value !== undefined && !tied && agreement >= threshold ? { decided: true, value, agreement } : { decided: false, agreement };
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

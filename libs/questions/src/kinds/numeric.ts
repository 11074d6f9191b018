import { NumericQuestion } from '../definitions';
import { fail, ok, type QuestionKind } from '../kind';
import { isFiniteNumber, lowerMedian, numberSuggestion, numberUncertainty, type NumberSuggestion } from '../shared';

function outOfBounds(question: NumericQuestion, value: number): string | undefined {
  if (question.min !== undefined && value < question.min) return `at least ${question.min}`;
  if (question.max !== undefined && value > question.max) return `at most ${question.max}`;
  return undefined;
}

/** How far from the median an answer may lie and still agree. */
export const numericTolerance = (question: NumericQuestion, median: number) => Math.max(question.tolerance, question.relativeTolerance * Math.abs(median));

export const numericKind: QuestionKind<NumericQuestion, NumberSuggestion, number> = {
  kind: 'numeric',
  settings: NumericQuestion,
  suggestion(_question, raw) {
    // a model's value outside the bounds is still its output: routing should see it, not refuse it
    return numberSuggestion(raw, () => undefined);
  },
  uncertainty(question, s) {
    const scale =
      question.uncertaintyScale ?? (question.min !== undefined && question.max !== undefined ? question.max - question.min : Math.abs(s.value) || 1);
    return numberUncertainty(s, scale, question.decisionThresholds);
  },
  confidence(question, s) {
    return 1 - numericKind.uncertainty(question, s, 'entropy');
  },
  predicted(_question, s) {
    return s.value;
  },
  answer(question, raw) {
    if (!isFiniteNumber(raw)) return fail('a finite number');
    if (question.integer && !Number.isSafeInteger(raw)) return fail('a whole number (within ±(2^53 − 1))');
    const wrong = outOfBounds(question, raw);
    return wrong ? fail(wrong) : ok(raw);
  },
  /**
   * The (lower) median, then the answers farther from it than the tolerance are outliers; the
   * value is the median of the rest, the agreement the share kept.
   */
  consensus(question, answers, threshold) {
    if (answers.length === 0) return { decided: false, agreement: 0 };
    const median = lowerMedian(answers);
    const tolerance = numericTolerance(question, median);
    const kept = answers.filter((a) => Math.abs(a - median) <= tolerance);
    const agreement = kept.length / answers.length;
    return agreement >= threshold ? { decided: true, value: lowerMedian(kept), agreement } : { decided: false, agreement };
  },
  agreement: () => ({ kind: 'alpha', distance: 'interval' }),
  columns(question) {
    return [{ name: question.name, type: 'float', list: false, values: (a) => [a] }];
  },
};

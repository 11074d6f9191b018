import { RatingQuestion } from '../definitions';
import { fail, ok, type QuestionKind } from '../kind';
import { lowerMedian, numberSuggestion, numberUncertainty, type NumberSuggestion } from '../shared';

const pointIndex = (question: RatingQuestion, value: number) => question.points.findIndex((p) => p.value === value);

export const ratingKind: QuestionKind<RatingQuestion, NumberSuggestion, number> = {
  kind: 'rating',
  settings: RatingQuestion,
  suggestion(question, raw) {
    const first = question.points[0].value;
    const last = question.points[question.points.length - 1].value;
    // a model may predict between the points (an expected rating): within the scale
    return numberSuggestion(raw, (v) => (v < first || v > last ? `within the scale, ${first} to ${last}` : undefined));
  },
  uncertainty(question, s) {
    const scale = question.points[question.points.length - 1].value - question.points[0].value;
    return numberUncertainty(s, scale, question.decisionThresholds);
  },
  confidence(question, s) {
    return 1 - ratingKind.uncertainty(question, s, 'entropy');
  },
  predicted(question, s) {
    // the point nearest the model's value (the lower one on a tie)
    let best = question.points[0].value;
    for (const p of question.points) if (Math.abs(p.value - s.value) < Math.abs(best - s.value)) best = p.value;
    return best;
  },
  answer(question, raw) {
    if (typeof raw !== 'number' || pointIndex(question, raw) < 0)
      return fail(`one of the scale's values: ${question.points.map((p) => `${p.value} (${p.name})`).join(', ')}`);
    return ok(raw);
  },
  /** The (lower) median; raters agree as far as their answers lie within `maxSpread` points of it. */
  consensus(question, answers, threshold) {
    if (answers.length === 0) return { decided: false, agreement: 0 };
    const median = lowerMedian(answers);
    const at = pointIndex(question, median);
    const near = answers.filter((a) => Math.abs(pointIndex(question, a) - at) <= question.maxSpread).length;
    const agreement = near / answers.length;
    return agreement >= threshold ? { decided: true, value: median, agreement } : { decided: false, agreement };
  },
  agreement: () => ({ kind: 'alpha', distance: 'ordinal' }),
  columns(question) {
    return [{ name: question.name, type: 'int', list: false, values: (a) => [a] }];
  },
};

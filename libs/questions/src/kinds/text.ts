import { TextQuestion } from '../definitions';
import { fail, ok, type Checked, type KindDecision, type QuestionKind } from '../kind';
import { clamp01, isFiniteNumber, isObject } from '../shared';
import { majorityVote } from '@backflow/agreement';

/** A generative model's text, with its confidence: a probability, or the mean log-probability of its tokens. */
export interface TextSuggestion {
  value: string;
  confidence?: number;
  meanLogProb?: number;
}

/** Space, tab and line ends at either end (the same characters the SQL consensus trims). */
export const trimText = (text: string) => text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');

/** A rater's text (a text question's, or a corrected response): a string within the length, not blank when required. */
export function textAnswer(question: { maxLength: number; required: boolean }, raw: unknown, messages: { notString: string; empty: string }): Checked<string> {
  if (typeof raw !== 'string') return fail(messages.notString);
  if (raw.length > question.maxLength) return fail(`at most ${question.maxLength} characters`);
  if (question.required && trimText(raw) === '') return fail(messages.empty);
  return ok(raw);
}

/**
 * Raters agree when their texts match (ends trimmed): the most given text, untied, with its
 * share; a lone answer stands only when one rater was asked. Otherwise a reviewer decides.
 */
export function textConsensus(answers: readonly string[], threshold: number): KindDecision<string> {
  // (with two raters or more, a text given once is tied with another: only a matched text can win)
  const { label, share } = majorityVote(answers.map(trimText));
  return label !== undefined && share >= threshold ? { decided: true, value: label, agreement: share } : { decided: false, agreement: share };
}

export const textKind: QuestionKind<TextQuestion, TextSuggestion, string> = {
  kind: 'text',
  settings: TextQuestion,
  suggestion(question, raw) {
    if (!isObject(raw)) return fail('expected an object: {"value": "<text>", "confidence"?: p, "meanLogProb"?: x}');
    for (const key of Object.keys(raw)) if (!['value', 'confidence', 'meanLogProb'].includes(key)) return fail(`unknown key "${key}"`, key);
    if (typeof raw.value !== 'string') return fail('a string', 'value');
    if (raw.value.length > question.maxLength) return fail(`at most ${question.maxLength} characters`, 'value');
    const out: TextSuggestion = { value: raw.value };
    if (raw.confidence !== undefined) {
      if (!isFiniteNumber(raw.confidence) || raw.confidence < 0 || raw.confidence > 1) return fail('a probability in [0, 1]', 'confidence');
      out.confidence = raw.confidence;
    }
    if (raw.meanLogProb !== undefined) {
      if (!isFiniteNumber(raw.meanLogProb) || raw.meanLogProb > 0) return fail('a log-probability: a finite number, at most 0', 'meanLogProb');
      out.meanLogProb = raw.meanLogProb;
    }
    return ok(out);
  },
  uncertainty(question, s) {
    return 1 - textKind.confidence(question, s);
  },
  /** The confidence sent, else the geometric mean token probability, else certain (the model said nothing). */
  confidence(_question, s) {
    if (s.confidence !== undefined) return s.confidence;
    if (s.meanLogProb !== undefined) return clamp01(Math.exp(s.meanLogProb));
    return 1;
  },
  predicted(_question, s) {
    return s.value;
  },
  answer: (question, raw) => textAnswer(question, raw, { notString: 'a string', empty: 'an answer is required: the text is empty' }),
  consensus: (_question, answers, threshold) => textConsensus(answers, threshold),
  agreement: () => ({ kind: 'alpha', distance: 'nominal' }),
  columns(question) {
    return [{ name: question.name, type: 'bytes', list: false, values: (a) => [a] }];
  },
};

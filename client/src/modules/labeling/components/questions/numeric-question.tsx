import { useId } from 'react';
import {
  answered,
  BLANK,
  formatNumber,
  isRecord,
  lowerMedian,
  type AnswerViewProps,
  type QuestionOf,
  type QuestionWidget,
  type Reading,
  type WidgetProps,
} from './question-widget';

type NumericQuestion = QuestionOf<'numeric'>;

// what a person types for a number: a sign, digits, one decimal point (or comma), an exponent
const NUMBER = /^[-+]?(\d+([.,]\d*)?|[.,]\d+)(e[-+]?\d+)?$/i;

/** The bounds, the unit and whole numbers, as a hint: "between 0 and 120 kg, a whole number". */
export function boundsText(question: NumericQuestion): string {
  const unit = question.unit ? ` ${question.unit}` : '';
  const min = question.min === undefined ? undefined : formatNumber(question.min);
  const max = question.max === undefined ? undefined : formatNumber(question.max);
  const range =
    min !== undefined && max !== undefined
      ? `between ${min} and ${max}${unit}`
      : min !== undefined
        ? `at least ${min}${unit}`
        : max !== undefined
          ? `at most ${max}${unit}`
          : `any number${unit ? ` (${question.unit})` : ''}`;
  return question.integer ? `${range}, a whole number` : range;
}

export function readNumber(question: NumericQuestion, text: string): Reading {
  const typed = text.trim();
  if (typed === '') return BLANK;
  if (!NUMBER.test(typed)) return { status: 'invalid', problem: `“${typed}” is not a number` };
  const value = Number(typed.replace(',', '.'));
  if (!Number.isFinite(value)) return { status: 'invalid', problem: 'too large a number' };
  if (question.integer && !Number.isInteger(value)) return { status: 'invalid', problem: 'a whole number is wanted' };
  if (question.min !== undefined && value < question.min) return { status: 'invalid', problem: `below the minimum, ${formatNumber(question.min)}` };
  if (question.max !== undefined && value > question.max) return { status: 'invalid', problem: `above the maximum, ${formatNumber(question.max)}` };
  return answered(value);
}

/** The model's number and its spread, when the server sent them. */
export function NumberSuggestionNote({ suggestion, unit }: { suggestion: unknown; unit?: string }) {
  if (!isRecord(suggestion) || typeof suggestion.value !== 'number') return null;
  const interval = Array.isArray(suggestion.interval) && suggestion.interval.length === 2 ? (suggestion.interval as number[]) : null;
  const spread =
    interval !== null
      ? ` (95% interval ${formatNumber(interval[0])} to ${formatNumber(interval[1])})`
      : typeof suggestion.std === 'number'
        ? ` (± ${formatNumber(suggestion.std)})`
        : '';
  return (
    <p className="question__model">
      The model says <strong>{formatNumber(suggestion.value)}</strong>
      {unit ? ` ${unit}` : ''}
      {spread}
    </p>
  );
}

function NumericQuestionView({ question, draft, onChange, suggestion }: WidgetProps<NumericQuestion, string>) {
  const id = useId();
  const reading = readNumber(question, draft);
  return (
    <div className="numeric">
      <div className="numeric__row">
        <input
          id={`${id}-value`}
          className="field__input numeric__input"
          type="text"
          inputMode="decimal"
          autoComplete="off"
          data-focus-target
          name={question.name}
          aria-label={`${question.name}: ${boundsText(question)}`}
          aria-invalid={reading.status === 'invalid' || undefined}
          aria-describedby={`${id}-bounds`}
          value={draft}
          onChange={(event) => onChange(event.target.value)}
        />
        {question.unit ? <span className="numeric__unit">{question.unit}</span> : null}
      </div>
      <p className="question__hint" id={`${id}-bounds`}>
        A number {boundsText(question)}.
      </p>
      {reading.status === 'invalid' ? (
        <p className="question__problem" role="alert">
          {reading.problem}
        </p>
      ) : null}
      <NumberSuggestionNote suggestion={suggestion} unit={question.unit} />
    </div>
  );
}

function NumericAnswer({ question, answer }: AnswerViewProps<NumericQuestion>) {
  return (
    <span className="answer-label">
      {typeof answer === 'number' ? formatNumber(answer) : String(answer)}
      {question.unit ? <span className="answer-muted"> {question.unit}</span> : null}
    </span>
  );
}

export const numericWidget: QuestionWidget<NumericQuestion, string> = {
  typed: true,
  keys: () => 'Type the number; Enter submits',
  initial: () => '',
  fromAnswer: (_question, answer) => (typeof answer === 'number' ? String(answer) : ''),
  read: readNumber,
  majority: (_question, answers) => lowerMedian(answers.filter((a): a is number => typeof a === 'number')),
  View: NumericQuestionView,
  AnswerView: NumericAnswer,
};

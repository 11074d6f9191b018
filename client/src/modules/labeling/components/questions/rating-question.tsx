import {
  answered,
  BLANK,
  formatNumber,
  keyOf,
  lowerMedian,
  type AnswerViewProps,
  type QuestionOf,
  type QuestionWidget,
  type WidgetProps,
} from './question-widget';
import { NumberSuggestionNote } from './numeric-question';

type RatingQuestion = QuestionOf<'rating'>;

function RatingQuestionView({ question, draft, onChange, single, suggestion }: WidgetProps<RatingQuestion, number | null>) {
  return (
    <div className="rating">
      <div className="rating__scale" role="radiogroup" aria-label={`${question.name}: a point of the scale`}>
        {question.points.map((point, index) => {
          const key = keyOf(point, index);
          const on = draft === point.value;
          return (
            <button
              key={point.value}
              type="button"
              role="radio"
              aria-checked={on}
              aria-keyshortcuts={key || undefined}
              className={['rating__point', on ? 'rating__point--selected' : ''].join(' ')}
              tabIndex={single ? undefined : -1}
              onClick={() => onChange(point.value)}
              data-value={point.value}
            >
              {key ? <kbd className="label-button__key">{key.toUpperCase()}</kbd> : null}
              <span className="rating__value">{point.value}</span>
              <span className="rating__name">{point.name}</span>
            </button>
          );
        })}
      </div>
      <NumberSuggestionNote suggestion={suggestion} />
    </div>
  );
}

function RatingAnswer({ question, answer }: AnswerViewProps<RatingQuestion>) {
  const point = question.points.find((p) => p.value === answer);
  return (
    <span className="answer-label">
      {typeof answer === 'number' ? formatNumber(answer) : String(answer)}
      {point ? <span className="answer-muted"> · {point.name}</span> : null}
    </span>
  );
}

export const ratingWidget: QuestionWidget<RatingQuestion, number | null> = {
  typed: false,
  keys: () => 'A point’s key chooses it; ← → move along the scale',
  initial: () => null,
  fromAnswer: (question, answer) => (typeof answer === 'number' && question.points.some((p) => p.value === answer) ? answer : null),
  read: (_question, draft) => (draft === null ? BLANK : answered(draft)),
  press(question, draft, { key }) {
    const points = question.points;
    const at = points.findIndex((p) => p.value === draft);
    if (key === 'arrowright') return points[at < 0 ? 0 : Math.min(points.length - 1, at + 1)].value;
    if (key === 'arrowleft') return points[at < 0 ? points.length - 1 : Math.max(0, at - 1)].value;
    return points.find((point, index) => keyOf(point, index) === key)?.value;
  },
  majority: (_question, answers) => lowerMedian(answers.filter((a): a is number => typeof a === 'number')),
  View: RatingQuestionView,
  AnswerView: RatingAnswer,
};

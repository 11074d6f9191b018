import { isRecord, keyOf, answered, type AnswerViewProps, type QuestionOf, type QuestionWidget, type WidgetProps } from './question-widget';

type MultiLabelQuestion = QuestionOf<'multi_label'>;

/** The chosen labels in the question's order (what the server stores). */
const inOrder = (question: MultiLabelQuestion, chosen: ReadonlySet<string>) => question.labels.map((l) => l.name).filter((name) => chosen.has(name));

function toggle(question: MultiLabelQuestion, draft: string[], name: string): string[] {
  const chosen = new Set(draft);
  if (chosen.has(name)) chosen.delete(name);
  else chosen.add(name);
  return inOrder(question, chosen);
}

/** What the model said of each label: its probability, or that it chose the label. */
function modelView(suggestion: unknown): { scores?: Record<string, unknown>; chosen?: Set<string> } {
  if (!isRecord(suggestion)) return {};
  return {
    scores: isRecord(suggestion.scores) ? suggestion.scores : undefined,
    chosen: Array.isArray(suggestion.value) ? new Set(suggestion.value.filter((v): v is string => typeof v === 'string')) : undefined,
  };
}

function MultiLabelQuestionView({ question, draft, onChange, single, suggestion }: WidgetProps<MultiLabelQuestion, string[]>) {
  const chosen = new Set(draft);
  const model = modelView(suggestion);
  return (
    <div className="label-buttons label-buttons--toggles" role="group" aria-label={`${question.name}: choose every label that applies`}>
      {question.labels.map((label, index) => {
        const key = keyOf(label, index);
        const on = chosen.has(label.name);
        const score = model.scores?.[label.name];
        return (
          <button
            key={label.name}
            type="button"
            className={['label-button', 'label-button--toggle', on ? 'label-button--selected' : ''].join(' ')}
            aria-pressed={on}
            aria-keyshortcuts={key || undefined}
            title={label.description}
            tabIndex={single ? undefined : -1}
            onClick={() => onChange(toggle(question, draft, label.name))}
            data-label={label.name}
          >
            {key ? <kbd className="label-button__key">{key.toUpperCase()}</kbd> : null}
            <span className="label-button__check" aria-hidden="true">
              {on ? '✓' : ''}
            </span>
            <span className="label-button__name">{label.name}</span>
            {typeof score === 'number' ? (
              <span className="label-button__hint">model {Math.round(score * 100)}%</span>
            ) : model.chosen?.has(label.name) ? (
              <span className="label-button__hint">model's guess</span>
            ) : null}
          </button>
        );
      })}
    </div>
  );
}

function MultiLabelAnswer({ answer }: AnswerViewProps<MultiLabelQuestion>) {
  const labels = Array.isArray(answer) ? answer.map(String) : [];
  if (labels.length === 0) return <span className="answer-none">none</span>;
  return (
    <ul className="answer-chips">
      {labels.map((label) => (
        <li key={label}>{label}</li>
      ))}
    </ul>
  );
}

export const multiLabelWidget: QuestionWidget<MultiLabelQuestion, string[]> = {
  typed: false,
  keys: () => 'A label’s key turns it on or off; choosing none is an answer too',
  initial: () => [],
  fromAnswer: (question, answer) => (Array.isArray(answer) ? inOrder(question, new Set(answer.map(String))) : []),
  // choosing none is an answer: no label applies
  read: (_question, draft) => answered(draft),
  press(question, draft, { key }) {
    const target = question.labels.find((label, index) => keyOf(label, index) === key);
    return target ? toggle(question, draft, target.name) : undefined;
  },
  /** each label kept when more than half the raters chose it */
  majority(question, answers) {
    const sets = answers.filter(Array.isArray).map((a) => new Set(a.map(String)));
    if (sets.length === 0) return undefined;
    return question.labels.map((l) => l.name).filter((name) => 2 * sets.filter((s) => s.has(name)).length > sets.length);
  },
  View: MultiLabelQuestionView,
  AnswerView: MultiLabelAnswer,
};

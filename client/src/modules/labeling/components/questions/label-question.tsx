import { useMemo } from 'react';
import { keyedLabels, LabelButtons } from '../label-buttons';
import { answered, BLANK, isRecord, plainMost, type AnswerViewProps, type QuestionOf, type QuestionWidget, type WidgetProps } from './question-widget';

type LabelQuestion = QuestionOf<'label'>;

/** The model's label: the highest score (ties to the label listed first), or the label it sent. */
export function suggestedLabel(question: { labels: ReadonlyArray<{ name: string }> }, suggestion: unknown): string | undefined {
  if (!isRecord(suggestion)) return undefined;
  if (typeof suggestion.value === 'string') return suggestion.value;
  const scores = suggestion.scores;
  if (!isRecord(scores)) return undefined;
  let best: string | undefined;
  for (const { name } of question.labels) {
    const score = scores[name];
    if (typeof score === 'number' && (best === undefined || score > (scores[best] as number))) best = name;
  }
  return best;
}

/** What a machine labelled the prediction (the labeling functions' label model, or the nearest labelled neighbours), if the suggestion carries it. */
export function machineLabelOf(suggestion: unknown): { source: 'weak' | 'propagated'; label: string; confidence: number } | undefined {
  if (!isRecord(suggestion) || !isRecord(suggestion.machine)) return undefined;
  const { source, label, confidence } = suggestion.machine;
  return (source === 'weak' || source === 'propagated') && typeof label === 'string' && typeof confidence === 'number'
    ? { source, label, confidence }
    : undefined;
}

function LabelQuestionView({ question, draft, onChange, single, suggestion }: WidgetProps<LabelQuestion, string | null>) {
  const labels = useMemo(() => keyedLabels(question.labels), [question.labels]);
  return (
    <LabelButtons
      labels={labels}
      selected={draft}
      suggestion={suggestedLabel(question, suggestion)}
      machine={machineLabelOf(suggestion)}
      onSelect={onChange}
      tabbable={single}
    />
  );
}

function LabelAnswer({ answer }: AnswerViewProps<LabelQuestion>) {
  return <span className="answer-label">{String(answer)}</span>;
}

export const labelWidget: QuestionWidget<LabelQuestion, string | null> = {
  typed: false,
  keys: () => 'A label’s key chooses it',
  initial: () => null,
  fromAnswer: (question, answer) => (typeof answer === 'string' && question.labels.some((l) => l.name === answer) ? answer : null),
  read: (_question, draft) => (draft === null ? BLANK : answered(draft)),
  press: (question, _draft, { key }) => keyedLabels(question.labels).find((label) => label.key === key)?.name,
  majority: (_question, answers) => plainMost(answers.filter((a): a is string => typeof a === 'string')),
  View: LabelQuestionView,
  AnswerView: LabelAnswer,
};

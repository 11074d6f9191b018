import { useId, useMemo } from 'react';
import { answered, BLANK, isRecord, plainMost, type AnswerViewProps, type QuestionOf, type QuestionWidget, type WidgetProps } from './question-widget';
import { wordDiff } from './word-diff';

type TextQuestion = QuestionOf<'text'>;

// the characters the server trims when it compares texts
const trim = (text: string) => text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');

const modelText = (suggestion: unknown) => (isRecord(suggestion) && typeof suggestion.value === 'string' ? suggestion.value : undefined);

function ModelDiff({ before, after }: { before: string; after: string }) {
  const parts = useMemo(() => wordDiff(before, after), [before, after]);
  const changed = parts.some((part) => part.change !== 'same');
  return (
    <section className="text-diff" aria-label="Changes from the model's text" data-testid="text-diff">
      <h4 className="text-diff__title">{changed ? 'Your changes to the model’s text' : 'Same as the model’s text'}</h4>
      {changed ? (
        <p className="text-diff__body">
          {parts.map((part, index) =>
            part.change === 'same' ? (
              <span key={index}>{part.text}</span>
            ) : part.change === 'added' ? (
              <ins key={index} className="text-diff__added">
                {part.text}
              </ins>
            ) : (
              <del key={index} className="text-diff__removed">
                {part.text}
              </del>
            ),
          )}
        </p>
      ) : null}
    </section>
  );
}

function TextQuestionView({ question, draft, onChange, suggestion }: WidgetProps<TextQuestion, string>) {
  const id = useId();
  const model = modelText(suggestion);
  return (
    <div className="text-answer">
      <textarea
        className="text-answer__box"
        name={question.name}
        data-focus-target
        aria-label={question.name}
        aria-describedby={`${id}-count`}
        rows={Math.min(12, Math.max(3, draft.split('\n').length + 1))}
        maxLength={question.maxLength}
        value={draft}
        onChange={(event) => onChange(event.target.value)}
      />
      <p className="question__hint" id={`${id}-count`}>
        {draft.length.toLocaleString()} of {question.maxLength.toLocaleString()} characters
      </p>
      {model !== undefined ? <ModelDiff before={model} after={draft} /> : null}
    </div>
  );
}

function TextAnswer({ answer }: AnswerViewProps<TextQuestion>) {
  return <span className="answer-text">{String(answer)}</span>;
}

export const textWidget: QuestionWidget<TextQuestion, string> = {
  typed: true,
  keys: () => 'Type the text; Ctrl+Enter submits (Enter is a new line)',
  initial: (question, suggestion) => (question.prefill !== false ? (modelText(suggestion) ?? '') : ''),
  fromAnswer: (_question, answer) => (typeof answer === 'string' ? answer : ''),
  // an empty text is no answer: a required one must be written, an optional one is left out
  read: (_question, draft) => (trim(draft) === '' ? BLANK : answered(draft)),
  majority: (_question, answers) =>
    plainMost(
      answers.filter((a): a is string => typeof a === 'string'),
      trim,
    ),
  View: TextQuestionView,
  AnswerView: TextAnswer,
};

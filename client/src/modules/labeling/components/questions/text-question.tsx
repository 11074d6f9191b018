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

/** A text box the rater types an answer in, its length counted, and its changes from the model's text when there is one. */
export function TextBox({
  question,
  draft,
  onChange,
  model,
  rows = [3, 12],
  labelledBy,
}: {
  question: { name: string; maxLength: number };
  draft: string;
  onChange: (draft: string) => void;
  model: string | undefined;
  rows?: [number, number];
  /** the id of a visible label; else the question's name labels the box */
  labelledBy?: string;
}) {
  const id = useId();
  return (
    <>
      <textarea
        className="text-answer__box"
        name={question.name}
        data-focus-target
        {...(labelledBy ? { 'aria-labelledby': labelledBy } : { 'aria-label': question.name })}
        aria-describedby={`${id}-count`}
        rows={Math.min(rows[1], Math.max(rows[0], draft.split('\n').length + 1))}
        maxLength={question.maxLength}
        value={draft}
        onChange={(event) => onChange(event.target.value)}
      />
      <p className="question__hint" id={`${id}-count`}>
        {draft.length.toLocaleString()} of {question.maxLength.toLocaleString()} characters
      </p>
      {model !== undefined ? <ModelDiff before={model} after={draft} /> : null}
    </>
  );
}

/** What a text answer's draft reads as, its majority, and the draft of a given answer: shared by every kind answered in a text box. */
export const textDraft = {
  fromAnswer: (_question: unknown, answer: unknown) => (typeof answer === 'string' ? answer : ''),
  // an empty text is no answer: a required one must be written, an optional one is left out
  read: (_question: unknown, draft: string) => (trim(draft) === '' ? BLANK : answered(draft)),
  majority: (_question: unknown, answers: unknown[]) =>
    plainMost(
      answers.filter((a): a is string => typeof a === 'string'),
      trim,
    ),
};

function TextQuestionView({ question, draft, onChange, suggestion }: WidgetProps<TextQuestion, string>) {
  return (
    <div className="text-answer">
      <TextBox question={question} draft={draft} onChange={onChange} model={modelText(suggestion)} />
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
  ...textDraft,
  View: TextQuestionView,
  AnswerView: TextAnswer,
};

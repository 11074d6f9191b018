import { SafeMarkdown } from '../../../../ui/markdown';
import { answered, BLANK, isRecord, plainMost, type AnswerViewProps, type QuestionOf, type QuestionWidget, type WidgetProps } from './question-widget';

type PreferenceQuestion = QuestionOf<'preference'>;
type Side = 'first' | 'second';
type Choice = 'left' | 'right' | 'tie' | 'both_bad';
interface Response {
  text: string;
  model?: { version: string };
}
/** What the rater has chosen so far, and which response the task shows on the left. */
export interface PreferenceDraft {
  choice: Choice | null;
  left: Side;
}

const other = (side: Side): Side => (side === 'first' ? 'second' : 'first');

/** The pair as the server sent it: the two responses and the side the first is shown on. */
function pairOf(suggestion: unknown): { left: Side; first?: Response; second?: Response } {
  if (!isRecord(suggestion)) return { left: 'first' };
  return {
    left: suggestion.left === 'second' ? 'second' : 'first',
    first: isRecord(suggestion.first) ? (suggestion.first as unknown as Response) : undefined,
    second: isRecord(suggestion.second) ? (suggestion.second as unknown as Response) : undefined,
  };
}

const CHOICES: Array<{ choice: Choice; key: string; name: string }> = [
  { choice: 'left', key: '1', name: 'Left is better' },
  { choice: 'right', key: '2', name: 'Right is better' },
  { choice: 'tie', key: '3', name: 'Equally good' },
  { choice: 'both_bad', key: '4', name: 'Both bad' },
];

/** The answer a choice makes: by response, never by side (the side is recorded beside it). */
const preferredOf = (choice: Choice, left: Side) => (choice === 'left' ? left : choice === 'right' ? other(left) : choice);

function Pane({ side, response }: { side: 'Left' | 'Right'; response: Response | undefined }) {
  return (
    <article className="pair__pane" data-testid={`pair-${side.toLowerCase()}`}>
      <h4 className="chat__role">{side}</h4>
      <div className="chat__text">{response ? <SafeMarkdown text={response.text} /> : '(no response)'}</div>
    </article>
  );
}

function PreferenceQuestionView({ question, draft, onChange, single, suggestion }: WidgetProps<PreferenceQuestion, PreferenceDraft>) {
  const pair = pairOf(suggestion);
  const [leftResponse, rightResponse] = draft.left === 'first' ? [pair.first, pair.second] : [pair.second, pair.first];
  return (
    <div className="pair">
      <div className="pair__panes">
        <Pane side="Left" response={leftResponse} />
        <Pane side="Right" response={rightResponse} />
      </div>
      <div className="rating__scale" role="radiogroup" aria-label={`${question.name}: which response is better`}>
        {CHOICES.map(({ choice, key, name }) => (
          <button
            key={choice}
            type="button"
            role="radio"
            aria-checked={draft.choice === choice}
            aria-keyshortcuts={key}
            className={['rating__point', draft.choice === choice ? 'rating__point--selected' : ''].join(' ')}
            tabIndex={single ? undefined : -1}
            onClick={() => onChange({ ...draft, choice })}
            data-choice={choice}
          >
            <kbd className="label-button__key">{key}</kbd>
            <span className="rating__name">{name}</span>
          </button>
        ))}
      </div>
    </div>
  );
}

const PREFERRED_NAMES: Record<string, string> = { first: 'the first response', second: 'the second response', tie: 'equally good', both_bad: 'both bad' };

function PreferenceAnswerView({ answer }: AnswerViewProps<PreferenceQuestion>) {
  const preferred = isRecord(answer) ? String(answer.preferred) : String(answer);
  return <span className="answer-label">{PREFERRED_NAMES[preferred] ?? preferred}</span>;
}

export const preferenceWidget: QuestionWidget<PreferenceQuestion, PreferenceDraft> = {
  typed: false,
  keys: () => '1 or ← left is better, 2 or → right, 3 equally good, 4 both bad',
  initial: (_question, suggestion) => ({ choice: null, left: pairOf(suggestion).left }),
  fromAnswer: (_question, answer) => {
    if (!isRecord(answer)) return { choice: null, left: 'first' };
    const left: Side = answer.left === 'second' ? 'second' : 'first';
    const preferred = answer.preferred;
    const choice: Choice | null =
      preferred === left ? 'left' : preferred === other(left) ? 'right' : preferred === 'tie' || preferred === 'both_bad' ? preferred : null;
    return { choice, left };
  },
  read: (_question, draft) => (draft.choice === null ? BLANK : answered({ preferred: preferredOf(draft.choice, draft.left), left: draft.left })),
  press(_question, draft, { key }) {
    if (key === 'arrowleft') return { ...draft, choice: 'left' };
    if (key === 'arrowright') return { ...draft, choice: 'right' };
    const choice = CHOICES.find((c) => c.key === key)?.choice;
    return choice ? { ...draft, choice } : undefined;
  },
  majority: (_question, answers) =>
    plainMost(
      answers.filter((a): a is { preferred: string; left: string } => isRecord(a) && typeof a.preferred === 'string'),
      (a) => `${a.preferred}|${a.left}`,
    ),
  View: PreferenceQuestionView,
  AnswerView: PreferenceAnswerView,
};

import {
  formatNumber,
  isRecord,
  keyOf,
  lowerMedian,
  answered,
  BLANK,
  type AnswerViewProps,
  type QuestionOf,
  type QuestionWidget,
  type WidgetProps,
} from './question-widget';

type RankingQuestion = QuestionOf<'ranking'>;

/** A candidate as the task shows it: the item, where it was shown, what the catalog says of it, and the model's score when the project shows predictions. */
interface ShownCandidate {
  item: string;
  position: number;
  score?: number;
  features?: Record<string, unknown>;
}

/** The list being graded: the items in the order shown, the one that has the keys, and the grades given so far. */
export interface RankingDraft {
  items: string[];
  at: number;
  grades: Record<string, number>;
}

function candidatesOf(suggestion: unknown): ShownCandidate[] {
  if (!isRecord(suggestion) || !Array.isArray(suggestion.candidates)) return [];
  return suggestion.candidates.filter((c): c is ShownCandidate => isRecord(c) && typeof c.item === 'string' && typeof c.position === 'number');
}

/** A grade's key: its hotkey, else its value when that is a digit (0 grades 0), else 1–9 by place. */
const gradeKey = (grade: { value: number; hotkey?: string }, index: number) =>
  grade.hotkey ?? (Number.isInteger(grade.value) && grade.value >= 0 && grade.value <= 9 ? String(grade.value) : keyOf(grade, index));

const gradeName = (question: RankingQuestion, grade: number) => question.grades.find((g) => g.value === grade)?.name;

/** A feature's value in a line: a list joined, a number without float noise. */
function featureText(value: unknown): string {
  if (Array.isArray(value)) return value.map(featureText).join(', ');
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

/** The item after `at` that has no grade yet (wrapping), else the next one down. */
function nextUngraded(draft: RankingDraft, grades: Record<string, number>): number {
  const n = draft.items.length;
  for (let step = 1; step <= n; step++) {
    const i = (draft.at + step) % n;
    if (grades[draft.items[i]] === undefined) return i;
  }
  return Math.min(n - 1, draft.at + 1);
}

function RankingQuestionView({ question, draft, onChange, active, suggestion }: WidgetProps<RankingQuestion, RankingDraft>) {
  const byItem = new Map(candidatesOf(suggestion).map((c) => [c.item, c]));
  const graded = draft.items.filter((item) => draft.grades[item] !== undefined).length;
  return (
    <div className="ranking">
      <p className="ranking__progress" aria-live="polite">
        {graded} of {draft.items.length} graded
      </p>
      <ol className="ranking__list" aria-label={`${question.name}: grade each result's relevance`}>
        {draft.items.map((item, index) => {
          const candidate = byItem.get(item);
          const grade = draft.grades[item];
          const here = index === draft.at;
          const features = Object.entries(candidate?.features ?? {});
          return (
            <li
              key={item}
              className={['ranking__item', here ? 'ranking__item--here' : '', grade === undefined ? '' : 'ranking__item--graded'].join(' ')}
              aria-current={here && active ? 'true' : undefined}
              data-item={item}
              onMouseDown={() => onChange({ ...draft, at: index })}
            >
              <span className="ranking__position" title="where the model showed it">
                {candidate?.position ?? index + 1}
              </span>
              <div className="ranking__body">
                <span className="ranking__id">{item}</span>
                {features.length > 0 ? (
                  <dl className="ranking__features">
                    {features.map(([name, value]) => (
                      <div key={name}>
                        <dt>{name}</dt>
                        <dd>{featureText(value)}</dd>
                      </div>
                    ))}
                  </dl>
                ) : null}
                {typeof candidate?.score === 'number' ? <span className="ranking__score">model score {formatNumber(candidate.score)}</span> : null}
              </div>
              <div className="ranking__grades" role="radiogroup" aria-label={`${item}: relevance`}>
                {question.grades.map((g, gi) => {
                  const key = gradeKey(g, gi);
                  const on = grade === g.value;
                  return (
                    <button
                      key={g.value}
                      type="button"
                      role="radio"
                      aria-checked={on}
                      tabIndex={-1}
                      className={['ranking__grade', on ? 'ranking__grade--selected' : ''].join(' ')}
                      title={g.name}
                      onClick={() => onChange({ ...draft, at: index, grades: { ...draft.grades, [item]: g.value } })}
                      data-grade={g.value}
                    >
                      {here && key ? <kbd className="label-button__key">{key.toUpperCase()}</kbd> : null}
                      <span className="ranking__grade-name">{g.name}</span>
                    </button>
                  );
                })}
              </div>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function RankingAnswer({ question, answer }: AnswerViewProps<RankingQuestion>) {
  const graded = Array.isArray(answer) ? answer.filter((g): g is { item: string; grade: number } => isRecord(g) && typeof g.item === 'string') : [];
  if (graded.length === 0) return <span className="answer-none">none</span>;
  return (
    <ul className="answer-grades">
      {graded.map((g) => (
        <li key={g.item}>
          <span className="answer-grades__item">{g.item}</span> {formatNumber(g.grade)}
          {gradeName(question, g.grade) ? <span className="answer-muted"> · {gradeName(question, g.grade)}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export const rankingWidget: QuestionWidget<RankingQuestion, RankingDraft> = {
  typed: false,
  keys: () => '↑ ↓ move between results; a grade’s key grades the result and goes to the next one; ← → step its grade',
  initial: (_question, suggestion) => ({ items: candidatesOf(suggestion).map((c) => c.item), at: 0, grades: {} }),
  fromAnswer(question, answer) {
    const graded = Array.isArray(answer) ? answer.filter((g): g is { item: string; grade: number } => isRecord(g) && typeof g.item === 'string') : [];
    return {
      items: graded.map((g) => g.item),
      at: 0,
      grades: Object.fromEntries(graded.filter((g) => question.grades.some((p) => p.value === g.grade)).map((g) => [g.item, g.grade])),
    };
  },
  read(_question, draft) {
    const graded = draft.items.filter((item) => draft.grades[item] !== undefined);
    if (graded.length === 0) return BLANK;
    if (graded.length < draft.items.length)
      return { status: 'invalid', problem: `${draft.items.length - graded.length} of ${draft.items.length} results not graded` };
    // in item id order, as the server keeps a ranking's answer
    return answered([...graded].sort().map((item) => ({ item, grade: draft.grades[item] })));
  },
  press(question, draft, { key }) {
    if (draft.items.length === 0) return undefined;
    if (key === 'arrowdown') return { ...draft, at: Math.min(draft.items.length - 1, draft.at + 1) };
    if (key === 'arrowup') return { ...draft, at: Math.max(0, draft.at - 1) };
    const item = draft.items[draft.at];
    const grades = question.grades;
    const at = grades.findIndex((g) => g.value === draft.grades[item]);
    if (key === 'arrowright' || key === 'arrowleft') {
      const next = key === 'arrowright' ? grades[at < 0 ? 0 : Math.min(grades.length - 1, at + 1)] : grades[at < 0 ? grades.length - 1 : Math.max(0, at - 1)];
      return { ...draft, grades: { ...draft.grades, [item]: next.value } };
    }
    const chosen = grades.find((g, index) => gradeKey(g, index) === key);
    if (!chosen) return undefined;
    const gradesNow = { ...draft.grades, [item]: chosen.value };
    return { ...draft, grades: gradesNow, at: nextUngraded(draft, gradesNow) };
  },
  /** per item, the lower median of the grades given, when every answer grades the same items */
  majority(_question, answers) {
    const lists = answers.filter(Array.isArray).map((a) => a.filter((g): g is { item: string; grade: number } => isRecord(g) && typeof g.item === 'string'));
    if (lists.length === 0) return undefined;
    const items = lists[0].map((g) => g.item);
    if (lists.some((l) => l.length !== items.length || l.some((g, i) => g.item !== items[i]))) return undefined;
    return items.map((item, i) => ({ item, grade: lowerMedian(lists.map((l) => l[i].grade))! }));
  },
  View: RankingQuestionView,
  AnswerView: RankingAnswer,
};

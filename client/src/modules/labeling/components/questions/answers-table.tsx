import type { Question } from '@backflow/contracts';
import { questionTitle, type TaskInputFields } from './question-widget';
import { widgetOf } from './registry';

export interface AnswersTableProps {
  questions: readonly Question[];
  /** each rater's answers, in the order they were given */
  annotations: ReadonlyArray<{ answers: Record<string, unknown> }>;
  input: TaskInputFields;
}

const given = (answer: unknown) => answer !== undefined && answer !== null;

/** Every rater's answers side by side: a row per question, a column per rater; a row where they differ is marked. */
export function AnswersTable({ questions, annotations, input }: AnswersTableProps) {
  if (annotations.length === 0) return <p>No rater answered it.</p>;
  return (
    <div className="answers-table__scroll">
      <table className="answers-table" data-testid="answers-table">
        <thead>
          <tr>
            <th scope="col">Question</th>
            {annotations.map((_, index) => (
              <th key={index} scope="col">
                Rater {index + 1}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {questions.map((question) => {
            const widget = widgetOf(question);
            const answers = annotations.map((a) => a.answers[question.name]);
            const split = new Set(answers.map((a) => JSON.stringify(a ?? null))).size > 1;
            return (
              <tr key={question.name} className={split ? 'answers-table__row--split' : undefined} data-question={question.name}>
                <th scope="row">
                  {questionTitle(question.name)}
                  <span className="answers-table__agreement">{split ? 'raters differ' : 'all agree'}</span>
                </th>
                {answers.map((answer, index) => (
                  <td key={index}>
                    {given(answer) ? <widget.AnswerView question={question} answer={answer} input={input} /> : <span className="answer-none">—</span>}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

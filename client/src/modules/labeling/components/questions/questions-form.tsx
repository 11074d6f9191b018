import type { QuestionsFormState } from '../../hooks/use-questions-form';
import { keyedLabels } from '../label-buttons';
import { questionTitle } from './question-widget';
import { suggestionFor, widgetOf } from './registry';
import './questions.css';

/**
 * Every question of the task, in order, each one tab stop: the one that has the keys is ringed
 * and says so. A project of one label question shows its label buttons alone, as it always did.
 */
export function QuestionsForm({ form }: { form: QuestionsFormState }) {
  const { task, statuses, legacy, active, attempted, unanswered } = form;
  if (!task) return null;
  const several = statuses.length > 1;
  // a lone question needs no telling where keys go; a missing answer is named once a submit was tried
  const showUnanswered = !legacy && unanswered.length > 0 && (several || attempted);
  // one label question, sent with nothing chosen: say what to do (announced: the live region is always there)
  const chooseFirst = legacy && attempted && unanswered.length > 0;
  const keys = legacy ? keyedLabels(statuses[0]?.question.kind === 'label' ? statuses[0].question.labels : []) : [];
  return (
    <div ref={form.containerRef} className={['questions', several ? 'questions--several' : '', legacy ? '' : 'questions--framed'].join(' ')}>
      {statuses.map(({ question, reading, missing }, index) => {
        const widget = widgetOf(question);
        const isActive = index === active;
        const headingId = `question-${task.id}-${index}`;
        return (
          <section
            key={question.name}
            className={[
              'question',
              several && isActive ? 'question--active' : '',
              attempted && (missing || reading.status === 'invalid') ? 'question--unanswered' : '',
            ].join(' ')}
            data-question-index={index}
            data-question={question.name}
            data-kind={question.kind}
            // one tab stop per question: its text field where it has one, else the question itself
            tabIndex={legacy ? undefined : widget.typed ? -1 : 0}
            aria-labelledby={legacy ? undefined : headingId}
            aria-current={several && isActive ? 'true' : undefined}
            onFocus={() => form.setActive(index)}
            onMouseDown={() => form.setActive(index)}
          >
            {legacy ? null : (
              <header className="question__head">
                <h3 id={headingId} className="question__title">
                  {several ? <span className="question__number">{index + 1}</span> : null}
                  {questionTitle(question.name)}
                </h3>
                {question.required === false ? <span className="question__optional">optional</span> : null}
                {several && isActive ? (
                  <span className="question__keys-here" data-testid="keys-here">
                    keys go here
                  </span>
                ) : null}
              </header>
            )}
            {question.description ? <p className="question__description">{question.description}</p> : null}
            <widget.View
              question={question}
              draft={form.drafts[question.name]}
              onChange={(draft) => form.setDraft(question.name, draft)}
              active={isActive}
              single={!several}
              suggestion={suggestionFor(task, question)}
              input={task.input}
            />
            {legacy ? null : (
              <p className="question__keys">
                {widget.keys(question)}
                {several ? '; Tab goes to the next question' : ''}
              </p>
            )}
          </section>
        );
      })}
      <div className="questions__hint" role="status" aria-live="polite" data-testid="submit-hint">
        {chooseFirst ? (
          <p className="questions__unanswered" data-testid="unanswered">
            Choose a label first:{' '}
            {keys.length
              ? `press ${keys
                  .filter((k) => k.key)
                  .map((k) => `${k.key.toUpperCase()} for ${k.name}`)
                  .join(', ')} or click one, then Enter.`
              : 'click one, then Enter.'}
          </p>
        ) : null}
      </div>
      {showUnanswered ? (
        <p className="questions__unanswered" role="status" data-testid="unanswered">
          Still to answer:{' '}
          {unanswered.map(({ question, reading }, index) => (
            <span key={question.name}>
              {index > 0 ? ', ' : ''}
              <button type="button" className="link-button" onClick={() => form.focusQuestion(statuses.findIndex((s) => s.question === question))}>
                {questionTitle(question.name)}
              </button>
              {reading.status === 'invalid' ? ` (${reading.problem})` : ''}
            </span>
          ))}
        </p>
      ) : null}
    </div>
  );
}

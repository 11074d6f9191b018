import { useCallback, useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReviewRequestBody, TaskPayload } from '@backflow/contracts';
import { claimReview, decideReview, queueStatsQuery } from '../modules/labeling/api/labeling-api';
import { AnswersTable } from '../modules/labeling/components/questions/answers-table';
import { QuestionsForm } from '../modules/labeling/components/questions/questions-form';
import { projectQuery } from '../modules/projects/api/projects-api';
import { TaskInput } from '../modules/labeling/components/task-input';
import { useQuestionsForm } from '../modules/labeling/hooks/use-questions-form';
import { ErrorAlert } from '../ui/error-alert';
import { BackToProjects, PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import './label-page.css';

export interface ReviewPageProps {
  slug: string;
}

type Load = { status: 'loading' } | { status: 'ready'; task: TaskPayload | null } | { status: 'error'; cause: unknown; fallback: string };

const inField = (target: EventTarget | null) => target instanceof HTMLElement && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA');
const lineField = (target: EventTarget | null) => target instanceof HTMLInputElement && target.type === 'text';

/**
 * A reviewer works through escalated and reported tasks: every rater's answers side by side (for
 * one label question, how many chose each label), the agreement, and a final decision by keyboard,
 * started from the raters' majority where there is a plain one.
 */
export function ReviewPage({ slug }: ReviewPageProps) {
  const queryClient = useQueryClient();
  // the task on screen is this reviewer's lease, not cached server data: each claim leases the next one
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [decided, setDecided] = useState(0);
  const projectName = useQuery(projectQuery(slug)).data?.name ?? null;
  const task = load.status === 'ready' ? load.task : null;
  const form = useQuestionsForm(task, 'majority');

  const { mutate: claim, isPending: claiming } = useMutation({
    mutationFn: () => claimReview(slug),
    onSuccess: (claimed) => setLoad({ status: 'ready', task: claimed }),
    onError: (cause) => setLoad({ status: 'error', cause, fallback: 'The review queue could not be loaded.' }),
  });
  const { mutate: decideTask, isPending: deciding } = useMutation({
    mutationFn: (decision: { taskId: string; answer: ReviewRequestBody }) => decideReview(slug, decision.taskId, decision.answer),
    onSuccess: () => {
      setDecided((n) => n + 1);
      void queryClient.invalidateQueries({ queryKey: queueStatsQuery(slug).queryKey });
      claim();
    },
    onError: (cause) => setLoad({ status: 'error', cause, fallback: 'The decision could not be saved.' }),
  });
  // from the decision until the next task is on screen
  const busy = deciding || claiming;

  useEffect(() => {
    document.title = `Review ${slug} · Backflow`;
    claim();
  }, [slug, claim]);

  const { attempt, body, press, focusQuestion, active, legacy } = form;
  const decide = useCallback(() => {
    if (!task || busy || !attempt()) return;
    decideTask({ taskId: task.id, answer: body() });
  }, [task, busy, attempt, body, decideTask]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.metaKey || !task) return;
      const key = event.key.toLowerCase();
      const typing = inField(event.target);
      // Enter decides; in a text box, Ctrl+Enter does
      // (with nothing chosen, the form says what is missing: announced, nothing sent)
      if (
        key === 'enter' &&
        (event.ctrlKey || !typing || lineField(event.target)) &&
        !(event.target instanceof HTMLButtonElement && !event.target.classList.contains('label-button'))
      ) {
        event.preventDefault();
        decide();
        return;
      }
      if (event.ctrlKey) return;
      if (typing) {
        if (key === 'escape') focusQuestion(active, { field: false });
        return;
      }
      if (press({ key, shift: event.shiftKey })) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [task, decide, press, focusQuestion, active]);

  const total = task?.review?.answers.reduce((sum, a) => sum + a.count, 0) ?? 0;
  const annotations = task?.review?.annotations;

  return (
    <PageShell className="label-page">
      <div className="label-page__bar">
        <div>
          <BackToProjects />
          <h1 className="label-page__title">Review: {projectName ?? slug}</h1>
        </div>
        <dl className="label-page__stats">
          <div>
            <dt>Decided this sitting</dt>
            <dd data-testid="decided-count">{decided}</dd>
          </div>
        </dl>
      </div>

      {load.status === 'error' ? <ErrorAlert error={load.cause} fallback={load.fallback} /> : null}
      {load.status === 'loading' ? <p className="label-page__loading">Loading the review queue…</p> : null}
      {load.status === 'ready' && !task ? (
        <section className="label-page__idle" data-testid="review-empty">
          <h2>Nothing to review</h2>
          <p>Escalated disagreements and reported tasks appear here.</p>
          <Button variant="secondary" onClick={() => claim()}>
            Check again
          </Button>
        </section>
      ) : null}

      {task ? (
        <article className="task-card" aria-labelledby="review-heading" data-task-id={task.id}>
          <header className="task-card__head">
            <h2 id="review-heading" className="task-card__title">
              The raters disagreed or reported this example: your label is final
            </h2>
          </header>
          <TaskInput input={task.input} layout={task.layout} shownElsewhere={form.shownFields} />
          {task.review ? (
            <section className="review-answers" aria-label="How the raters answered">
              <h3 className="task-input__key">How the raters answered{total ? ` (agreement ${Math.round(task.review.agreement * 100)}%)` : ''}</h3>
              {!legacy && annotations ? (
                <AnswersTable questions={form.questions} annotations={annotations} input={task.input} />
              ) : task.review.answers.length ? (
                <ul className="review-answers__list">
                  {task.review.answers.map((answer) => (
                    <li key={answer.label}>
                      <span className="review-answers__label">{answer.label}</span>
                      <span className="review-answers__bar" aria-hidden="true">
                        <span style={{ width: `${(answer.count / total) * 100}%` }} />
                      </span>
                      <span className="review-answers__count">
                        {answer.count} of {total}
                      </span>
                    </li>
                  ))}
                </ul>
              ) : (
                <p>No rater answered it.</p>
              )}
              {task.review.reports.length ? (
                <div className="review-answers__reports">
                  <h3 className="task-input__key">Reported problems</h3>
                  <ul>
                    {task.review.reports.map((report, index) => (
                      <li key={index}>{report}</li>
                    ))}
                  </ul>
                </div>
              ) : null}
            </section>
          ) : null}
          {legacy ? null : <h3 className="task-input__key">Your decision{form.questions.length > 1 ? ', question by question' : ''} (final)</h3>}
          <QuestionsForm form={form} />
          <div className="task-card__actions">
            <Button onClick={decide} busy={busy} aria-keyshortcuts="Enter">
              Decide <kbd>Enter</kbd>
            </Button>
          </div>
        </article>
      ) : null}
    </PageShell>
  );
}

import { useCallback, useEffect, useMemo, useState } from 'react';
import type { TaskPayload } from '@backflow/contracts';
import { isApiError } from '../lib/api';
import type { Session } from '../modules/auth/api/session-api';
import { claimReview, decideReview } from '../modules/labeling/api/labeling-api';
import { keyedLabels, LabelButtons } from '../modules/labeling/components/label-buttons';
import { fetchProject } from '../modules/projects/api/projects-api';
import { TaskInput } from '../modules/labeling/components/task-input';
import { Alert } from '../ui/alert';
import { BackToProjects, PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import './label-page.css';

export interface ReviewPageProps {
  slug: string;
  session: Session;
  onSignOut: () => Promise<void>;
}

type Load = { status: 'loading' } | { status: 'ready'; task: TaskPayload | null } | { status: 'error'; message: string };

/** A reviewer works through escalated and reported tasks: every rater's answer, the agreement, and a final decision by keyboard. */
export function ReviewPage({ slug, session, onSignOut }: ReviewPageProps) {
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [selected, setSelected] = useState<string | null>(null);
  const [decided, setDecided] = useState(0);
  const [busy, setBusy] = useState(false);
  const [projectName, setProjectName] = useState<string | null>(null);
  const task = load.status === 'ready' ? load.task : null;
  const labels = useMemo(() => keyedLabels(task?.labels ?? []), [task?.labels]);

  const next = useCallback(async () => {
    setSelected(null);
    try {
      setLoad({ status: 'ready', task: await claimReview(slug) });
    } catch (cause) {
      setLoad({ status: 'error', message: isApiError(cause) ? cause.message : 'The review queue could not be loaded.' });
    }
  }, [slug]);

  useEffect(() => {
    document.title = `Review ${slug} · Backflow`;
    void next();
    const controller = new AbortController();
    fetchProject(slug, controller.signal)
      .then((project) => setProjectName(project.name))
      .catch(() => undefined);
    return () => controller.abort();
  }, [slug, next]);

  const decide = useCallback(async () => {
    if (!task || !selected || busy) return;
    setBusy(true);
    try {
      await decideReview(slug, task.id, selected);
      setDecided((n) => n + 1);
      await next();
    } catch (cause) {
      setLoad({ status: 'error', message: isApiError(cause) ? cause.message : 'The decision could not be saved.' });
    } finally {
      setBusy(false);
    }
  }, [task, selected, busy, slug, next]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || !task) return;
      const key = event.key.toLowerCase();
      const label = labels.find((l) => l.key === key);
      if (label) {
        event.preventDefault();
        setSelected(label.name);
      } else if (key === 'enter' && selected) {
        event.preventDefault();
        void decide();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [task, labels, selected, decide]);

  const total = task?.review?.answers.reduce((sum, a) => sum + a.count, 0) ?? 0;

  return (
    <PageShell session={session} onSignOut={onSignOut} className="label-page">
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

      {load.status === 'error' ? (
        <Alert title="Something went wrong">
          <p>{load.message}</p>
        </Alert>
      ) : null}
      {load.status === 'loading' ? <p className="label-page__loading">Loading the review queue…</p> : null}
      {load.status === 'ready' && !task ? (
        <section className="label-page__idle" data-testid="review-empty">
          <h2>Nothing to review</h2>
          <p>Escalated disagreements and reported tasks appear here.</p>
          <Button variant="secondary" onClick={() => void next()}>
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
          <TaskInput input={task.input} />
          {task.review ? (
            <section className="review-answers" aria-label="How the raters answered">
              <h3 className="task-input__key">How the raters answered{total ? ` (agreement ${Math.round(task.review.agreement * 100)}%)` : ''}</h3>
              {task.review.answers.length ? (
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
          <LabelButtons labels={labels} selected={selected} onSelect={setSelected} />
          <div className="task-card__actions">
            <Button onClick={() => void decide()} disabled={!selected} busy={busy} aria-keyshortcuts="Enter">
              Decide <kbd>Enter</kbd>
            </Button>
          </div>
        </article>
      ) : null}
    </PageShell>
  );
}

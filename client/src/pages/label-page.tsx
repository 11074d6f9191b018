import { useCallback, useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import Markdown from 'react-markdown';
import type { RaterQueue, SkipRequest } from '@backflow/contracts';
import { errorHeading } from '../lib/error-headings';
import { useSignedInSession } from '../modules/auth/hooks/use-session';
import { raterQueueQuery } from '../modules/labeling/api/labeling-api';
import { QuestionsForm } from '../modules/labeling/components/questions/questions-form';
import { TaskInput } from '../modules/labeling/components/task-input';
import { useLabeling, type LastAnswer } from '../modules/labeling/hooks/use-labeling';
import { useQuestionsForm, type QuestionsFormState } from '../modules/labeling/hooks/use-questions-form';
import { projectQuery } from '../modules/projects/api/projects-api';
import { Alert } from '../ui/alert';
import { BackToProjects, PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import './label-page.css';

export interface LabelPageProps {
  slug: string;
}

// a lease this close to its end gets a warning on screen
const LEASE_WARNING_MS = 20_000;

/** Keys that belong to a text field while one has focus. */
function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable);
}

/** A focused button (Skip, a label, Undo): Enter presses it, as everywhere, rather than submitting. */
const buttonFocused = (target: EventTarget | null) => target instanceof HTMLButtonElement && !target.classList.contains('label-button');

/** A one-line field, where Enter means nothing else: it submits. */
const lineField = (target: EventTarget | null) => target instanceof HTMLInputElement && target.type === 'text';

/** What was answered, in a few words, for the confirmation ("spam"; "3 answers"). */
function answerSummary(form: QuestionsFormState): string {
  const given = form.statuses.filter((s) => s.reading.status === 'answered');
  const text = (answer: unknown): string => {
    if (typeof answer === 'string') return answer.length > 40 ? `${answer.slice(0, 39)}…` : answer;
    if (typeof answer === 'number' || typeof answer === 'boolean') return String(answer);
    if (Array.isArray(answer) && answer.every((a) => typeof a === 'string')) return answer.length ? answer.join(', ') : 'none apply';
    return 'your answer';
  };
  if (given.length === 1) return text(given[0].reading.status === 'answered' ? given[0].reading.answer : undefined);
  return `${given.length} answers`;
}

/** The task card's question: today's for a project of one label question. */
function taskHeading(form: QuestionsFormState): string {
  if (form.legacy) return 'Which label fits this example?';
  return form.questions.length === 1 ? 'Answer the question about this example' : `Answer the ${form.questions.length} questions about this example`;
}

export function LabelPage({ slug }: LabelPageProps) {
  const session = useSignedInSession();
  const { state, stats, submit, skip, undo, dismissError, resumeHere } = useLabeling(slug, session.user.id);
  const task = state.current;
  const form = useQuestionsForm(task);
  const [showInstructions, setShowInstructions] = useState(false);
  const [skipping, setSkipping] = useState(false);
  const shownAt = useRef(performance.now());
  const leaseLeft = useLeaseCountdown(task?.leaseExpiresAt);

  const projectName = useQuery(projectQuery(slug)).data?.name ?? null;
  useEffect(() => {
    document.title = `Label ${projectName ?? slug} · Backflow`;
  }, [slug, projectName]);

  // a new task on screen: the clock starts (its answers start blank in the form)
  useEffect(() => {
    shownAt.current = performance.now();
  }, [task?.id]);

  const { attempt, body, press, focusQuestion, active } = form;
  const answer = useCallback(() => {
    // nothing chosen yet: the form says what is missing (announced), and nothing is sent
    if (!task || !attempt()) return;
    submit(body(), performance.now() - shownAt.current, answerSummary(form));
  }, [task, attempt, body, submit, form]);

  const doSkip = useCallback(
    (request: SkipRequest) => {
      setSkipping(false);
      skip(request);
    },
    [skip],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.metaKey || skipping) return;
      const key = event.key.toLowerCase();
      const inField = typing(event.target);
      // Enter submits; in a text box, Ctrl+Enter does (Enter is a new line there)
      if (task && key === 'enter' && (event.ctrlKey || !inField || lineField(event.target)) && !buttonFocused(event.target)) {
        event.preventDefault();
        answer();
        return;
      }
      if (event.ctrlKey) return;
      if (inField) {
        // Escape leaves the text field for its question, where the page's keys work again
        if (key === 'escape') focusQuestion(active, { field: false });
        return;
      }
      if (key === '?' || key === 'i') {
        event.preventDefault();
        setShowInstructions((open) => !open);
        return;
      }
      if (key === 'escape' && showInstructions) {
        setShowInstructions(false);
        return;
      }
      if (key === 'z') {
        event.preventDefault();
        void undo();
        return;
      }
      if (!task) return;
      if (press({ key, shift: event.shiftKey })) {
        event.preventDefault();
        return;
      }
      if (key === 's') {
        event.preventDefault();
        setSkipping(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [task, answer, press, focusQuestion, active, skipping, showInstructions, undo]);

  return (
    <PageShell className="label-page" banner={<ConnectionBanner status={state.connection} unsent={state.unsent} />}>
      <div className="label-page__bar">
        <div>
          <BackToProjects />
          <h1 className="label-page__title">{projectName ?? slug}</h1>
        </div>
        <dl className="label-page__stats">
          <div>
            <dt>In the queue (all raters)</dt>
            <dd data-testid="queue-depth">{stats ? stats.depth : '…'}</dd>
          </div>
          <div>
            <dt>Done today (everyone)</dt>
            <dd data-testid="done-today">{stats ? stats.doneToday : '…'}</dd>
          </div>
          <div>
            <dt>You, this sitting</dt>
            <dd data-testid="own-count">{state.done}</dd>
          </div>
        </dl>
      </div>

      {state.refusal ? (
        <Alert title="You cannot label in this project">
          <p>{state.refusal}</p>
        </Alert>
      ) : null}
      {state.error ? (
        <div className="label-page__error">
          <Alert title={errorHeading(state.error.code)}>
            <p>{state.error.message}</p>
          </Alert>
          <Button variant="secondary" onClick={dismissError}>
            Dismiss
          </Button>
        </div>
      ) : null}

      <div className="label-page__live" role="status" aria-live="polite">
        {state.notice ? (
          <p className="label-page__notice" data-testid="labeling-notice">
            {state.notice}
          </p>
        ) : null}
        {state.last ? <LastAnswerBar last={state.last} onUndo={() => void undo()} /> : null}
      </div>

      {task ? (
        <article className="task-card" aria-labelledby="task-heading" data-task-id={task.id}>
          <header className="task-card__head">
            <h2 id="task-heading" className="task-card__title">
              {taskHeading(form)}
            </h2>
            {leaseLeft !== null && leaseLeft < LEASE_WARNING_MS ? (
              <p className="task-card__lease" role="status">
                {leaseLeft > 0
                  ? `Your hold on this task ends in ${Math.ceil(leaseLeft / 1000)} s; answer soon.`
                  : 'Your hold on this task has ended; your answer still counts while the task needs it.'}
              </p>
            ) : null}
          </header>
          <TaskInput input={task.input} layout={task.layout} shownElsewhere={form.shownFields} />
          <QuestionsForm form={form} />
          <div className="task-card__actions">
            <Button onClick={answer} aria-keyshortcuts="Enter">
              Submit <kbd>Enter</kbd>
            </Button>
            <Button variant="secondary" onClick={() => setSkipping(true)} aria-keyshortcuts="S">
              Skip <kbd>S</kbd>
            </Button>
            <Button variant="secondary" onClick={() => setShowInstructions((open) => !open)} aria-keyshortcuts="I" aria-expanded={showInstructions}>
              Instructions <kbd>I</kbd>
            </Button>
          </div>
        </article>
      ) : state.moved ? (
        <section className="label-page__idle" data-testid="sitting-moved">
          <h2>You are labeling this project in another tab</h2>
          <p>
            Your tasks moved to the tab or window you opened last, so no task is shown twice. Answers you gave here were sent. Go on there, or take the tasks
            back here.
          </p>
          <Button onClick={resumeHere}>Label here instead</Button>
        </section>
      ) : state.ready && state.connection !== 'refused' && state.unsent === 0 ? (
        <CaughtUp slug={slug} depth={stats?.depth ?? null} />
      ) : state.connection !== 'refused' ? (
        <p className="label-page__loading">Loading the next task…</p>
      ) : null}

      {showInstructions && task ? <InstructionsPanel text={task.instructions} onClose={() => setShowInstructions(false)} /> : null}
      {skipping && task ? <SkipDialog onSkip={doSkip} onCancel={() => setSkipping(false)} /> : null}
    </PageShell>
  );
}

/**
 * What was just answered, and whether Undo can still take it back: held here for the project's
 * undo window (the countdown is for the eye; the live region says it once), then sent; after
 * that, Undo shows only while the task waits for other raters' answers.
 */
function LastAnswerBar({ last, onUndo }: { last: LastAnswer; onUndo: () => void }) {
  const left = useSecondsLeft(last.phase === 'holding' ? last.sendAt : undefined);
  const canUndo = last.phase === 'holding' || (last.phase === 'stored' && last.undoable);
  return (
    <div className="last-answer" data-testid="last-answer" data-phase={last.phase}>
      <p className="last-answer__text">
        {last.phase === 'holding' ? 'Answered' : last.phase === 'sending' ? 'Sending' : 'Sent'}: <strong>{last.summary}</strong>
        {last.phase === 'holding' && left !== null ? (
          <span className="last-answer__when" aria-hidden="true">
            {' '}
            · sends in {left} s
          </span>
        ) : null}
        {last.phase === 'stored' && last.undoable ? <span className="last-answer__when"> · the task waits for other raters</span> : null}
      </p>
      {canUndo ? (
        <Button variant="secondary" onClick={onUndo} aria-keyshortcuts="Z" data-testid="undo">
          Undo <kbd>Z</kbd>
        </Button>
      ) : null}
    </div>
  );
}

function useSecondsLeft(until: number | undefined): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === undefined) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 250);
    return () => window.clearInterval(timer);
  }, [until]);
  return until === undefined ? null : Math.max(0, Math.ceil((until - now) / 1000));
}

/** Nothing for this rater now; when the queue is not empty, why none of its tasks is theirs (the same figure as above, broken down). */
function CaughtUp({ slug, depth }: { slug: string; depth: number | null }) {
  const mine = useQuery({ ...raterQueueQuery(slug, depth), enabled: depth !== null && depth > 0 });
  const reasons = mine.data && mine.data.open > 0 ? whyNotYours(mine.data) : null;
  return (
    <section className="label-page__idle" data-testid="caught-up">
      <h2>You are all caught up</h2>
      <p>Nothing in this queue needs you right now. A new task appears here the moment one arrives.</p>
      {reasons ? (
        <p data-testid="why-not-yours">
          {mine.data!.open === 1 ? 'The 1 task in the queue is' : `The ${mine.data!.open} tasks in the queue are`} not for you now: {reasons}.
        </p>
      ) : null}
    </section>
  );
}

function whyNotYours(queue: RaterQueue): string {
  const count = (n: number, one: string, many: string) => (n === 1 ? `1 ${one}` : `${n} ${many}`);
  return [
    queue.heldByOthers
      ? count(queue.heldByOthers, 'is being labeled by another rater', 'are being labeled by other raters') +
        ' (a task comes back here if its rater lets it go)'
      : '',
    queue.answeredByYou ? count(queue.answeredByYou, 'has your answer and waits', 'have your answer and wait') + ' for other raters' : '',
    queue.skippedByYou ? count(queue.skippedByYou, 'was skipped by you', 'were skipped by you') : '',
    queue.heldByYou ? count(queue.heldByYou, 'is your last answer, on its way', 'are your answers, on their way') : '',
    queue.forYou ? count(queue.forYou, 'came free a moment ago and is on its way here', 'came free a moment ago and are on their way here') : '',
  ]
    .filter(Boolean)
    .join('; ');
}

function useLeaseCountdown(expiresAt: string | undefined): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!expiresAt) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, [expiresAt]);
  return expiresAt ? new Date(expiresAt).getTime() - now : null;
}

function ConnectionBanner({ status, unsent }: { status: string; unsent: number }) {
  if (status === 'connected' || status === 'refused') return null;
  return (
    <div className="connection-banner" role="status" data-testid="connection-banner">
      {status === 'connecting'
        ? 'Connecting…'
        : `Connection lost: reconnecting.${unsent ? ` ${unsent} ${unsent === 1 ? 'answer waits' : 'answers wait'} and will be sent again, with the same ids.` : ''}`}
    </div>
  );
}

function InstructionsPanel({ text, onClose }: { text: string; onClose: () => void }) {
  return (
    <aside className="instructions" aria-label="Instructions">
      <div className="instructions__head">
        <h2>Instructions</h2>
        <Button variant="secondary" onClick={onClose}>
          Close <kbd>Esc</kbd>
        </Button>
      </div>
      <div className="instructions__body">{text.trim() ? <Markdown>{text}</Markdown> : <p>This project has no instructions yet.</p>}</div>
    </aside>
  );
}

function SkipDialog({ onSkip, onCancel }: { onSkip: (request: SkipRequest) => void; onCancel: () => void }) {
  const [reason, setReason] = useState<SkipRequest['reason']>('skip');
  const [note, setNote] = useState('');
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const confirm = () => onSkip({ reason, ...(note.trim() ? { note: note.trim() } : {}) });
  return (
    <div className="dialog-backdrop">
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="skip-title"
        onSubmit={(event) => {
          event.preventDefault();
          confirm();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') onCancel();
        }}
      >
        <h2 id="skip-title">Skip this task</h2>
        <fieldset className="dialog__choices">
          <legend>Why?</legend>
          <label>
            <input ref={first} type="radio" name="reason" value="skip" checked={reason === 'skip'} onChange={() => setReason('skip')} /> I cannot tell: give it
            to someone else
          </label>
          <label>
            <input type="radio" name="reason" value="problem" checked={reason === 'problem'} onChange={() => setReason('problem')} /> Report a problem with this
            example (it goes to review)
          </label>
        </fieldset>
        <label className="dialog__note">
          Note (optional)
          <textarea value={note} onChange={(event) => setNote(event.target.value)} rows={2} maxLength={1000} />
        </label>
        <div className="dialog__actions">
          <Button type="submit">Skip</Button>
          <Button variant="secondary" onClick={onCancel}>
            Cancel <kbd>Esc</kbd>
          </Button>
        </div>
      </form>
    </div>
  );
}

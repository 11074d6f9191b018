import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Question, ReviewRequestBody, TaskPayload } from '@backflow/contracts';
import type { KeyPress, Reading } from '../components/questions/question-widget';
import { isLegacy, LEGACY_QUESTION, questionsOf, suggestionFor, widgetOf } from '../components/questions/registry';

/** How a task is answered: `{label}` for a project of one label question named "label" (as before questions), else answers by question name. */

export interface QuestionStatus {
  question: Question;
  reading: Reading;
  /** required and not answered yet */
  missing: boolean;
}

interface FormState {
  taskId: string | null;
  drafts: Record<string, unknown>;
  /** the question keys go to */
  active: number;
  /** a submit was tried while something was missing: say what */
  attempted: boolean;
}

/** Where drafts start: blank (a rater), or the raters' majority answer where there is a plain one (a reviewer). */
export type FormStart = 'blank' | 'majority';

const draftKey = (taskId: string) => `backflow:draft:${taskId}`;

/** The drafts a rater left on a task in this tab (a reload, an undo brings them back), if any. */
function keptDrafts(taskId: string): Record<string, unknown> | null {
  try {
    const raw = window.sessionStorage.getItem(draftKey(taskId));
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Keeps a task's drafts for this tab's life; storage refused (private mode, full) only loses the convenience. */
function keepDrafts(taskId: string, drafts: Record<string, unknown>): void {
  try {
    window.sessionStorage.setItem(draftKey(taskId), JSON.stringify(drafts));
  } catch {
    // nothing kept: a reload starts the task blank, as it did before
  }
}

/** Forgets a task's drafts: its answer is stored. */
export function forgetDrafts(taskId: string): void {
  try {
    window.sessionStorage.removeItem(draftKey(taskId));
  } catch {
    // nothing was kept
  }
}

function freshState(task: TaskPayload | null, questions: readonly Question[], start: FormStart): FormState {
  const drafts: Record<string, unknown> = {};
  // a rater's own drafts of this task, kept in this tab: the choice survives a reload
  const kept = task && start === 'blank' ? keptDrafts(task.id) : null;
  if (task) {
    const majority = start === 'majority' && !isLegacy(questions);
    for (const question of questions) {
      const widget = widgetOf(question);
      const suggestion = suggestionFor(task, question);
      const given = majority
        ? (task.review?.annotations ?? []).map((a) => a.answers[question.name]).filter((answer) => answer !== undefined && answer !== null)
        : [];
      // a question most raters left blank (an optional one) starts blank
      const agreed = 2 * given.length > (task.review?.annotations.length ?? 0) ? widget.majority(question, given) : undefined;
      drafts[question.name] = agreed === undefined ? widget.initial(question, suggestion) : widget.fromAnswer(question, agreed);
      if (kept && question.name in kept && readable(question, kept[question.name])) drafts[question.name] = kept[question.name];
    }
  }
  return { taskId: task?.id ?? null, drafts, active: 0, attempted: false };
}

/** A kept draft its widget can read (one from an older page, or edited by hand, is dropped). */
function readable(question: Question, draft: unknown): boolean {
  try {
    widgetOf(question).read(question, draft);
    return true;
  } catch {
    return false;
  }
}

/**
 * The answers to a task's questions as a rater (or reviewer) builds them: a draft per question,
 * the question keys go to, what is missing, and the body to send. Drafts start afresh with each task.
 */
export function useQuestionsForm(task: TaskPayload | null, start: FormStart = 'blank') {
  const questions = useMemo(() => (task ? questionsOf(task) : []), [task]);
  const legacy = isLegacy(questions);
  // the texts spans are marked in: their question shows them
  const shownFields = useMemo(() => questions.flatMap((q) => (q.kind === 'spans' ? [q.field] : [])), [questions]);
  const containerRef = useRef<HTMLDivElement>(null);
  const [stored, setState] = useState<FormState>(() => freshState(task, questions, start));
  let state = stored;
  if (stored.taskId !== (task?.id ?? null)) {
    // another task on screen: its drafts, before anything renders the last task's
    state = freshState(task, questions, start);
    setState(state);
  }
  const { drafts, active, attempted } = state;
  const taskId = state.taskId;
  // a rater's drafts are kept in the tab as they change (a reviewer's start from the raters' answers)
  useEffect(() => {
    if (taskId && start === 'blank') keepDrafts(taskId, drafts);
  }, [taskId, drafts, start]);
  // keys may come faster than renders: each reads the drafts the last one left
  const latest = useRef(state);
  latest.current = state;

  const statuses: QuestionStatus[] = questions.map((question) => {
    const reading = widgetOf(question).read(question, drafts[question.name]);
    return { question, reading, missing: question.required !== false && reading.status === 'blank' };
  });
  const unanswered = statuses.filter((s) => s.missing || s.reading.status === 'invalid');
  const complete = task !== null && unanswered.length === 0;

  const setDraft = useCallback(
    (name: string, draft: unknown) => {
      setState((current) => (current.taskId === taskId ? { ...current, drafts: { ...current.drafts, [name]: draft } } : current));
    },
    [taskId],
  );
  const setActive = useCallback((index: number) => setState((current) => (current.active === index ? current : { ...current, active: index })), []);

  /** Moves focus to a question: its text field where it has one, else the question itself. */
  const focusQuestion = useCallback(
    (index: number, options: { scroll?: boolean; field?: boolean } = {}) => {
      const block = containerRef.current?.querySelector<HTMLElement>(`[data-question-index="${index}"]`);
      if (!block) return;
      const target = (options.field !== false && block.querySelector<HTMLElement>('[data-focus-target]')) || block;
      target.focus({ preventScroll: options.scroll === false });
      setActive(index);
    },
    [setActive],
  );

  // a new task: the first question takes the keys (a single label question keeps today's page, nothing focused)
  useEffect(() => {
    if (taskId && !legacy) focusQuestion(0, { scroll: false });
  }, [taskId, legacy, focusQuestion]);

  /** A key for the question that has the keys: true when it meant something to it. */
  const press = (key: KeyPress): boolean => {
    const current = latest.current;
    const question = questions[current.active];
    if (!task || !question || current.taskId !== task.id) return false;
    const next = widgetOf(question).press?.(question, current.drafts[question.name], key, task.input);
    if (next === undefined) return false;
    latest.current = { ...current, drafts: { ...current.drafts, [question.name]: next } };
    setState(latest.current);
    return true;
  };

  /** True when every required question is answered and nothing typed is wrong; otherwise the missing ones are named on screen. */
  const attempt = (): boolean => {
    if (complete) return true;
    setState((current) => ({ ...current, attempted: true }));
    const first = statuses.findIndex((s) => s.missing || s.reading.status === 'invalid');
    if (first >= 0 && !legacy) focusQuestion(first);
    return false;
  };

  const body = (): ReviewRequestBody => {
    const answers: Record<string, unknown> = {};
    for (const { question, reading } of statuses) if (reading.status === 'answered') answers[question.name] = reading.answer;
    return legacy ? { label: answers[LEGACY_QUESTION] as string } : { answers };
  };

  return {
    task,
    questions,
    legacy,
    shownFields,
    statuses,
    unanswered,
    complete,
    drafts,
    active,
    attempted,
    containerRef,
    setDraft,
    setActive,
    focusQuestion,
    press,
    attempt,
    body,
  };
}

export type QuestionsFormState = ReturnType<typeof useQuestionsForm>;

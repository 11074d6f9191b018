import type { ComponentType } from 'react';
import type { Question } from '@backflow/contracts';

export type QuestionKind = Question['kind'];
export type QuestionOf<K extends QuestionKind> = Extract<Question, { kind: K }>;
export type TaskInputFields = Readonly<Record<string, unknown>>;

/** A marked span of a text field: offsets in Unicode code points, end exclusive. */
export interface Span {
  start: number;
  end: number;
  label: string;
}

/** A key as the questions read it: lowercased (`1`, `a`, `arrowleft`, `delete`), with Shift apart. */
export interface KeyPress {
  key: string;
  shift: boolean;
}

/** What a question's draft holds: nothing yet, an answer to send, or something typed that cannot be sent. */
export type Reading = { status: 'blank' } | { status: 'answered'; answer: unknown } | { status: 'invalid'; problem: string };

export const BLANK: Reading = { status: 'blank' };
export const answered = (answer: unknown): Reading => ({ status: 'answered', answer });

export interface WidgetProps<Q, D> {
  question: Q;
  draft: D;
  onChange: (draft: D) => void;
  /** keys go to this question */
  active: boolean;
  /** the only question of the task: its buttons are tab stops, as they always were */
  single: boolean;
  /** the model's output for the question, as the server checked it */
  suggestion: unknown;
  input: TaskInputFields;
}

export interface AnswerViewProps<Q> {
  question: Q;
  answer: unknown;
  input: TaskInputFields;
}

/**
 * One question kind on screen: its draft (what the rater has done so far), how keys change it,
 * what it answers, and how a given answer reads in the reviewer's table. Q is the question, D the draft.
 */
export interface QuestionWidget<Q, D> {
  /** the question's tab stop is a text field of its own (typing goes there) */
  readonly typed: boolean;
  /** what the keys do, in one line */
  keys(question: Q): string;
  /** the draft a task starts with: the model's text where the question pre-fills it */
  initial(question: Q, suggestion: unknown): D;
  /** a given answer as a draft: the reviewer's starting point */
  fromAnswer(question: Q, answer: unknown): D;
  read(question: Q, draft: D): Reading;
  /** a key on the question: the new draft, or undefined when the key means nothing to it */
  press?(question: Q, draft: D, key: KeyPress, input: TaskInputFields): D | undefined;
  /** the answer most raters gave, when one is plain; undefined otherwise */
  majority(question: Q, answers: unknown[]): unknown;
  readonly View: ComponentType<WidgetProps<Q, D>>;
  readonly AnswerView: ComponentType<AnswerViewProps<Q>>;
}

/** The key of an item: its hotkey, else 1–9 by position. */
export const keyOf = (item: { hotkey?: string }, index: number) => (item.hotkey ?? (index < 9 ? String(index + 1) : '')).toLowerCase();

/** The most given value when no other was given as often. */
export function plainMost<T>(values: readonly T[], keyOfValue: (value: T) => string = String): T | undefined {
  const counts = new Map<string, { value: T; count: number }>();
  for (const value of values) {
    const key = keyOfValue(value);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { value, count: 1 });
  }
  const ranked = [...counts.values()].sort((a, b) => b.count - a.count);
  if (ranked.length === 0 || (ranked.length > 1 && ranked[1].count === ranked[0].count)) return undefined;
  return ranked[0].value;
}

/** The lower median: an answer someone gave, never an average of two. */
export function lowerMedian(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A question's name as a heading: `tone_of_voice` reads "Tone of voice". */
export function questionTitle(name: string): string {
  const words = name.replaceAll('_', ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A number as a person reads it: no float noise. */
export const formatNumber = (value: number) => (Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6))));

import { useMemo, useRef, type CSSProperties, type ReactNode } from 'react';
import {
  answered,
  isRecord,
  keyOf,
  type AnswerViewProps,
  type QuestionOf,
  type QuestionWidget,
  type Span,
  type TaskInputFields,
  type WidgetProps,
} from './question-widget';

type SpansQuestion = QuestionOf<'spans'>;

/** Marked spans and a keyboard cursor over the field's text; positions count code points. */
export interface SpansDraft {
  /** in the order they were marked (Delete takes back the latest at the cursor) */
  spans: Span[];
  /** between two characters: 0 to the text's length */
  caret: number;
  /** the other end of a selection, when there is one */
  anchor: number | null;
  /** why the last key did nothing */
  notice: string | null;
}

// a label's colour follows its place in the question
const PALETTE = ['#0c6b66', '#c2661c', '#6a4fb8', '#b3261e', '#2a6cb0', '#5d7f1c', '#a0367a', '#52707e'];
const TRACK_PX = 4;

const WORD = /[\p{L}\p{N}\p{M}_]/u;
const SPACE = /\s/u;

/** The field's text as code points (what span offsets count), or null when the input has no such text. */
export function fieldChars(question: SpansQuestion, input: TaskInputFields): string[] | null {
  const text = input[question.field];
  return typeof text === 'string' ? Array.from(text) : null;
}

const spanKey = (span: Span) => `${span.start}:${span.end}:${span.label}`;
const colorOf = (question: SpansQuestion, label: string) =>
  PALETTE[
    Math.max(
      0,
      question.labels.findIndex((l) => l.name === label),
    ) % PALETTE.length
  ];

/** Spans in reading order: by start, then end, then the label's place in the question. */
export function sortSpans(question: SpansQuestion, spans: readonly Span[]): Span[] {
  const place = new Map(question.labels.map((l, i) => [l.name, i]));
  return [...spans].sort((a, b) => a.start - b.start || a.end - b.end || (place.get(a.label) ?? 0) - (place.get(b.label) ?? 0));
}

export const selectionOf = (draft: SpansDraft): [number, number] | null =>
  draft.anchor === null || draft.anchor === draft.caret ? null : [Math.min(draft.anchor, draft.caret), Math.max(draft.anchor, draft.caret)];

/** After the next word: past any spaces and punctuation, then past the word. */
function wordEnd(chars: readonly string[], from: number): number {
  let at = from;
  while (at < chars.length && !WORD.test(chars[at])) at++;
  while (at < chars.length && WORD.test(chars[at])) at++;
  return at;
}

/** Before the previous word: back over spaces and punctuation, then to the word's start. */
function wordStart(chars: readonly string[], from: number): number {
  let at = from;
  while (at > 0 && !WORD.test(chars[at - 1])) at--;
  while (at > 0 && WORD.test(chars[at - 1])) at--;
  return at;
}

/** The word the cursor stands in or touches. */
function wordAround(chars: readonly string[], at: number): [number, number] | null {
  let start = at;
  let end = at;
  while (start > 0 && WORD.test(chars[start - 1])) start--;
  while (end < chars.length && WORD.test(chars[end])) end++;
  return start < end ? [start, end] : null;
}

/** A selection without the spaces at its ends (a mouse takes them along easily). */
function trimmed(chars: readonly string[], [start, end]: [number, number]): [number, number] | null {
  let s = start;
  let e = end;
  while (s < e && SPACE.test(chars[s])) s++;
  while (e > s && SPACE.test(chars[e - 1])) e--;
  return s < e ? [s, e] : null;
}

function move(draft: SpansDraft, chars: readonly string[], to: number, extend: boolean): SpansDraft {
  const caret = Math.max(0, Math.min(chars.length, to));
  return { ...draft, caret, anchor: extend ? (draft.anchor ?? draft.caret) : null, notice: null };
}

/** Marks the selection (or else the word at the cursor) with a label. */
export function markSpan(question: SpansQuestion, draft: SpansDraft, chars: readonly string[], label: string): SpansDraft {
  const chosen = selectionOf(draft) ?? wordAround(chars, draft.caret);
  const range = chosen ? trimmed(chars, chosen) : null;
  if (!range) return { ...draft, notice: 'Select some text first: Shift with the arrow keys, or the mouse.' };
  const [start, end] = range;
  if (draft.spans.some((s) => s.start === start && s.end === end && s.label === label)) return { ...draft, notice: `That text is already marked ${label}.` };
  if (question.allowOverlap === false && draft.spans.some((s) => s.start < end && start < s.end))
    return { ...draft, notice: 'Spans may not overlap in this question: remove the one there first.' };
  return { spans: [...draft.spans, { start, end, label }], caret: end, anchor: null, notice: null };
}

/** Takes back the latest span under the cursor (or meeting the selection). */
export function removeAtCaret(draft: SpansDraft): SpansDraft {
  const [from, to] = selectionOf(draft) ?? [draft.caret, draft.caret];
  for (let i = draft.spans.length - 1; i >= 0; i--) {
    const span = draft.spans[i];
    if (span.start <= to && from <= span.end) return { ...draft, spans: draft.spans.filter((_, k) => k !== i), notice: null };
  }
  return { ...draft, notice: 'No span at the cursor to remove.' };
}

/** Each span's underline track: the lowest one no overlapping span already uses, so nested spans stack. */
function tracksOf(spans: readonly Span[]): number[] {
  const order = spans.map((_, i) => i).sort((a, b) => spans[a].start - spans[b].start || spans[b].end - spans[a].end);
  const tracks = new Array<number>(spans.length).fill(0);
  order.forEach((i, n) => {
    const taken = new Set(
      order
        .slice(0, n)
        .filter((k) => spans[k].start < spans[i].end && spans[i].start < spans[k].end)
        .map((k) => tracks[k]),
    );
    let track = 0;
    while (taken.has(track)) track++;
    tracks[i] = track;
  });
  return tracks;
}

/** Where a DOM selection point falls, in code points of the text, or null when outside it. */
function offsetAt(container: HTMLElement, node: Node | null, offset: number, length: number): number | null {
  if (!node || !container.contains(node)) return null;
  const startOf = (element: Element | null) => {
    const value = element?.closest('[data-start]')?.getAttribute('data-start');
    return value == null ? null : Number(value);
  };
  if (node.nodeType === Node.TEXT_NODE) {
    const start = startOf(node.parentElement);
    return start === null ? null : start + Array.from((node.textContent ?? '').slice(0, offset)).length;
  }
  if (node === container) {
    for (let i = offset; i < container.childNodes.length; i++) {
      const child = container.childNodes[i];
      if (child instanceof Element && child.hasAttribute('data-start')) return Number(child.getAttribute('data-start'));
    }
    return length;
  }
  const start = startOf(node as Element);
  if (start === null) return null;
  return offset === 0 ? start : start + Array.from(node.textContent ?? '').length;
}

function SpansQuestionView({ question, draft, onChange, active, suggestion, input }: WidgetProps<SpansQuestion, SpansDraft>) {
  const textRef = useRef<HTMLDivElement>(null);
  const chars = useMemo(() => fieldChars(question, input), [question, input]);
  const tracks = useMemo(() => tracksOf(draft.spans), [draft.spans]);
  if (chars === null)
    return (
      <p className="question__problem" role="alert">
        This example has no text field “{question.field}” to mark.
      </p>
    );
  const depth = Math.max(0, ...tracks.map((t) => t + 1));
  const selection = selectionOf(draft);
  const boundaries = [
    ...new Set(
      [0, chars.length, draft.caret, ...(selection ?? []), ...draft.spans.flatMap((s) => [s.start, s.end])].filter((b) => b >= 0 && b <= chars.length),
    ),
  ].sort((a, b) => a - b);

  const segments: ReactNode[] = [];
  const caret = <span key="caret" className="spans__caret" data-start={draft.caret} aria-hidden="true" data-testid="spans-caret" />;
  for (let i = 0; i + 1 < boundaries.length; i++) {
    const [start, end] = [boundaries[i], boundaries[i + 1]];
    if (start === draft.caret) segments.push(caret);
    const covering = draft.spans.map((span, index) => ({ span, track: tracks[index] })).filter(({ span }) => span.start <= start && end <= span.end);
    const selected = selection !== null && selection[0] <= start && end <= selection[1];
    let style: CSSProperties | undefined;
    if (covering.length > 0) {
      const top = covering.reduce((a, b) => (b.track < a.track ? b : a));
      style = {
        paddingBottom: `${depth * TRACK_PX}px`,
        backgroundColor: `${colorOf(question, top.span.label)}1f`,
        backgroundImage: covering.map(({ span }) => `linear-gradient(${colorOf(question, span.label)}, ${colorOf(question, span.label)})`).join(', '),
        backgroundSize: covering.map(() => '100% 3px').join(', '),
        backgroundPosition: covering.map(({ track }) => `0 calc(100% - ${track * TRACK_PX}px)`).join(', '),
        backgroundRepeat: 'no-repeat',
      };
    }
    segments.push(
      <span
        key={start}
        data-start={start}
        className={['spans__segment', selected ? 'spans__segment--selected' : ''].join(' ')}
        style={style}
        title={covering.length ? covering.map(({ span }) => span.label).join(', ') : undefined}
      >
        {chars.slice(start, end).join('')}
      </span>,
    );
  }
  if (draft.caret === chars.length) segments.push(caret);

  const select = () => {
    const container = textRef.current;
    const dom = window.getSelection();
    if (!container || !dom || dom.rangeCount === 0) return;
    const anchor = offsetAt(container, dom.anchorNode, dom.anchorOffset, chars.length);
    const focus = offsetAt(container, dom.focusNode, dom.focusOffset, chars.length);
    if (anchor === null || focus === null) return;
    dom.removeAllRanges();
    onChange({ ...draft, caret: focus, anchor: anchor === focus ? null : anchor, notice: null });
  };

  const modelSpans = isRecord(suggestion) && Array.isArray(suggestion.spans) ? (suggestion.spans as Span[]) : [];
  const excerpt = (span: Span) => chars.slice(span.start, span.end).join('');
  const listed = sortSpans(question, draft.spans);

  return (
    <div className="spans">
      <ul className="spans__legend" aria-label="Labels">
        {question.labels.map((label, index) => {
          const key = keyOf(label, index);
          return (
            <li key={label.name} title={label.description}>
              {key ? <kbd className="label-button__key">{key.toUpperCase()}</kbd> : null}
              <span className="spans__swatch" style={{ backgroundColor: colorOf(question, label.name) }} aria-hidden="true" />
              {label.name}
            </li>
          );
        })}
      </ul>
      <div
        ref={textRef}
        className={['spans__text', active ? 'spans__text--active' : ''].join(' ')}
        style={{ lineHeight: `calc(1.7em + ${depth * TRACK_PX}px)` }}
        onMouseUp={select}
        aria-label={`${question.field}: the text to mark`}
        data-testid="spans-text"
      >
        {segments}
      </div>
      <p className="question__hint" data-testid="spans-status">
        {selection ? `Selected ${selection[1] - selection[0]} characters: “${chars.slice(...selection).join('')}”` : `Cursor at character ${draft.caret}`}
      </p>
      {draft.notice ? (
        <p className="question__problem" role="status">
          {draft.notice}
        </p>
      ) : null}
      {listed.length ? (
        <ol className="spans__list" aria-label="Marked spans" data-testid="spans-list">
          {listed.map((span) => (
            <li key={`${span.start}:${span.end}:${span.label}`}>
              <span className="spans__swatch" style={{ backgroundColor: colorOf(question, span.label) }} aria-hidden="true" />
              <strong>{span.label}</strong> <q>{excerpt(span)}</q>{' '}
              <span className="answer-muted">
                {span.start}–{span.end}
              </span>
              <button
                type="button"
                className="link-button spans__remove"
                tabIndex={-1}
                aria-label={`Remove ${span.label} “${excerpt(span)}”`}
                onClick={() => onChange({ ...draft, spans: draft.spans.filter((s) => spanKey(s) !== spanKey(span)), notice: null })}
              >
                Remove
              </button>
            </li>
          ))}
        </ol>
      ) : (
        <p className="question__hint">No spans marked yet; none is an answer too.</p>
      )}
      {modelSpans.length > 0 && draft.spans.length === 0 ? (
        <button
          type="button"
          className="link-button"
          tabIndex={-1}
          onClick={() => onChange({ ...draft, spans: modelSpans.map(({ start, end, label }) => ({ start, end, label })), notice: null })}
        >
          Start from the model’s {modelSpans.length} {modelSpans.length === 1 ? 'span' : 'spans'}
        </button>
      ) : null}
    </div>
  );
}

function SpansAnswer({ question, answer, input }: AnswerViewProps<SpansQuestion>) {
  const chars = fieldChars(question, input) ?? [];
  const spans = Array.isArray(answer) ? (answer as Span[]) : [];
  if (spans.length === 0) return <span className="answer-none">none</span>;
  return (
    <ul className="answer-spans">
      {sortSpans(question, spans).map((span) => (
        <li key={`${span.start}:${span.end}:${span.label}`}>
          <span className="spans__swatch" style={{ backgroundColor: colorOf(question, span.label) }} aria-hidden="true" />
          {span.label} <q>{chars.slice(span.start, span.end).join('')}</q>
        </li>
      ))}
    </ul>
  );
}

export const spansWidget: QuestionWidget<SpansQuestion, SpansDraft> = {
  typed: false,
  keys: () => '← → move the cursor, ↑ ↓ by word, Shift selects; a label’s key marks the selection (or the word); Delete removes',
  initial: () => ({ spans: [], caret: 0, anchor: null, notice: null }),
  fromAnswer: (_question, answer) => ({
    spans: Array.isArray(answer) ? (answer as Span[]).map(({ start, end, label }) => ({ start, end, label })) : [],
    caret: 0,
    anchor: null,
    notice: null,
  }),
  // no span marked is an answer too: nothing in the text to mark
  read: (question, draft) => answered(sortSpans(question, draft.spans)),
  press(question, draft, { key, shift }, input) {
    const chars = fieldChars(question, input);
    if (chars === null) return undefined;
    const selection = selectionOf(draft);
    switch (key) {
      case 'arrowleft':
        return move(draft, chars, !shift && selection ? selection[0] : draft.caret - 1, shift);
      case 'arrowright':
        return move(draft, chars, !shift && selection ? selection[1] : draft.caret + 1, shift);
      case 'arrowup':
        return move(draft, chars, wordStart(chars, draft.caret), shift);
      case 'arrowdown':
        return move(draft, chars, wordEnd(chars, draft.caret), shift);
      case 'home':
        return move(draft, chars, 0, shift);
      case 'end':
        return move(draft, chars, chars.length, shift);
      case 'escape':
        return draft.anchor === null ? undefined : { ...draft, anchor: null, notice: null };
      case 'delete':
      case 'backspace':
        return removeAtCaret(draft);
    }
    const label = question.labels.find((l, index) => keyOf(l, index) === key);
    return label ? markSpan(question, draft, chars, label.name) : undefined;
  },
  /** the spans more than half the raters marked exactly so */
  majority(_question, answers) {
    const lists = answers.filter(Array.isArray) as Span[][];
    if (lists.length === 0) return undefined;
    const counts = new Map<string, { span: Span; n: number }>();
    for (const list of lists)
      for (const span of new Map(list.map((s) => [spanKey(s), s])).values()) {
        const entry = counts.get(spanKey(span));
        if (entry) entry.n++;
        else counts.set(spanKey(span), { span, n: 1 });
      }
    return [...counts.values()].filter(({ n }) => 2 * n > lists.length).map(({ span }) => span);
  },
  View: SpansQuestionView,
  AnswerView: SpansAnswer,
};

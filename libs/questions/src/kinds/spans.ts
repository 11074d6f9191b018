import { SpansQuestion, type ScoredSpan, type Span } from '../definitions';
import { fail, ok, type AnswerContext, type Checked, type QuestionKind } from '../kind';
import { codePointLength, isFiniteNumber, isObject } from '../shared';

export interface SpansSuggestion {
  spans: ScoredSpan[];
}

/** Spans in export order: by start, then end, then the label's place in the question. */
export function sortSpans(question: SpansQuestion, spans: Span[]): Span[] {
  const index = new Map(question.labels.map((l, i) => [l.name, i]));
  return [...spans].sort((a, b) => a.start - b.start || a.end - b.end || index.get(a.label)! - index.get(b.label)!);
}

/** The field's length in code points, or a reason it has none. */
function fieldLength(question: SpansQuestion, context: AnswerContext | undefined): number | string | undefined {
  if (!context?.input) return undefined;
  const text = context.input[question.field];
  if (typeof text !== 'string') return `the input has no text field "${question.field}" to mark spans in`;
  return codePointLength(text);
}

function checkSpans(question: SpansQuestion, raw: unknown, context: AnswerContext | undefined, scored: boolean): Checked<ScoredSpan[]> {
  if (!Array.isArray(raw)) return fail('a list of spans: [{"start", "end", "label"}] (offsets in code points of the field, end exclusive)');
  const known = new Set(question.labels.map((l) => l.name));
  const length = fieldLength(question, context);
  if (typeof length === 'string') return fail(length);
  const spans: ScoredSpan[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < raw.length; i++) {
    const s: unknown = raw[i];
    if (!isObject(s)) return fail('a span: {"start", "end", "label"}', i);
    for (const key of Object.keys(s)) if (!['start', 'end', 'label', ...(scored ? ['score'] : [])].includes(key)) return fail(`unknown key "${key}"`, i, key);
    if (!Number.isSafeInteger(s.start) || (s.start as number) < 0) return fail('a whole number, at least 0', i, 'start');
    if (!Number.isSafeInteger(s.end) || (s.end as number) <= (s.start as number)) return fail('a whole number greater than start', i, 'end');
    if (length !== undefined && (s.end as number) > length) return fail(`past the end of "${question.field}" (${length} characters)`, i, 'end');
    if (typeof s.label !== 'string' || !known.has(s.label)) return fail(`${JSON.stringify(s.label)} is not one of the question's labels`, i, 'label');
    if (s.score !== undefined && (!isFiniteNumber(s.score) || s.score < 0 || s.score > 1)) return fail('a probability in [0, 1]', i, 'score');
    const key = `${s.start as number}:${s.end as number}:${s.label}`;
    if (seen.has(key)) return fail('the same span is listed twice', i);
    seen.add(key);
    spans.push({ start: s.start as number, end: s.end as number, label: s.label, ...(s.score !== undefined ? { score: s.score } : {}) });
  }
  if (!question.allowOverlap) {
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i].start < sorted[i - 1].end) return fail(`spans overlap at ${sorted[i].start}; the question allows no overlap`, spans.indexOf(sorted[i]));
  }
  return ok(spans);
}

export const spansKind: QuestionKind<SpansQuestion, SpansSuggestion, Span[]> = {
  kind: 'spans',
  settings: SpansQuestion,
  suggestion(question, raw, context?: AnswerContext) {
    if (!isObject(raw)) return fail('expected an object: {"spans": [{"start", "end", "label", "score"?}]}');
    for (const key of Object.keys(raw)) if (key !== 'spans') return fail(`unknown key "${key}"`, key);
    const spans = checkSpans(question, raw.spans, context, true);
    return spans.ok ? ok({ spans: spans.value }) : fail(spans.issue.message, 'spans', ...spans.issue.path);
  },
  /** The least confident span decides (1 − its score); spans without scores, or none, are taken as certain. */
  uncertainty(question, s) {
    return 1 - spansKind.confidence(question, s);
  },
  confidence(_question, s) {
    const scores = s.spans.map((span) => span.score).filter((x): x is number => x !== undefined);
    return scores.length === 0 ? 1 : Math.min(...scores);
  },
  predicted(question, s) {
    return sortSpans(
      question,
      s.spans.map(({ start, end, label }) => ({ start, end, label })),
    );
  },
  answer(question, raw, context) {
    const spans = checkSpans(question, raw, context, false);
    return spans.ok ? ok(sortSpans(question, spans.value)) : spans;
  },
  /**
   * Character-level majority: each code point keeps a label when more than half the raters
   * marked it so; kept runs become the spans. The agreement is the share of the marked
   * (position, label) pairs a majority kept (1 when nobody marked anything).
   */
  consensus(question, answers, threshold) {
    const n = answers.length;
    if (n === 0) return { decided: false, agreement: 0 };
    const counts = new Map<string, Map<number, number>>();
    for (const answer of answers) {
      const marked = new Set<string>();
      for (const span of answer) for (let pos = span.start; pos < span.end; pos++) marked.add(`${pos}\u0000${span.label}`);
      for (const key of marked) {
        const [pos, label] = key.split('\u0000');
        let byPos = counts.get(label);
        if (!byPos) counts.set(label, (byPos = new Map<number, number>()));
        byPos.set(Number(pos), (byPos.get(Number(pos)) ?? 0) + 1);
      }
    }
    let marked = 0;
    let keptCount = 0;
    const spans: Span[] = [];
    for (const [label, byPos] of counts) {
      const kept = [...byPos].filter(([, c]) => 2 * c > n).map(([pos]) => pos);
      marked += byPos.size;
      keptCount += kept.length;
      kept.sort((a, b) => a - b);
      for (let i = 0; i < kept.length; i++) {
        const start = kept[i];
        while (i + 1 < kept.length && kept[i + 1] === kept[i] + 1) i++;
        spans.push({ start, end: kept[i] + 1, label });
      }
    }
    const agreement = marked === 0 ? 1 : keptCount / marked;
    return agreement >= threshold ? { decided: true, value: sortSpans(question, spans), agreement } : { decided: false, agreement };
  },
  agreement: () => ({ kind: 'span_f1' }),
  columns(question) {
    const index = new Map(question.labels.map((l, i) => [l.name, i]));
    const domain = { min: 0, max: question.labels.length - 1 };
    return [
      { name: `${question.name}_start`, type: 'int', list: true, values: (a) => a.map((s) => s.start) },
      { name: `${question.name}_end`, type: 'int', list: true, values: (a) => a.map((s) => s.end) },
      { name: `${question.name}_label`, type: 'int', list: true, domain, values: (a) => a.map((s) => index.get(s.label)!) },
    ];
  },
};

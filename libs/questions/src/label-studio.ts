import type { Answer, Answers, Question, QuestionKindName, ScoredSpan, Span } from './definitions';
import type { Issue } from './kind';
import { checkAnswers, checkSuggestions, confidenceOf, kindOf } from './questions';
import { isFiniteNumber, isObject } from './shared';

/**
 * Label Studio's side of each kind (labelstud.io/tags): the control tag a question becomes in
 * a labeling config, and an answer as the `result` items of an annotation or a prediction.
 * Label Studio counts text offsets in UTF-16 code units of the JavaScript string; Backflow's
 * spans count Unicode code points. Everything here converts one way and back.
 */

/** One item of a Label Studio annotation's or prediction's `result` list, as far as it is read and written here. */
export interface LabelStudioResult {
  id?: string;
  from_name?: string;
  to_name?: string;
  type: string;
  value?: Record<string, unknown>;
  score?: number;
}

/** The result type each kind reads and writes. */
export const LABEL_STUDIO_RESULT_TYPE: Readonly<Record<QuestionKindName, string>> = {
  label: 'choices',
  multi_label: 'choices',
  rating: 'rating',
  numeric: 'number',
  text: 'textarea',
  spans: 'labels',
  // Label Studio's Ranker sorts a list into buckets; Backflow does not map grades to it yet (`labelStudioRefusal`)
  ranking: 'ranker',
  // a conversation and its responses have no Label Studio object tag Backflow maps to yet (`labelStudioRefusal`)
  generation: 'textarea',
  preference: 'pairwise',
};

/** Why a project's questions have no Label Studio form, naming the question; undefined when every question has one. */
export function labelStudioRefusal(questions: readonly Question[]): { question: string; message: string } | undefined {
  const refused = questions.find((q) => q.kind === 'ranking' || q.kind === 'generation' || q.kind === 'preference');
  return (
    refused && {
      question: refused.name,
      message: `question "${refused.name}" is a ${refused.kind}, which Backflow does not exchange with Label Studio yet`,
    }
  );
}

const noForm = (question: Question): never => {
  throw new RangeError(labelStudioRefusal([question])?.message ?? `question "${question.name}" has no Label Studio form`);
};

/** Where a result's value sits, by kind: what a refusal names under `result.N`. */
const VALUE_PATH: Readonly<Record<QuestionKindName, string[]>> = {
  label: ['value', 'choices'],
  multi_label: ['value', 'choices'],
  rating: ['value', 'rating'],
  numeric: ['value', 'number'],
  text: ['value', 'text'],
  spans: ['value'],
  ranking: ['value', 'ranker'],
  generation: ['value', 'text'],
  preference: ['value', 'selected'],
};

/** The object tag shown to raters when no spans question names a field: Label Studio's `$text`. */
export const LABEL_STUDIO_INPUT = 'input';

// ---------------------------------------------------------------------------------------------
// offsets

/** The UTF-16 offset of a code point offset into `text` (past the end: the end). */
export function utf16Offset(text: string, codePoints: number): number {
  let unit = 0;
  for (let n = 0; n < codePoints && unit < text.length; n++) unit += isPairAt(text, unit) ? 2 : 1;
  return unit;
}

/** The code point offset of a UTF-16 offset into `text`; undefined when it falls between the two halves of a surrogate pair. */
export function codePointOffset(text: string, utf16: number): number | undefined {
  let n = 0;
  let unit = 0;
  while (unit < utf16 && unit < text.length) {
    unit += isPairAt(text, unit) ? 2 : 1;
    n++;
  }
  return unit === utf16 ? n : undefined;
}

function isPairAt(text: string, i: number): boolean {
  const high = text.charCodeAt(i);
  if (high < 0xd800 || high > 0xdbff || i + 1 >= text.length) return false;
  const low = text.charCodeAt(i + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}

// ---------------------------------------------------------------------------------------------
// labeling config

/** The object tags of a project's labeling config and which one each question points at. */
export interface ObjectTags {
  /** `<Text name value="$field">` tags, in order */
  texts: Array<{ name: string; field: string }>;
  toName: (question: Question) => string;
}

/**
 * One `<Text>` per field that spans point into (named after the field when it is a plain name no
 * question has), and the other questions pointed at the first of them; with no spans question,
 * one `<Text name="input" value="$text"/>`.
 */
export function objectTags(questions: readonly Question[]): ObjectTags {
  const taken = new Set(questions.map((q) => q.name));
  const byField = new Map<string, string>();
  for (const question of questions) {
    if (question.kind !== 'spans' || byField.has(question.field)) continue;
    let name = /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(question.field) ? question.field : `text_${byField.size + 1}`;
    while (taken.has(name)) name = `${name}_text`;
    taken.add(name);
    byField.set(question.field, name);
  }
  const texts = byField.size ? [...byField].map(([field, name]) => ({ name, field })) : [{ name: LABEL_STUDIO_INPUT, field: 'text' }];
  return { texts, toName: (question) => (question.kind === 'spans' ? byField.get(question.field)! : texts[0].name) };
}

const attribute = (value: string | number) =>
  String(value).replace(/[&<>"\n\r\t]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' })[c]!);

const attributes = (pairs: Array<[string, string | number | undefined]>) =>
  pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${attribute(v!)}"`)
    .join('');

const optionTags = (tag: 'Choice' | 'Label', labels: ReadonlyArray<{ name: string; hotkey?: string; description?: string }>) =>
  labels.map(
    (l) =>
      `    <${tag}${attributes([
        ['value', l.name],
        ['hotkey', l.hotkey],
        ['hint', l.description],
      ])}/>`,
  );

/** The control tag of a question (and its options), as lines of a labeling config. */
function controlTag(question: Question, toName: string): string[] {
  const named: Array<[string, string | number | undefined]> = [
    ['name', question.name],
    ['toName', toName],
  ];
  // a label set or a span list may be empty: Label Studio's `required` would refuse that
  const required: Array<[string, string | undefined]> = [['required', question.required ? 'true' : undefined]];
  switch (question.kind) {
    case 'label':
      return [`  <Choices${attributes([...named, ['choice', 'single'], ...required])}>`, ...optionTags('Choice', question.labels), '  </Choices>'];
    case 'multi_label':
      return [`  <Choices${attributes([...named, ['choice', 'multiple']])}>`, ...optionTags('Choice', question.labels), '  </Choices>'];
    case 'rating':
      // Label Studio's rating is a count of stars: star k is the scale's k-th point
      return [`  <Rating${attributes([...named, ['maxRating', question.points.length], ...required])}/>`];
    case 'numeric':
      return [`  <Number${attributes([...named, ['min', question.min], ['max', question.max], ['step', question.integer ? 1 : 'any'], ...required])}/>`];
    case 'text':
      return [`  <TextArea${attributes([...named, ['maxSubmissions', 1], ['editable', 'true'], ...required])}/>`];
    case 'spans':
      return [`  <Labels${attributes(named)}>`, ...optionTags('Label', question.labels), '  </Labels>'];
    case 'ranking':
    case 'generation':
    case 'preference':
      return noForm(question);
  }
}

/** A Label Studio labeling config (XML) that asks a project's questions, in order, each named after its question. */
export function labelStudioConfig(questions: readonly Question[]): string {
  const tags = objectTags(questions);
  const lines = ['<View>'];
  const shown = new Set<string>();
  const show = (name: string) => {
    const text = tags.texts.find((t) => t.name === name);
    if (!text || shown.has(name)) return;
    shown.add(name);
    lines.push(
      `  <Text${attributes([
        ['name', text.name],
        ['value', `$${text.field}`],
      ])}/>`,
    );
  };
  // Label Studio's own templates put the text first, then its controls; a spans field comes after its labels
  if (!questions.some((q) => q.kind === 'spans')) show(tags.texts[0].name);
  for (const question of questions) {
    lines.push(...controlTag(question, tags.toName(question)));
    if (question.kind === 'spans') show(tags.toName(question));
  }
  lines.push('</View>');
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Backflow → Label Studio

/** The text a spans question points into, when the item has it. */
const fieldText = (question: Question, input: Readonly<Record<string, unknown>>) =>
  question.kind === 'spans' && typeof input[question.field] === 'string' ? (input[question.field] as string) : undefined;

/** Options of a conversion to results: the item's input, and whether a span's text may be written (its field is not masked). */
export interface ResultContext {
  input: Readonly<Record<string, unknown>>;
  tags: ObjectTags;
  /** a span's `text` is written only when its field is shown (not a masked field left out) */
  showsField?: (field: string) => boolean;
}

function spanResults(question: Question & { kind: 'spans' }, spans: readonly ScoredSpan[], context: ResultContext): LabelStudioResult[] {
  const text = fieldText(question, context.input) ?? '';
  const shown = context.showsField?.(question.field) ?? true;
  return spans.map((span, k) => {
    const start = utf16Offset(text, span.start);
    const end = utf16Offset(text, span.end);
    return {
      id: `${question.name}-${k}`,
      from_name: question.name,
      to_name: context.tags.toName(question),
      type: 'labels',
      value: { start, end, ...(shown ? { text: text.slice(start, end) } : {}), labels: [span.label] },
      ...(span.score !== undefined ? { score: span.score } : {}),
    };
  });
}

/** One question's answer as the result items Label Studio writes for it (none for an empty span list). */
export function answerResults(question: Question, answer: Answer, context: ResultContext): LabelStudioResult[] {
  const item = (value: Record<string, unknown>): LabelStudioResult[] => [
    { id: question.name, from_name: question.name, to_name: context.tags.toName(question), type: LABEL_STUDIO_RESULT_TYPE[question.kind], value },
  ];
  switch (question.kind) {
    case 'label':
      return item({ choices: [answer as string] });
    case 'multi_label':
      return item({ choices: answer });
    case 'rating':
      return item({ rating: question.points.findIndex((p) => p.value === answer) + 1 });
    case 'numeric':
      return item({ number: answer });
    case 'text':
      return item({ text: [answer as string] });
    case 'spans':
      return spanResults(question, answer as Span[], context);
    case 'ranking':
    case 'generation':
    case 'preference':
      return noForm(question);
  }
}

/** Every answered question's result items, in question order. */
export function answersResults(questions: readonly Question[], answers: Readonly<Answers>, context: ResultContext): LabelStudioResult[] {
  return questions.flatMap((q) => (answers[q.name] === undefined || answers[q.name] === null ? [] : answerResults(q, answers[q.name], context)));
}

/**
 * The model's output for a question as result items, each with its confidence as `score`: what
 * it predicts (a label, the labels at or above ½, the nearest point of a scale, its value, its
 * text, its spans with their own scores). Label Studio keeps no scores, spread or interval: the
 * full output travels beside it (the task's `meta`).
 */
export function suggestionResults(question: Question, suggestion: unknown, context: ResultContext): LabelStudioResult[] {
  if (question.kind === 'spans') return spanResults(question, (suggestion as { spans: ScoredSpan[] }).spans, context);
  const predicted = kindOf(question).predicted(question, suggestion) as Answer;
  return answerResults(question, predicted, context).map((r) => ({ ...r, score: confidenceOf(question, suggestion) }));
}

// ---------------------------------------------------------------------------------------------
// Label Studio → Backflow

/** What is wrong with a result list: the result (its index; none for the list as a whole) and the path under it. */
export interface ResultIssue {
  result?: number;
  path: Array<string | number>;
  message: string;
  /** unsupported: a result no question of the project takes; invalid: a value its question refuses */
  reason: 'unsupported' | 'invalid';
}

export type ReadResults<T> = { ok: true; value: T } | { ok: false; issue: ResultIssue };

const refuse = (reason: ResultIssue['reason'], result: number | undefined, path: Array<string | number>, message: string): ReadResults<never> => ({
  ok: false,
  issue: { ...(result === undefined ? {} : { result }), path, message, reason },
});

/** Where a value read from the results came from: a result, and for a span its place among the region's labels. */
interface Origin {
  result: number;
  label?: number;
}

/** The raw values read from a result list, by question, with where each came from (for refusals). */
interface RawValues {
  values: Record<string, unknown>;
  origins: Map<string, Origin[]>;
  scores: Map<string, number>;
}

/** The results of one list, grouped by the question each names, with the checks that need no kind. */
function groupResults(questions: readonly Question[], results: readonly LabelStudioResult[]): ReadResults<Map<string, number[]>> {
  const byName = new Map(questions.map((q) => [q.name, q]));
  const grouped = new Map<string, number[]>();
  for (let j = 0; j < results.length; j++) {
    const result = results[j];
    const named = result.from_name ? ` (from_name "${result.from_name}")` : '';
    const question = result.from_name === undefined ? undefined : byName.get(result.from_name);
    if (!question)
      return refuse(
        'unsupported',
        j,
        ['from_name'],
        `a ${result.type} result${named} answers none of the project's questions (${[...byName.keys()].join(', ')})`,
      );
    const type = LABEL_STUDIO_RESULT_TYPE[question.kind];
    if (result.type !== type)
      return refuse(
        'unsupported',
        j,
        ['type'],
        `a ${result.type} result${named}: question "${question.name}" is ${question.kind}, answered by ${type} results`,
      );
    if (!isObject(result.value)) return refuse('invalid', j, ['value'], `a ${type} result holds a value`);
    const seen = grouped.get(question.name);
    if (seen && question.kind !== 'spans') return refuse('unsupported', j, [], `a second ${type} result${named}: one answer per question`);
    grouped.set(question.name, [...(seen ?? []), j]);
  }
  return { ok: true, value: grouped };
}

/** One result's value as its question's raw answer; undefined when it answers nothing (no choice made). */
function rawValue(question: Question, result: LabelStudioResult, j: number): ReadResults<unknown> {
  const value = result.value!;
  switch (question.kind) {
    case 'label':
    case 'multi_label': {
      const choices = value.choices;
      if (!Array.isArray(choices)) return refuse('invalid', j, ['value', 'choices'], 'a list of choices');
      if (question.kind === 'multi_label') return { ok: true, value: choices };
      if (choices.length > 1)
        return refuse(
          'invalid',
          j,
          ['value', 'choices'],
          `${choices.length} choices ${JSON.stringify(choices).slice(0, 200)}: question "${question.name}" takes one label (a multi_label question takes several)`,
        );
      return { ok: true, value: choices[0] };
    }
    case 'rating': {
      const stars = value.rating;
      const n = question.points.length;
      if (!Number.isSafeInteger(stars) || (stars as number) < 1 || (stars as number) > n)
        return refuse(
          'invalid',
          j,
          ['value', 'rating'],
          `${JSON.stringify(stars)}: a star count from 1 to ${n}, star k being the scale's k-th point (${question.points.map((p) => p.value).join(', ')})`,
        );
      return { ok: true, value: question.points[(stars as number) - 1].value };
    }
    case 'numeric':
      return { ok: true, value: value.number };
    case 'text': {
      const text = value.text;
      // a text area may hold several submissions: they are the answer's lines
      if (Array.isArray(text) && text.every((t) => typeof t === 'string')) return { ok: true, value: text.length ? text.join('\n') : undefined };
      return { ok: true, value: text };
    }
    case 'spans':
      throw new Error('spans are read region by region');
    case 'ranking':
    case 'generation':
    case 'preference':
      return noForm(question);
  }
}

/** A region's spans in code points of the field's text, one per label it carries. */
function regionSpans(
  question: Question & { kind: 'spans' },
  result: LabelStudioResult,
  j: number,
  input: Readonly<Record<string, unknown>>,
): ReadResults<Span[]> {
  const text = fieldText(question, input);
  if (text === undefined)
    return refuse('invalid', j, ['to_name'], `the task's data has no text field "${question.field}" for the spans of question "${question.name}"`);
  const { start, end, labels } = result.value!;
  if (!Number.isSafeInteger(start) || (start as number) < 0) return refuse('invalid', j, ['value', 'start'], 'a whole number, at least 0');
  if (!Number.isSafeInteger(end) || (end as number) <= (start as number) || (end as number) > text.length)
    return refuse('invalid', j, ['value', 'end'], `a whole number greater than start, at most the text's length (${text.length} UTF-16 code units)`);
  const from = codePointOffset(text, start as number);
  const to = codePointOffset(text, end as number);
  if (from === undefined) return refuse('invalid', j, ['value', 'start'], 'it falls inside a character (between the halves of a UTF-16 surrogate pair)');
  if (to === undefined) return refuse('invalid', j, ['value', 'end'], 'it falls inside a character (between the halves of a UTF-16 surrogate pair)');
  const written = result.value!.text;
  const between = text.slice(start as number, end as number);
  if (written !== undefined && written !== between)
    return refuse(
      'invalid',
      j,
      ['value', 'text'],
      `${JSON.stringify(written).slice(0, 100)} is not the text between start and end (${JSON.stringify(between).slice(0, 100)}); Label Studio counts offsets in UTF-16 code units`,
    );
  if (!Array.isArray(labels) || labels.length === 0) return refuse('invalid', j, ['value', 'labels'], 'a region carries at least one label');
  return { ok: true, value: labels.map((label) => ({ start: from, end: to, label: label as string })) };
}

/** The raw values of a result list, question by question, without the kinds' own checks. */
function readValues(questions: readonly Question[], results: readonly LabelStudioResult[], input: Readonly<Record<string, unknown>>): ReadResults<RawValues> {
  const grouped = groupResults(questions, results);
  if (!grouped.ok) return grouped;
  const raw: RawValues = { values: {}, origins: new Map(), scores: new Map() };
  for (const question of questions) {
    const indexes = grouped.value.get(question.name);
    if (!indexes) continue;
    const score = results[indexes[0]].score;
    if (isFiniteNumber(score)) raw.scores.set(question.name, score);
    if (question.kind === 'spans') {
      const spans: ScoredSpan[] = [];
      const origins: Origin[] = [];
      for (const j of indexes) {
        const read = regionSpans(question, results[j], j, input);
        if (!read.ok) return read;
        const regionScore = results[j].score;
        read.value.forEach((span, label) => {
          spans.push({ ...span, ...(isFiniteNumber(regionScore) ? { score: regionScore } : {}) });
          origins.push({ result: j, label });
        });
      }
      raw.values[question.name] = spans;
      raw.origins.set(question.name, origins);
      continue;
    }
    const read = rawValue(question, results[indexes[0]], indexes[0]);
    if (!read.ok) return read;
    if (read.value === undefined) continue;
    raw.values[question.name] = read.value;
    raw.origins.set(question.name, [{ result: indexes[0] }]);
  }
  return { ok: true, value: raw };
}

/** A kind's refusal (its path starts with the question's name) as the result and the path under it it is about. */
function locate(questions: readonly Question[], raw: RawValues, issue: Issue, suggestion: boolean): ResultIssue {
  const [name, ...rest] = issue.path;
  const question = questions.find((q) => q.name === name);
  const origins = raw.origins.get(String(name));
  if (!question || !origins) return { path: [], message: name === undefined ? issue.message : `question "${name}": ${issue.message}`, reason: 'invalid' };
  // a suggestion's path starts with its own key (value, spans, confidence): the result's value stands for it
  const under = suggestion ? rest.slice(question.kind === 'spans' || rest[0] === 'value' ? 1 : 0) : rest;
  if (suggestion && rest[0] === 'confidence') return { result: origins[0].result, path: ['score'], message: issue.message, reason: 'invalid' };
  if (question.kind === 'spans') {
    const [index, key] = under;
    const origin = typeof index === 'number' ? origins[index] : undefined;
    if (!origin) return { result: origins[0].result, path: ['value'], message: issue.message, reason: 'invalid' };
    const path =
      key === 'start' || key === 'end' ? ['value', key] : key === 'label' ? ['value', 'labels', origin.label ?? 0] : key === 'score' ? ['score'] : ['value'];
    return { result: origin.result, path, message: issue.message, reason: 'invalid' };
  }
  const path = [...VALUE_PATH[question.kind], ...(question.kind === 'label' ? [0] : question.kind === 'multi_label' ? under : [])];
  return { result: origins[0].result, path, message: issue.message, reason: 'invalid' };
}

/**
 * A rater's answers from an annotation's results, matched to the project's questions by
 * `from_name`, each read by its result type and checked by its kind (`checkAnswers`, with the
 * item's input for spans). A required multi-label or spans question with no result is answered
 * with nothing chosen (Label Studio writes no result for an empty choice or no region).
 * Undefined when the results answer nothing at all.
 */
export function answersFromResults(
  questions: readonly Question[],
  results: readonly LabelStudioResult[],
  input: Readonly<Record<string, unknown>>,
): ReadResults<Answers | undefined> {
  const raw = readValues(questions, results, input);
  if (!raw.ok) return raw;
  if (Object.keys(raw.value.values).length === 0) return { ok: true, value: undefined };
  const values = { ...raw.value.values };
  for (const q of questions) if (values[q.name] === undefined && q.required && (q.kind === 'multi_label' || q.kind === 'spans')) values[q.name] = [];
  // a span list's score is the model's: an answer carries none
  for (const q of questions)
    if (q.kind === 'spans' && Array.isArray(values[q.name])) values[q.name] = (values[q.name] as ScoredSpan[]).map(({ score: _, ...s }) => s);
  const checked = checkAnswers(questions, values, { input });
  if (!checked.ok) return { ok: false, issue: locate(questions, raw.value, checked.issue, false) };
  return { ok: true, value: checked.value };
}

/**
 * The model's output from a prediction's results, by question, each checked by its kind: a
 * label, labels, a scale's point, a value, a text (its result's score as confidence), spans
 * (each region's score). `scores` holds each result's own score, by question.
 */
export function suggestionsFromResults(
  questions: readonly Question[],
  results: readonly LabelStudioResult[],
  input: Readonly<Record<string, unknown>>,
): ReadResults<{ suggestions: Record<string, unknown>; scores: Map<string, number> }> {
  const raw = readValues(questions, results, input);
  if (!raw.ok) return raw;
  const suggestions: Record<string, unknown> = {};
  for (const question of questions) {
    const value = raw.value.values[question.name];
    if (value === undefined) continue;
    const score = raw.value.scores.get(question.name);
    if (question.kind === 'spans') suggestions[question.name] = { spans: value };
    else if (question.kind === 'text' && score !== undefined && score >= 0 && score <= 1) suggestions[question.name] = { value, confidence: score };
    else suggestions[question.name] = { value };
  }
  const checked = checkSuggestions(questions, suggestions, { input });
  if (!checked.ok) return { ok: false, issue: locate(questions, raw.value, checked.issue, true) };
  return { ok: true, value: { suggestions: checked.value, scores: raw.value.scores } };
}

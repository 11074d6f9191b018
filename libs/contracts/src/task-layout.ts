import { z } from 'zod';

/**
 * How a task's input is laid out for raters: the fields in the order they are read, and the one
 * that is the text to read (shown large, in its place). Every other field is a row, whatever the
 * length of its value in a given task, so a field never moves between tasks.
 */
export const TaskLayout = z
  .strictObject({
    fields: z
      .array(z.string().min(1).max(128))
      .max(512)
      .refine((fields) => new Set(fields).size === fields.length, 'a field is listed once')
      .describe('input fields in the order raters read them; fields not listed follow, in the default order'),
    primary: z.string().min(1).max(128).nullable().describe('the field shown as the text to read, large and in its place; null: none, every field is a row'),
  })
  .meta({ id: 'TaskLayout' });
export type TaskLayout = z.infer<typeof TaskLayout>;

/** How long the rater UI holds an answer before it sends it, so Undo can take it back (a project's `labeling.undoSeconds`, when unset). */
export const DEFAULT_UNDO_SECONDS = 5;

// a name's words: `email_body` → email, body; `reviewText` → review, text
const wordsOf = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

// names that say "the text to read", best first; then names that say "its heading"
const TEXT_WORDS = [
  'text',
  'body',
  'content',
  'message',
  'document',
  'article',
  'review',
  'comment',
  'description',
  'transcript',
  'prompt',
  'query',
  'question',
  'caption',
  'summary',
];
const HEADING_WORDS = ['subject', 'title', 'headline', 'heading', 'name'];

/** The best rank of a name's words in a list (Infinity: none of them in it). */
function rank(name: string, list: readonly string[]): number {
  const ranks = wordsOf(name)
    .map((word) => list.indexOf(word))
    .filter((index) => index >= 0);
  return ranks.length ? Math.min(...ranks) : Infinity;
}

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The field a project without a layout reads as its text, by name only (never by this task's
 * values, which change from task to task): the best text-like name (text, body, content,
 * message…), else the best heading-like one (subject, title…), else none.
 */
export function defaultPrimaryField(fields: readonly string[]): string | null {
  for (const list of [TEXT_WORDS, HEADING_WORDS]) {
    const ranked = fields.map((field) => ({ field, rank: rank(field, list) })).filter((f) => f.rank < Infinity);
    if (ranked.length) return ranked.sort((a, b) => a.rank - b.rank || byName(a.field, b.field))[0].field;
  }
  return null;
}

/** The default order: heading-like fields (subject, title…), then the text, then the rest by name. */
export function defaultFieldOrder(fields: readonly string[], primary: string | null): string[] {
  const headings = fields
    .filter((f) => f !== primary && rank(f, HEADING_WORDS) < Infinity)
    .sort((a, b) => rank(a, HEADING_WORDS) - rank(b, HEADING_WORDS) || byName(a, b));
  const rest = fields.filter((f) => f !== primary && !headings.includes(f)).sort(byName);
  return [...headings, ...(primary !== null && fields.includes(primary) ? [primary] : []), ...rest];
}

export interface ArrangedFields {
  /** rows above the text */
  before: string[];
  /** the text to read; null when the project names none or this task lacks it */
  primary: string | null;
  /** rows below it */
  after: string[];
}

/**
 * Where each of a task's fields goes: the project's layout when it has one (its listed fields
 * first, in its order; the others after, in the default order), else the default. Decided by the
 * fields' names and the layout alone, so the same fields land in the same places in every task.
 */
export function arrangeFields(fields: readonly string[], layout?: TaskLayout | null): ArrangedFields {
  const primary = layout ? layout.primary : defaultPrimaryField(fields);
  const listed = layout ? layout.fields.filter((f) => fields.includes(f)) : [];
  const order = [...listed, ...defaultFieldOrder(fields, primary).filter((f) => !listed.includes(f))];
  const at = primary === null ? -1 : order.indexOf(primary);
  if (at < 0) return { before: order, primary: null, after: [] };
  return { before: order.slice(0, at), primary, after: order.slice(at + 1) };
}

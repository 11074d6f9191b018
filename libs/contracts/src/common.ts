import { z } from 'zod';

export const ErrorBody = z
  .object({
    code: z.string().describe('stable, namespaced: e.g. validation/invalid, auth/forbidden'),
    message: z.string(),
    field: z.string().optional().describe('the request field at fault, dotted: labels.0.name'),
    requestId: z.string(),
    details: z.record(z.string(), z.unknown()).optional().describe('what the code needs said more precisely: e.g. the largest batch taken, as limit'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, starting with a letter or digit, at most 63');
export const Uuid = z.uuid();
export const Email = z
  .email()
  .max(320)
  .transform((email) => email.toLowerCase());

/** The deepest nesting a free-form JSON value (metadata, a body) may have: readers that recurse stay far from their stack's end. */
export const MAX_JSON_DEPTH = 32;

/** Whether a JSON value nests deeper than `maxDepth` (the value itself is depth 0), found without recursion. */
export function exceedsJsonDepth(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return true;
    for (const item of Array.isArray(current) ? current : Object.values(current)) if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
  }
  return false;
}

/** Whether an ISO timestamp names an instant within the years 1 to 9999 (UTC): what PostgreSQL and JavaScript both hold exactly. */
export function isStorableInstant(iso: string): boolean {
  // (years 0002 to 9998 stay in range whatever the offset: only the edges need the instant)
  const written = iso.slice(0, 4);
  if (written > '0001' && written < '9999' && iso[4] === '-') return true;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

export const DATE_OUT_OF_RANGE = 'validation/date_out_of_range';

/** An ISO 8601 timestamp with its offset, within the years 1 to 9999 once in UTC. */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .refine(isStorableInstant, { message: 'a date between the years 0001 and 9999 (UTC)', params: { code: DATE_OUT_OF_RANGE } });

/**
 * A `superRefine` that refuses a list item whose key an earlier item has, at the later one
 * (`at`: where in the item its key sits, for the issue's path).
 */
export const eachOnce =
  <T>(keyOf: (item: T) => string, message: (key: string) => string, at: ReadonlyArray<string | number> = []) =>
  (items: readonly T[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: message(key), path: [index, ...at] });
      seen.add(key);
    });
  };

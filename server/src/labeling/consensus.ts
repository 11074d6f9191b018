/**
 * Removes masked fields from an input, without touching the original. A field is the input's own
 * key, dots included (an input is flat: `user.phone` is a key of it), or else a dotted path into
 * a nested value.
 */
export function maskInput(input: Record<string, unknown>, maskedFields: readonly string[]): Record<string, unknown> {
  if (maskedFields.length === 0) return input;
  const masked = structuredClone(input);
  for (const field of maskedFields) {
    if (Object.hasOwn(masked, field)) {
      delete masked[field];
      continue;
    }
    const path = field.split('.');
    let node: unknown = masked;
    for (const key of path.slice(0, -1)) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node !== null && typeof node === 'object') delete (node as Record<string, unknown>)[path[path.length - 1]];
  }
  return masked;
}

/** The label with the highest score (the first of equals). */
export function topLabel(scores: Readonly<Record<string, number>>): string {
  let best = '';
  for (const [label, score] of Object.entries(scores)) if (best === '' || score > scores[best]) best = label;
  return best;
}

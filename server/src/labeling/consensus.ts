/** Where a task stands once it has all the answers it asked for. */
export type ConsensusOutcome =
  | { kind: 'agreed'; label: string; agreement: number }
  /** ask one more rater */
  | { kind: 'escalate'; agreement: number }
  /** a reviewer decides */
  | { kind: 'review'; agreement: number };

export interface ConsensusRules {
  /** the share the majority label needs */
  agreementThreshold: number;
  /** the most answers a task may collect before review */
  maxAnnotations: number;
}

/**
 * Majority vote with its agreement ratio (majority count / answers). A tie has no majority.
 * Below the threshold, or tied, the task gets one more rater while it may, then review.
 */
export function decideConsensus(labels: readonly string[], rules: ConsensusRules): ConsensusOutcome {
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const [top, second] = ranked;
  const agreement = top ? top[1] / labels.length : 0;
  const tied = second !== undefined && second[1] === top[1];
  if (top && !tied && agreement >= rules.agreementThreshold) return { kind: 'agreed', label: top[0], agreement };
  return labels.length < rules.maxAnnotations ? { kind: 'escalate', agreement } : { kind: 'review', agreement };
}

/** Removes masked fields (`name` or a dotted `path.to.field`) from an input, without touching the original. */
export function maskInput(input: Record<string, unknown>, maskedFields: readonly string[]): Record<string, unknown> {
  if (maskedFields.length === 0) return input;
  const masked = structuredClone(input);
  for (const field of maskedFields) {
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

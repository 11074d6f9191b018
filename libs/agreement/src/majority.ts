export interface MajorityVote {
  /** The most frequent label; undefined when no labels or a tie at the top. */
  label: string | undefined;
  /** The share of the labels that the most frequent one has. */
  share: number;
  tied: boolean;
}

/** Majority vote over one item's labels; a tie at the top decides nothing. */
export function majorityVote(labels: readonly string[]): MajorityVote {
  if (labels.length === 0) return { label: undefined, share: 0, tied: false };
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  let tied = false;
  for (const [label, count] of counts) {
    if (count > bestCount) {
      best = label;
      bestCount = count;
      tied = false;
    } else if (count === bestCount) tied = true;
  }
  return { label: tied ? undefined : best, share: bestCount / labels.length, tied };
}

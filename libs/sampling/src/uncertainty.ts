export const UNCERTAINTY_STRATEGIES = ['least_confidence', 'margin', 'entropy'] as const;
export type UncertaintyStrategy = (typeof UNCERTAINTY_STRATEGIES)[number];

/** Class probabilities, as an array or by label. */
export type Scores = readonly number[] | Readonly<Record<string, number>>;

function probabilities(scores: Scores): number[] {
  const values: number[] = Array.isArray(scores) ? [...(scores as readonly number[])] : Object.values(scores);
  return values.map((p) => (Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0));
}

/** 1 − max p: 0 for a certain model, 1 − 1/K at the uniform distribution. */
export function leastConfidence(scores: Scores): number {
  const p = probabilities(scores);
  if (p.length === 0) return 0;
  return 1 - Math.max(...p);
}

/** 1 − (p₁ − p₂) over the two most likely classes: 1 when they tie. */
export function margin(scores: Scores): number {
  let first = 0;
  let second = 0;
  for (const p of probabilities(scores)) {
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) {
      second = p;
    }
  }
  return 1 - (first - second);
}

/** Shannon entropy normalised by log K, in [0, 1]; p = 0 terms contribute 0 (the limit of p log p). */
export function entropy(scores: Scores): number {
  const p = probabilities(scores);
  if (p.length < 2) return 0;
  let h = 0;
  for (const q of p) if (q > 0) h -= q * Math.log(q);
  return Math.min(1, Math.max(0, h / Math.log(p.length)));
}

export function uncertainty(strategy: UncertaintyStrategy, scores: Scores): number {
  switch (strategy) {
    case 'least_confidence':
      return leastConfidence(scores);
    case 'margin':
      return margin(scores);
    case 'entropy':
      return entropy(scores);
  }
}

/** A committee's class scores, one distribution per member over the same labels (by label). */
export type Committee = ReadonlyArray<Readonly<Record<string, number>>>;

function committeeDistributions(committee: Committee): { labels: string[]; members: number[][] } {
  const labels = [...new Set(committee.flatMap((m) => Object.keys(m)))].sort();
  const members = committee.map((m) => {
    const p = labels.map((label) => {
      const q = m[label];
      return typeof q === 'number' && Number.isFinite(q) ? Math.max(0, q) : 0;
    });
    const sum = p.reduce((a, b) => a + b, 0);
    return sum > 0 ? p.map((q) => q / sum) : p.map(() => 1 / labels.length);
  });
  return { labels, members };
}

/**
 * Vote entropy (Dagan & Engelson 1995): each member votes its most likely label; the entropy of
 * the votes, normalised by log min(members, labels), in [0, 1]. 0 when they all vote alike.
 */
export function voteEntropy(committee: Committee): number {
  const { labels, members } = committeeDistributions(committee);
  const C = members.length;
  const norm = Math.log(Math.min(C, labels.length));
  if (C < 2 || norm <= 0) return 0;
  const votes = new Map<number, number>();
  for (const p of members) {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    votes.set(best, (votes.get(best) ?? 0) + 1);
  }
  let h = 0;
  for (const v of votes.values()) h -= (v / C) * Math.log(v / C);
  return Math.min(1, Math.max(0, h / norm));
}

/**
 * The members' mean Kullback–Leibler divergence to the consensus (their mean distribution),
 * McCallum & Nigam (1998): the generalised Jensen–Shannon divergence of the committee, bounded by
 * log min(members, labels), by which it is normalised into [0, 1]. 0 when all agree exactly.
 */
export function klToConsensus(committee: Committee): number {
  const { labels, members } = committeeDistributions(committee);
  const C = members.length;
  const norm = Math.log(Math.min(C, labels.length));
  if (C < 2 || norm <= 0) return 0;
  const consensus = labels.map((_, k) => members.reduce((sum, p) => sum + p[k], 0) / C);
  let total = 0;
  for (const p of members) for (let k = 0; k < p.length; k++) if (p[k] > 0) total += p[k] * Math.log(p[k] / consensus[k]);
  return Math.min(1, Math.max(0, total / C / norm));
}

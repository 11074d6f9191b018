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

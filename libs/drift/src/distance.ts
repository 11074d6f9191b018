/**
 * Bin edges for a numeric feature: the baseline's deciles (or `bins` quantiles), repeated
 * values merged, so each bin holds about the same share of the baseline. Values at or under
 * edge i fall in bin i; above the last edge, in the last bin.
 */
export function quantileEdges(baseline: readonly number[], bins = 10): number[] {
  const sorted = baseline.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / bins))];
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/** Counts of values per bin of `edges` (edges.length + 1 bins). */
export function histogram(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    let lo = 0;
    let hi = edges.length;
    // the first edge at or above the value
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts;
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total ? c / total : 0));
}

/**
 * Jensen-Shannon divergence between two histograms over the same bins, in bits: 0 for the
 * same distribution, 1 for distributions with no bin in common (TFDV's drift measure for
 * numeric features).
 */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError('histograms must have the same bins');
  const a = shares(p);
  const b = shares(q);
  let divergence = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i] + b[i]) / 2;
    if (a[i] > 0) divergence += (a[i] / 2) * Math.log2(a[i] / m);
    if (b[i] > 0) divergence += (b[i] / 2) * Math.log2(b[i] / m);
  }
  return Math.min(1, Math.max(0, divergence));
}

export function frequencies(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/**
 * L-infinity distance between two categorical distributions: the largest difference in any
 * one value's share (TFDV's drift measure for categorical features), in [0, 1].
 */
export function lInfinity(p: ReadonlyMap<string, number>, q: ReadonlyMap<string, number>, pTotal?: number): { distance: number; value: string | undefined } {
  // `pTotal`: p's total when p holds only its most frequent values (the shares stay those of the whole)
  const tp = pTotal ?? totalOf(p);
  const tq = totalOf(q);
  let distance = 0;
  let worst: string | undefined;
  const measure = (value: string) => {
    const d = Math.abs((tp ? (p.get(value) ?? 0) / tp : 0) - (tq ? (q.get(value) ?? 0) / tq : 0));
    if (d > distance) {
      distance = d;
      worst = value;
    }
  };
  // every value of either, p's first: no set of both is built (a reference may hold many thousands)
  for (const value of p.keys()) measure(value);
  for (const value of q.keys()) if (!p.has(value)) measure(value);
  return { distance, value: worst };
}

function totalOf(m: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const n of m.values()) total += n;
  return total;
}

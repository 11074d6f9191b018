/**
 * Routing over predictions' embeddings: near-duplicates by cosine distance, and a pass's candidates
 * ordered to spread over the space (k-center greedy) when the budget cannot take them all.
 */

export interface Embedded {
  priority: number;
  embedding?: readonly number[] | null;
}

/** A unit vector of the embedding (null for none, or one of zero length, which has no direction). */
export function unit(embedding: readonly number[] | null | undefined): Float64Array | null {
  if (!embedding || embedding.length === 0) return null;
  let norm = 0;
  for (const x of embedding) norm += x * x;
  if (norm === 0) return null;
  const scale = 1 / Math.sqrt(norm);
  return Float64Array.from(embedding, (x) => x * scale);
}

/** 1 − cos of two unit vectors; vectors of different lengths are as far as can be (2). */
export function cosineDistance(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 2;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return Math.min(2, Math.max(0, 1 - dot));
}

/**
 * The candidates without a near-duplicate: highest priority first, each dropped when it lies within
 * `minDistance` of one kept before it or of a recently routed embedding. One without an embedding
 * is kept. Returns the kept and the dropped.
 */
export function withoutNearDuplicates<T extends Embedded>(
  candidates: readonly T[],
  recent: ReadonlyArray<readonly number[]>,
  minDistance: number,
): { kept: T[]; dropped: T[] } {
  const seen = recent.map(unit).filter((u): u is Float64Array => u !== null);
  const kept: T[] = [];
  const dropped: T[] = [];
  for (const c of [...candidates].sort((a, b) => b.priority - a.priority)) {
    const u = unit(c.embedding);
    if (u && seen.some((s) => cosineDistance(u, s) < minDistance)) {
      dropped.push(c);
      continue;
    }
    if (u) seen.push(u);
    kept.push(c);
  }
  return { kept, dropped };
}

/**
 * The candidates in k-center greedy order (Sener & Savarese's core-set selection): the highest
 * priority first, then again and again the one farthest (by cosine distance) from all chosen
 * before it, ties to the higher priority. A candidate without an embedding counts as far from
 * every other, so those come early, by priority. Only the first `k` are placed by distance; the
 * rest follow by priority.
 */
export function spreadOrder<T extends Embedded>(candidates: readonly T[], k: number): T[] {
  const byPriority = [...candidates].sort((a, b) => b.priority - a.priority);
  if (k >= byPriority.length || k <= 0) return byPriority;
  const units = byPriority.map((c) => unit(c.embedding));
  const nearest = new Float64Array(byPriority.length).fill(Infinity);
  const chosen = new Array<boolean>(byPriority.length).fill(false);
  const order: T[] = [];
  for (let step = 0; step < k; step++) {
    let best = -1;
    for (let i = 0; i < byPriority.length; i++) if (!chosen[i] && (best < 0 || nearest[i] > nearest[best])) best = i;
    chosen[best] = true;
    order.push(byPriority[best]);
    const picked = units[best];
    if (!picked) continue;
    for (let i = 0; i < byPriority.length; i++) {
      const u = units[i];
      if (!chosen[i] && u) nearest[i] = Math.min(nearest[i], cosineDistance(u, picked));
    }
  }
  for (let i = 0; i < byPriority.length; i++) if (!chosen[i]) order.push(byPriority[i]);
  return order;
}

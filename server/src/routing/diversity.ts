/**
 * Routing over predictions' embeddings: near-duplicates by cosine distance, and a pass's candidates
 * ordered to spread over the space (k-center greedy) when the budget cannot take them all.
 */

import { cosineDistance, unitVector } from '@backflow/sampling';

export interface Embedded {
  priority: number;
  embedding?: readonly number[] | null;
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
  const seen = recent.map(unitVector).filter((u): u is Float64Array => u !== null);
  const kept: T[] = [];
  const dropped: T[] = [];
  for (const c of [...candidates].sort((a, b) => b.priority - a.priority)) {
    const u = unitVector(c.embedding);
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
  const units = byPriority.map((c) => unitVector(c.embedding));
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

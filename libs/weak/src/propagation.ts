import { unitVector } from '@backflow/sampling';

/**
 * Label propagation over embeddings, one step of k-nearest neighbours: a prediction takes the label
 * its nearest human-labelled neighbours give it, each neighbour's vote weighted by its cosine
 * similarity, when enough of them are close and they agree. Propagated labels are never sources in
 * turn (a wrong one would spread).
 */

export interface LabelledPoint {
  label: string;
  embedding: readonly number[];
}

export interface PropagationSettings {
  /** the nearest labelled points that vote */
  k: number;
  /** only neighbours within this cosine distance vote */
  maxDistance: number;
}

export interface Propagated {
  label: string;
  /** the label's share of the voting neighbours' similarity */
  confidence: number;
  /** how many neighbours voted */
  neighbours: number;
}

/** The labelled points made ready to vote: unit vectors of one dimension (the first point's). */
export function propagationIndex(points: readonly LabelledPoint[]): { labels: string[]; vectors: Float64Array[] } {
  const dimension = points[0]?.embedding.length ?? 0;
  const labels: string[] = [];
  const vectors: Float64Array[] = [];
  for (const p of points) {
    if (p.embedding.length !== dimension) continue;
    const u = unitVector(p.embedding);
    if (!u) continue;
    labels.push(p.label);
    vectors.push(u);
  }
  return { labels, vectors };
}

/** The label the neighbours give one embedding, or undefined when none is within reach. */
export function propagate(
  index: { labels: string[]; vectors: Float64Array[] },
  embedding: readonly number[],
  settings: PropagationSettings,
): Propagated | undefined {
  const u = unitVector(embedding);
  if (!u || index.vectors.length === 0 || index.vectors[0].length !== u.length) return undefined;
  // the k most similar within reach, kept sorted (k is small)
  const best: Array<{ similarity: number; label: string }> = [];
  const minSimilarity = 1 - settings.maxDistance;
  for (let i = 0; i < index.vectors.length; i++) {
    const v = index.vectors[i];
    let dot = 0;
    for (let d = 0; d < u.length; d++) dot += u[d] * v[d];
    if (dot < minSimilarity) continue;
    if (best.length === settings.k && dot <= best[best.length - 1].similarity) continue;
    let at = best.length;
    while (at > 0 && best[at - 1].similarity < dot) at--;
    best.splice(at, 0, { similarity: dot, label: index.labels[i] });
    if (best.length > settings.k) best.pop();
  }
  if (best.length === 0) return undefined;
  const weights = new Map<string, number>();
  let total = 0;
  for (const n of best) {
    const w = Math.max(n.similarity, 1e-9);
    weights.set(n.label, (weights.get(n.label) ?? 0) + w);
    total += w;
  }
  let label = '';
  let top = -1;
  for (const [l, w] of weights) if (w > top || (w === top && l < label)) [label, top] = [l, w];
  return { label, confidence: top / total, neighbours: best.length };
}

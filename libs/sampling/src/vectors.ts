/** Embeddings as directions: what diversity routing and label propagation compare. */

/** A unit vector of the embedding (null for none, or one of no length, which has no direction). */
export function unitVector(embedding: readonly number[] | null | undefined): Float64Array | null {
  if (!embedding || embedding.length === 0) return null;
  let norm = 0;
  for (const x of embedding) norm += x * x;
  if (!(norm > 0)) return null;
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

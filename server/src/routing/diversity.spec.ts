import { cosineDistance, unitVector } from '@backflow/sampling';
import { spreadOrder, withoutNearDuplicates } from './diversity';

// three tight clusters on the axes, and the priorities that would take all of the first one
const point = (axis: number, jitter: number) => [0, 1, 2].map((i) => (i === axis ? 1 : jitter));
const candidates = [
  { name: 'a1', priority: 1.9, embedding: point(0, 0.01) },
  { name: 'a2', priority: 1.8, embedding: point(0, 0.02) },
  { name: 'a3', priority: 1.7, embedding: point(0, 0.03) },
  { name: 'b1', priority: 1.3, embedding: point(1, 0.01) },
  { name: 'b2', priority: 1.2, embedding: point(1, 0.02) },
  { name: 'c1', priority: 1.1, embedding: point(2, 0.01) },
];

describe('diversity over embeddings', () => {
  it('measures cosine distance on unit vectors, and leaves out a vector of no length', () => {
    expect(cosineDistance(unitVector([1, 0])!, unitVector([0, 2])!)).toBeCloseTo(1, 12);
    expect(cosineDistance(unitVector([1, 1])!, unitVector([2, 2])!)).toBeCloseTo(0, 12);
    expect(cosineDistance(unitVector([1, 0])!, unitVector([-3, 0])!)).toBeCloseTo(2, 12);
    expect(cosineDistance(unitVector([1, 0])!, unitVector([1, 0, 0])!)).toBe(2);
    expect(unitVector([0, 0])).toBeNull();
    expect(unitVector(null)).toBeNull();
  });

  it('orders a pass by k-center greedy: the highest priority, then the farthest from those chosen', () => {
    // b1 and c1 are as far from a1 as each other: the higher priority first
    expect(spreadOrder(candidates, 3).map((c) => c.name)).toEqual(['a1', 'b1', 'c1', 'a2', 'a3', 'b2']);
    // room for all: by priority
    expect(spreadOrder(candidates, 6).map((c) => c.name)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
    // one without an embedding is far from every other: it comes early, by priority
    const mixed = [...candidates, { name: 'x', priority: 1, embedding: null }];
    expect(spreadOrder(mixed, 3).map((c) => c.name)).toEqual(['a1', 'x', 'b1', 'a2', 'a3', 'b2', 'c1']);
  });

  it('drops near-duplicates of a candidate kept before it, or of one routed recently', () => {
    const { kept, dropped } = withoutNearDuplicates(candidates, [], 0.01);
    expect(kept.map((c) => c.name)).toEqual(['a1', 'b1', 'c1']);
    expect(dropped.map((c) => c.name)).toEqual(['a2', 'a3', 'b2']);
    // b's cluster was routed a moment ago
    expect(withoutNearDuplicates(candidates, [point(1, 0)], 0.01).kept.map((c) => c.name)).toEqual(['a1', 'c1']);
    // far enough apart: all kept
    expect(withoutNearDuplicates(candidates, [], 1e-6).kept).toHaveLength(6);
  });
});

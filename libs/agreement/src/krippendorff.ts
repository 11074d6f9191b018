/**
 * What a difference function may read besides the two values it compares: the totals n_c of
 * the coincidence matrix (how often each distinct value occurs among the pairable values,
 * keyed by the distance's `key`) and the distinct pairable values in order (numbers
 * numerically, anything else by key). The ordinal distance needs both; the others ignore them.
 */
export interface AlphaContext<V> {
  marginals: ReadonlyMap<string, number>;
  values: readonly V[];
}

/**
 * Krippendorff's difference function δ² for one level of measurement. `key` names a value, so
 * that equal values given as distinct objects (sets, arrays) fall in one coincidence cell;
 * `delta` must be symmetric and 0 between a value and itself.
 */
export interface AlphaDistance<V> {
  name: string;
  key(v: V): string;
  delta(a: V, b: V, context: AlphaContext<V>): number;
}

/**
 * Krippendorff's α, missing answers allowed: each unit lists the values it received (any number
 * of raters; a unit with fewer than two values cannot be paired and is left out). Values are
 * tallied in the coincidence matrix o_ck (each ordered pair of values within a unit weighted
 * 1 / (m_u − 1)), and α = 1 − D_o / D_e = 1 − (n − 1) · Σ o_ck δ_ck / Σ n_c n_k δ_ck, summed over
 * distinct values c ≠ k: 1 is perfect agreement, 0 what chance gives. NaN when fewer than two
 * pairable values, or when chance would give no disagreement (D_e = 0, e.g. a single value).
 */
export function krippendorffAlpha<V>(units: ReadonlyArray<ReadonlyArray<V>>, distance: AlphaDistance<V>): { alpha: number; pairableValues: number } {
  // each pairable unit as its count of every distinct value (by key), and one representative per key
  const representatives = new Map<string, V>();
  const unitCounts: Array<{ counts: Map<string, number>; m: number }> = [];
  const marginals = new Map<string, number>();
  let n = 0;
  for (const values of units) {
    if (values.length < 2) continue;
    const counts = new Map<string, number>();
    for (const v of values) {
      const key = distance.key(v);
      if (!representatives.has(key)) representatives.set(key, v);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      // n_c, the row total of the coincidence matrix: Σ_u n_uc · (m_u − 1) / (m_u − 1)
      marginals.set(key, (marginals.get(key) ?? 0) + 1);
    }
    unitCounts.push({ counts, m: values.length });
    n += values.length;
  }
  if (n < 2) return { alpha: NaN, pairableValues: n };

  const keys = [...representatives.keys()].sort((a, b) => {
    const va = representatives.get(a);
    const vb = representatives.get(b);
    if (typeof va === 'number' && typeof vb === 'number') return va - vb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const index = new Map(keys.map((key, i) => [key, i]));
  const values = keys.map((key) => representatives.get(key)!);
  const context: AlphaContext<V> = { marginals, values };

  // off-diagonal coincidences o_ck, c < k (the matrix is symmetric and δ_cc = 0)
  const coincidences = keys.map(() => new Array<number>(keys.length).fill(0));
  for (const { counts, m } of unitCounts) {
    const entries = [...counts].map(([key, count]) => [index.get(key)!, count] as const);
    for (const [c, nc] of entries) for (const [k, nk] of entries) if (c < k) coincidences[c][k] += (nc * nk) / (m - 1);
  }

  let observed = 0;
  let expected = 0;
  for (let c = 0; c < keys.length; c++) {
    for (let k = c + 1; k < keys.length; k++) {
      const delta = distance.delta(values[c], values[k], context);
      observed += coincidences[c][k] * delta;
      expected += marginals.get(keys[c])! * marginals.get(keys[k])! * delta;
    }
  }
  if (expected === 0) return { alpha: NaN, pairableValues: n };
  return { alpha: 1 - ((n - 1) * observed) / expected, pairableValues: n };
}

/** Krippendorff's α for nominal data: {@link krippendorffAlpha} with {@link nominalDistance}. */
export function krippendorffAlphaNominal(units: ReadonlyArray<readonly string[]>): { alpha: number; pairableValues: number } {
  return krippendorffAlpha(units, nominalDistance);
}

/** Nominal δ²: 0 for the same value, 1 otherwise (the number 1 and the string "1" differ). */
export const nominalDistance: AlphaDistance<string | number> = {
  name: 'nominal',
  key: (v) => JSON.stringify(v),
  delta: (a, b) => (a === b ? 0 : 1),
};

/** Numbers as coincidence keys. */
const numberKey = (v: number): string => String(v);

/** Mid-rank of every value (by key) of one α's context: the values ranked below it plus half its own n_c. */
const midRanks = new WeakMap<AlphaContext<number>, Map<string, number>>();

/**
 * Krippendorff's ordinal δ²(c, k) = (Σ_{g=c..k} n_g − (n_c + n_k)/2)², over the marginal
 * frequencies of the ranks that occur, numbers ordered numerically: the distance grows with how
 * many values the data put between c and k, not with c − k. It equals the squared difference of
 * the two values' mid-ranks, which are computed once per α.
 */
export const ordinalDistance: AlphaDistance<number> = {
  name: 'ordinal',
  key: numberKey,
  delta(a, b, context) {
    let ranks = midRanks.get(context);
    if (!ranks) {
      ranks = new Map();
      let below = 0;
      for (const v of context.values) {
        const nv = context.marginals.get(numberKey(v)) ?? 0;
        ranks.set(numberKey(v), below + nv / 2);
        below += nv;
      }
      midRanks.set(context, ranks);
    }
    const ra = ranks.get(numberKey(a));
    const rb = ranks.get(numberKey(b));
    if (ra === undefined || rb === undefined) throw new RangeError(`ordinal values ${a} and ${b} must both be among the context's values`);
    return (rb - ra) ** 2;
  },
};

/** Interval δ²: (c − k)². */
export const intervalDistance: AlphaDistance<number> = {
  name: 'interval',
  key: numberKey,
  delta: (a, b) => (a - b) ** 2,
};

/** Ratio δ² for values ≥ 0: ((c − k) / (c + k))², differences relative to magnitude; 0 when both are 0. */
export const ratioDistance: AlphaDistance<number> = {
  name: 'ratio',
  key: numberKey,
  delta: (a, b) => (a === 0 && b === 0 ? 0 : ((a - b) / (a + b)) ** 2),
};

/** A set of labels as one value: the sorted, de-duplicated labels as JSON. */
const setKey = (labels: readonly string[]): string => JSON.stringify([...new Set(labels)].sort());

/** Sizes of A ∩ B and A ∪ B, duplicates within a set counted once. */
function overlap(a: readonly string[], b: readonly string[]): { intersection: number; union: number; sizeA: number; sizeB: number } {
  const setA = new Set(a);
  const setB = new Set(b);
  let intersection = 0;
  for (const label of setA) if (setB.has(label)) intersection++;
  return { intersection, union: setA.size + setB.size - intersection, sizeA: setA.size, sizeB: setB.size };
}

/** Jaccard distance between label sets: 1 − |A ∩ B| / |A ∪ B|; two empty sets are equal (0). */
export const jaccardDistance: AlphaDistance<readonly string[]> = {
  name: 'jaccard',
  key: setKey,
  delta(a, b) {
    const { intersection, union } = overlap(a, b);
    return union === 0 ? 0 : 1 - intersection / union;
  },
};

/**
 * MASI distance between label sets (Passonneau 2006): 1 − J · M, J the Jaccard similarity and M
 * the monotonicity, 1 for equal sets, 2/3 when one is a subset of the other, 1/3 when they
 * intersect otherwise, 0 when disjoint; so partial agreement on multi-label answers counts,
 * nesting more than mere overlap. Two empty sets are equal (0).
 */
export const masiDistance: AlphaDistance<readonly string[]> = {
  name: 'masi',
  key: setKey,
  delta(a, b) {
    const { intersection, union, sizeA, sizeB } = overlap(a, b);
    if (union === 0) return 0;
    const monotonicity = intersection === union ? 1 : intersection === Math.min(sizeA, sizeB) ? 2 / 3 : intersection > 0 ? 1 / 3 : 0;
    return 1 - (intersection / union) * monotonicity;
  },
};

/** A labelled span of an item, offsets as the labelling tool gives them. */
export interface Span {
  start: number;
  end: number;
  label: string;
}

/**
 * Exact-match F1 between two raters' spans of one item: 2 · matches / (|a| + |b|), a span
 * matching only when start, end and label are all equal (each span matched at most once), so
 * overlapping spans with other bounds count as disagreement. 1 when both marked nothing.
 */
export function spanF1(a: readonly Span[], b: readonly Span[]): number {
  if (a.length + b.length === 0) return 1;
  const unmatched = new Map<string, number>();
  const key = (s: Span) => JSON.stringify([s.start, s.end, s.label]);
  for (const s of a) unmatched.set(key(s), (unmatched.get(key(s)) ?? 0) + 1);
  let matches = 0;
  for (const s of b) {
    const left = unmatched.get(key(s)) ?? 0;
    if (left > 0) {
      unmatched.set(key(s), left - 1);
      matches++;
    }
  }
  return (2 * matches) / (a.length + b.length);
}

/**
 * Span agreement over items: the mean {@link spanF1} over every pair of raters within every
 * item (each item lists one span list per rater). NaN when no item has two raters.
 */
export function pairwiseSpanF1(units: ReadonlyArray<ReadonlyArray<readonly Span[]>>): number {
  let total = 0;
  let pairs = 0;
  for (const raters of units) {
    for (let i = 0; i < raters.length; i++) {
      for (let j = i + 1; j < raters.length; j++) {
        total += spanF1(raters[i], raters[j]);
        pairs++;
      }
    }
  }
  return pairs === 0 ? NaN : total / pairs;
}

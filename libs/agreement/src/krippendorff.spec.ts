import {
  intervalDistance,
  jaccardDistance,
  krippendorffAlpha,
  krippendorffAlphaNominal,
  masiDistance,
  nominalDistance,
  ordinalDistance,
  pairwiseSpanF1,
  ratioDistance,
  spanF1,
  type AlphaContext,
  type Span,
} from './krippendorff';

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C (also the ordinal and
// ratio tests of the Python `krippendorff` package): observers A–D × units 1–12, "." missing.
const reliabilityData = [
  '1 2 3 3 2 1 4 1 2 . . .', // A
  '1 2 3 3 2 2 4 1 2 5 . 3', // B
  '. 3 3 3 2 3 4 2 2 5 1 .', // C
  '1 2 3 3 2 4 4 1 2 5 1 .', // D
].map((row) => row.split(' '));
const labelUnits = reliabilityData[0].map((_, u) => reliabilityData.map((observer) => observer[u]).filter((v) => v !== '.'));
const numberUnits = labelUnits.map((unit) => unit.map(Number));

describe("Krippendorff's alpha with a pluggable distance", () => {
  it.each([
    ['nominal', 0.743, nominalDistance],
    ['ordinal', 0.815, ordinalDistance],
    ['interval', 0.849, intervalDistance],
    ['ratio', 0.797, ratioDistance],
  ] as const)('gives the published %s α = %s on Krippendorff (2011), section C', (_name, published, distance) => {
    const { alpha, pairableValues } = krippendorffAlpha<number>(numberUnits, distance);
    // unit 12 has a single value (B's 3) and is left out: 41 values, 40 pairable
    expect(pairableValues).toBe(40);
    expect(alpha).toBeCloseTo(published, 3);
  });

  it('keeps krippendorffAlphaNominal equal to the general function with the nominal distance', () => {
    const general = krippendorffAlpha(labelUnits, nominalDistance);
    expect(krippendorffAlphaNominal(labelUnits)).toEqual(general);
    expect(general.alpha).toBeCloseTo(krippendorffAlpha(numberUnits, nominalDistance).alpha, 12);
    // exactly: 8 off-diagonal coincidences, Σ_{c≠k} n_c n_k = 40² − (9² + 13² + 10² + 5² + 3²) = 1216,
    // α = 1 − 39 · 8 / 1216 = 113/152 (the implementation this one replaced gave the same to 1e-15)
    expect(general.alpha).toBeCloseTo(113 / 152, 12);
  });

  it('measures the ordinal distance on the marginal frequencies of the ranks that occur', () => {
    // the section C data's n_c: 1 → 9, 2 → 13, 3 → 10, 4 → 5, 5 → 3 (n = 40)
    const context: AlphaContext<number> = {
      marginals: new Map([
        ['1', 9],
        ['2', 13],
        ['3', 10],
        ['4', 5],
        ['5', 3],
      ]),
      values: [1, 2, 3, 4, 5],
    };
    // δ²(1,2) = (9 + 13 − (9 + 13)/2)² = 11² = 121
    expect(ordinalDistance.delta(1, 2, context)).toBe(121);
    // δ²(1,3) = (9 + 13 + 10 − (9 + 10)/2)² = 22.5² = 506.25
    expect(ordinalDistance.delta(3, 1, context)).toBe(506.25);
    // δ²(4,5) = (5 + 3 − (5 + 3)/2)² = 4² = 16
    expect(ordinalDistance.delta(4, 5, context)).toBe(16);
    expect(ordinalDistance.delta(2, 2, context)).toBe(0);
    expect(() => ordinalDistance.delta(1, 6, context)).toThrow(RangeError);
  });

  it('gives the interval and ratio differences', () => {
    expect(intervalDistance.delta(1, 4, { marginals: new Map(), values: [] })).toBe(9);
    // ((1 − 3)/(1 + 3))² = 0.25
    expect(ratioDistance.delta(1, 3, { marginals: new Map(), values: [] })).toBe(0.25);
    expect(ratioDistance.delta(0, 0, { marginals: new Map(), values: [] })).toBe(0);
  });

  it('is 1 for perfect agreement, NaN with nothing to measure, and skips units with one value', () => {
    expect(krippendorffAlpha([[1, 1], [2, 2, 2], [3]], intervalDistance).alpha).toBe(1);
    expect(
      krippendorffAlpha(
        [
          [4, 4],
          [4, 4],
        ],
        ordinalDistance,
      ).alpha,
    ).toBeNaN();
    expect(krippendorffAlpha([[1], [2]], intervalDistance)).toEqual({ alpha: NaN, pairableValues: 0 });
    expect(krippendorffAlpha([], nominalDistance)).toEqual({ alpha: NaN, pairableValues: 0 });
  });

  it('tells the number 1 from the string "1" under the nominal distance', () => {
    expect(nominalDistance.key(1)).not.toBe(nominalDistance.key('1'));
    expect(nominalDistance.delta(1, '1', { marginals: new Map(), values: [] })).toBe(1);
  });
});

describe('set distances', () => {
  const none: AlphaContext<readonly string[]> = { marginals: new Map(), values: [] };

  it('gives the MASI distance of Passonneau (2006)', () => {
    // {a,b} vs {a,b,c}: Jaccard 2/3, a subset so M = 2/3: 1 − (2/3)(2/3) = 5/9
    expect(masiDistance.delta(['a', 'b'], ['a', 'b', 'c'], none)).toBeCloseTo(5 / 9, 12);
    // NLTK's documented case, {1,2} vs {1,2,3,4}: Jaccard 1/2, M = 2/3: 1 − 1/3 = 2/3 (NLTK rounds M to 0.67 and prints 0.665)
    expect(masiDistance.delta(['1', '2'], ['1', '2', '3', '4'], none)).toBeCloseTo(2 / 3, 12);
    // {a,b} vs {b,c}: Jaccard 1/3, overlapping so M = 1/3: 1 − 1/9 = 8/9
    expect(masiDistance.delta(['a', 'b'], ['b', 'c'], none)).toBeCloseTo(8 / 9, 12);
    expect(masiDistance.delta(['a'], ['b'], none)).toBe(1);
    expect(masiDistance.delta(['b', 'a', 'a'], ['a', 'b'], none)).toBe(0);
    expect(masiDistance.delta([], [], none)).toBe(0);
    expect(masiDistance.delta([], ['a'], none)).toBe(1);
  });

  it('gives the Jaccard distance', () => {
    // {a,b} vs {b,c}: 1 − 1/3
    expect(jaccardDistance.delta(['a', 'b'], ['b', 'c'], none)).toBeCloseTo(2 / 3, 12);
    expect(jaccardDistance.delta(['a', 'b'], ['a', 'b', 'c'], none)).toBeCloseTo(1 / 3, 12);
    expect(jaccardDistance.delta([], [], none)).toBe(0);
    expect(jaccardDistance.delta([], ['a'], none)).toBe(1);
  });

  it('keys a set by its sorted, de-duplicated labels, so order and repeats do not matter', () => {
    expect(masiDistance.key(['b', 'a', 'b'])).toBe(masiDistance.key(['a', 'b']));
    expect(
      krippendorffAlpha(
        [
          [
            ['a', 'b'],
            ['b', 'a'],
          ],
          [['c'], ['c', 'c']],
        ],
        masiDistance,
      ).alpha,
    ).toBe(1);
  });

  it('gives α with MASI on hand-worked units, crediting the partial agreement nominal α ignores', () => {
    const units = [
      [['a'], ['a']],
      [['a', 'b'], ['a']],
      [['b'], ['c']],
    ];
    // n = 6 pairable values; n_c: {a} 3, {a,b} 1, {b} 1, {c} 1. Two raters per unit, so each pair weighs 1 / (2 − 1) = 1.
    // MASI δ: {a}–{a,b} 2/3 (J 1/2, subset), {a,b}–{b} 2/3, every other pair of distinct sets 1 (disjoint).
    // Σ_{c<k} o_ck δ = 1·(2/3) + 1·1 = 5/3 ({a}–{a,b} in unit 2, {b}–{c} in unit 3)
    // Σ_{c<k} n_c n_k δ = {a}–{a,b} 3·(2/3) + {a}–{b} 3 + {a}–{c} 3 + {a,b}–{b} 2/3 + {a,b}–{c} 1 + {b}–{c} 1 = 32/3
    // D_o = (2/6)(5/3) = 5/9, D_e = 2/(6·5)·(32/3) = 32/45, α = 1 − (5/9)/(32/45) = 1 − 25/32 = 7/32
    const masi = krippendorffAlpha(units, masiDistance);
    expect(masi.pairableValues).toBe(6);
    expect(masi.alpha).toBeCloseTo(7 / 32, 12);
    // nominal: Σ o δ = 2, Σ n_c n_k δ = 3 + 3 + 3 + 1 + 1 + 1 = 12, α = 1 − 5·2/12 = 1/6
    expect(krippendorffAlphaNominal(units.map((unit) => unit.map((labels) => labels.join('+')))).alpha).toBeCloseTo(1 / 6, 12);
  });

  it('reduces to nominal α when every answer is a single label', () => {
    const singletons = labelUnits.map((unit) => unit.map((label) => [label]));
    expect(krippendorffAlpha(singletons, masiDistance).alpha).toBeCloseTo(krippendorffAlphaNominal(labelUnits).alpha, 12);
    expect(krippendorffAlpha(singletons, jaccardDistance).alpha).toBeCloseTo(0.743, 3);
  });
});

describe('span F1', () => {
  const person: Span = { start: 0, end: 5, label: 'PER' };
  const org: Span = { start: 10, end: 15, label: 'ORG' };

  it.each([
    ['identical spans', [person, org], [org, person], 1],
    ['disjoint spans', [person], [org], 0],
    ['overlapping spans with other bounds', [person], [{ start: 0, end: 6, label: 'PER' }], 0],
    ['same bounds, another label', [person], [{ start: 0, end: 5, label: 'LOC' }], 0],
    // 1 match, 2 + 1 spans: 2·1/3
    ['one of two spans found', [person, org], [person], 2 / 3],
    // a span is matched once: 2·1/(2 + 1)
    ['a repeated span', [person, person], [person], 2 / 3],
    ['nothing marked by either', [], [], 1],
    ['nothing marked by one', [], [person], 0],
  ] as Array<[string, Span[], Span[], number]>)('%s', (_name, a, b, expected) => {
    expect(spanF1(a, b)).toBeCloseTo(expected, 12);
    expect(spanF1(b, a)).toBeCloseTo(expected, 12);
  });

  it('averages over every pair of raters within every item', () => {
    const units = [
      // three raters: (1,2) 1, (1,3) 0, (2,3) 0
      [[person], [person], []],
      // two raters who both marked nothing: 1
      [[], []],
      // a single rater: no pair
      [[org]],
    ];
    // (1 + 0 + 0 + 1) / 4
    expect(pairwiseSpanF1(units)).toBe(0.5);
    expect(pairwiseSpanF1([[[person]]])).toBeNaN();
    expect(pairwiseSpanF1([])).toBeNaN();
  });
});

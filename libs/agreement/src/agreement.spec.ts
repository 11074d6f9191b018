import { cohenKappa, fleissKappa, fleissKappaOfLabels } from './kappa';
import { krippendorffAlphaNominal } from './krippendorff';
import { majorityVote } from './majority';
import { interRaterConfusion } from './rater-confusion';

const repeat = <T>(value: T, times: number): T[] => Array.from({ length: times }, () => value);

describe("Cohen's kappa", () => {
  it('gives 0.4 on the worked example of Wikipedia\'s "Cohen\'s kappa" (50 grant proposals: yes/yes 20, yes/no 5, no/yes 10, no/no 15)', () => {
    // p_o = 35/50 = 0.7, p_e = 0.5·0.6 + 0.5·0.4 = 0.5, κ = (0.7 − 0.5)/(1 − 0.5) = 0.4
    const pairs = [
      ...repeat(['yes', 'yes'] as const, 20),
      ...repeat(['yes', 'no'] as const, 5),
      ...repeat(['no', 'yes'] as const, 10),
      ...repeat(['no', 'no'] as const, 15),
    ];
    expect(cohenKappa(pairs)).toBeCloseTo(0.4, 12);
  });

  it.each([
    [
      'perfect agreement',
      [
        ['a', 'a'],
        ['b', 'b'],
        ['a', 'a'],
      ],
      1,
    ],
    // p_o = 0, p_e = 0.5: κ = −1, systematic disagreement
    [
      'systematic disagreement',
      [
        ['a', 'b'],
        ['b', 'a'],
      ],
      -1,
    ],
    [
      'nothing to measure: both always say a',
      [
        ['a', 'a'],
        ['a', 'a'],
      ],
      NaN,
    ],
    ['no items', [], NaN],
  ] as Array<[string, Array<[string, string]>, number]>)('%s', (_name, pairs, expected) => {
    expect(cohenKappa(pairs)).toBe(expected);
  });
});

describe("Fleiss' kappa", () => {
  // Wikipedia, "Fleiss' kappa", worked example: 14 raters, 10 subjects, 5 categories; P̄ = 0.378, P̄e = 0.213, κ = 0.210
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];

  it('gives 0.210 on the worked example of Wikipedia\'s "Fleiss\' kappa"', () => {
    expect(fleissKappa(table)).toBeCloseTo(0.2099, 4);
  });

  it('equals Cohen-like agreement figures at the extremes and refuses ragged tables', () => {
    expect(
      fleissKappa([
        [2, 0],
        [0, 2],
        [2, 0],
      ]),
    ).toBe(1);
    expect(
      fleissKappa([
        [1, 1],
        [1, 1],
      ]),
    ).toBe(-1);
    expect(() =>
      fleissKappa([
        [2, 0],
        [1, 0],
      ]),
    ).toThrow(/same number of ratings/);
  });

  it('reads items given as labels, keeping those with the asked number of raters', () => {
    const items = [
      ['a', 'a', 'a'],
      ['a', 'b', 'b'],
      ['b', 'b', 'b'],
      ['a', 'b'],
    ];
    const { kappa, items: used } = fleissKappaOfLabels(items, 3);
    expect(used).toBe(3);
    expect(kappa).toBeCloseTo(
      fleissKappa([
        [3, 0],
        [1, 2],
        [0, 3],
      ]),
      12,
    );
  });
});

describe("Krippendorff's alpha (nominal)", () => {
  it('gives 0.743 on the example with missing values of Krippendorff (2011), "Computing Krippendorff\'s Alpha-Reliability", section C', () => {
    // four observers × twelve units, "." for a missing value
    const observers = ['1 2 3 3 2 1 4 1 2 . . .', '1 2 3 3 2 2 4 1 2 5 . 3', '. 3 3 3 2 3 4 2 2 5 1 .', '1 2 3 3 2 4 4 1 2 5 1 .'].map((row) => row.split(' '));
    const units = observers[0].map((_, u) => observers.map((o) => o[u]).filter((v) => v !== '.'));
    const { alpha, pairableValues } = krippendorffAlphaNominal(units);
    // the paper: n = 40 pairable values, α = 1 − (40 − 1)·(10/3) / ... = 0.743
    expect(pairableValues).toBe(40);
    expect(alpha).toBeCloseTo(0.743, 3);
  });

  it('is 1 for perfect agreement, NaN with a single value throughout, and skips units with one value', () => {
    expect(krippendorffAlphaNominal([['a', 'a'], ['b', 'b', 'b'], ['c']]).alpha).toBe(1);
    expect(
      krippendorffAlphaNominal([
        ['a', 'a'],
        ['a', 'a'],
      ]).alpha,
    ).toBeNaN();
    expect(krippendorffAlphaNominal([['a'], ['b']]).pairableValues).toBe(0);
  });
});

describe('majority vote', () => {
  it.each([
    [['a', 'a', 'b'], 'a', 2 / 3, false],
    [['a', 'b'], undefined, 0.5, true],
    [['b', 'a', 'b', 'c', 'a', 'b'], 'b', 0.5, false],
    [[], undefined, 0, false],
  ] as Array<[string[], string | undefined, number, boolean]>)('%j → %s', (labels, label, share, tied) => {
    expect(majorityVote(labels)).toEqual({ label, share, tied });
  });
});

describe('confusion between raters', () => {
  it('counts each ordered pair of different raters on an item, symmetric', () => {
    const matrix = interRaterConfusion(
      [
        [
          { rater: 'r1', label: 'a' },
          { rater: 'r2', label: 'a' },
        ],
        [
          { rater: 'r1', label: 'a' },
          { rater: 'r2', label: 'b' },
          { rater: 'r3', label: 'b' },
        ],
      ],
      ['a', 'b'],
    );
    // item 1: a–a twice; item 2: a–b and b–a twice each, b–b twice
    expect(matrix).toEqual([
      [2, 2],
      [2, 2],
    ]);
  });
});

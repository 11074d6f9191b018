import { RankingQuestion } from '../definitions';
import { answerText, predictedText } from '../questions';
import { rankingKind, topProbabilities } from './ranking';

const runs = RankingQuestion.parse({
  name: 'runs',
  kind: 'ranking',
  grades: [0, 1, 2, 3].map((value) => ({ value, name: ['bad', 'fair', 'good', 'perfect'][value] })),
  maxItems: 4,
  k: 3,
});

const candidate = (item: string, score: number, position?: number) => ({ item, score, ...(position !== undefined && { position }) });

describe('ranking suggestions: a ranked list of candidates', () => {
  it('keeps the candidates in the order shown, positions taken from the list when none is given', () => {
    expect(rankingKind.suggestion(runs, { candidates: [candidate('r-9', 2.5), candidate('r-2', 1)] })).toEqual({
      ok: true,
      value: { candidates: [candidate('r-9', 2.5, 1), candidate('r-2', 1, 2)] },
    });
    const shuffled = { candidates: [candidate('b', 1, 2), { ...candidate('a', 3, 1), features: { km: 5, hilly: true, tags: ['trail'] } }] };
    expect(rankingKind.suggestion(runs, shuffled)).toEqual({
      ok: true,
      value: { candidates: [{ ...candidate('a', 3, 1), features: { km: 5, hilly: true, tags: ['trail'] } }, candidate('b', 1, 2)] },
    });
  });

  it.each([
    ['a bare list', [candidate('a', 1)], [], 'expected an object: {"candidates": [{"item", "score", "position"?, "features"?}]}'],
    ['no candidate', { candidates: [] }, ['candidates'], 'a non-empty list of candidates'],
    [
      'more than maxItems',
      { candidates: ['a', 'b', 'c', 'd', 'e'].map((i) => candidate(i, 1)) },
      ['candidates'],
      "at most 4 candidates (the question's maxItems)",
    ],
    [
      'an item listed twice',
      { candidates: [candidate('a', 1), candidate('b', 1), candidate('a', 2)] },
      ['candidates', 2, 'item'],
      'item "a" is listed twice (also candidate 0)',
    ],
    ['an item id with a space', { candidates: [candidate('a b', 1)] }, ['candidates', 0, 'item'], 'an item id: 1 to 128 printable ASCII characters, no spaces'],
    [
      'an item id beyond ASCII',
      { candidates: [candidate('café', 1)] },
      ['candidates', 0, 'item'],
      'an item id: 1 to 128 printable ASCII characters, no spaces',
    ],
    ['a score that is no number', { candidates: [{ item: 'a', score: '1' }] }, ['candidates', 0, 'score'], 'a finite number'],
    [
      'a position given twice',
      { candidates: [candidate('a', 1, 1), candidate('b', 1, 1)] },
      ['candidates', 1, 'position'],
      'position 1 is given twice (also candidate 0)',
    ],
    [
      'a position beyond the list',
      { candidates: [candidate('a', 1, 1), candidate('b', 1, 3)] },
      ['candidates', 1, 'position'],
      'a position from 1 to 2: the positions are a permutation of 1…2, given for every candidate or none',
    ],
    [
      'positions given for some only',
      { candidates: [candidate('a', 1, 1), candidate('b', 1)] },
      ['candidates', 1, 'position'],
      'a position from 1 to 2: the positions are a permutation of 1…2, given for every candidate or none',
    ],
    [
      'a feature that is an object',
      { candidates: [{ ...candidate('a', 1), features: { geo: { lat: 1 } } }] },
      ['candidates', 0, 'features', 'geo'],
      expect.stringMatching(/^a number, a string/),
    ],
    ['an unknown key', { candidates: [{ ...candidate('a', 1), rank: 1 }] }, ['candidates', 0, 'rank'], 'unknown key "rank"'],
  ])('refuses %s, naming the field', (_what, raw, path, message) => {
    expect(rankingKind.suggestion(runs, raw)).toEqual({ ok: false, issue: { path, message } });
  });
});

describe('ranking uncertainty: the top k scores read as logits', () => {
  const list = (...scores: number[]) => ({ candidates: scores.map((s, i) => candidate(`i${i}`, s, i + 1)) });

  it('is high when the top candidates are a close call and low when one stands out', () => {
    const close = list(2, 1.99, -3, 5); // by score: 5, 2, 1.99: the top is clear
    const tied = list(1, 1, 1, -9); // the top three tie: the last is past k = 3
    expect(rankingKind.uncertainty(runs, tied, 'margin')).toBeCloseTo(1, 12);
    expect(rankingKind.uncertainty(runs, tied, 'entropy')).toBeCloseTo(1, 12);
    expect(rankingKind.uncertainty(runs, tied, 'least_confidence')).toBeCloseTo(2 / 3, 12);
    // softmax of [5, 2, 1.99]: p1 = 1 / (1 + e^-3 + e^-3.01)
    const p1 = 1 / (1 + Math.exp(-3) + Math.exp(-3.01));
    const p2 = Math.exp(-3) * p1;
    expect(rankingKind.uncertainty(runs, close, 'margin')).toBeCloseTo(1 - (p1 - p2), 12);
    expect(rankingKind.confidence(runs, close)).toBeCloseTo(p1 - p2, 12);
    expect(topProbabilities(runs, close.candidates)).toHaveLength(3);
  });

  it('reads the temperature, and takes one candidate as certain', () => {
    const warm = { ...runs, temperature: 100 };
    expect(rankingKind.uncertainty(warm, list(5, 2, 1.99), 'margin')).toBeGreaterThan(rankingKind.uncertainty(runs, list(5, 2, 1.99), 'margin'));
    expect(rankingKind.uncertainty(runs, list(7), 'entropy')).toBe(0);
    expect(rankingKind.confidence(runs, list(7))).toBe(1);
  });

  it('predicts no answer (an order grades nothing); its text is the items in the order shown', () => {
    const shown = { candidates: [candidate('b', 1, 1), candidate('a', 9, 2)] };
    expect(rankingKind.predicted(runs, shown)).toBeUndefined();
    expect(predictedText(runs, shown)).toBe('b\na');
  });
});

describe('ranking answers', () => {
  it('takes a grade per item and keeps them in item id order (ASCII: upper case before lower)', () => {
    const graded = rankingKind.answer(runs, [
      { item: 'b', grade: 3 },
      { item: 'B', grade: 0 },
      { item: 'a:1', grade: 2 },
    ]);
    expect(graded).toEqual({
      ok: true,
      value: [
        { item: 'B', grade: 0 },
        { item: 'a:1', grade: 2 },
        { item: 'b', grade: 3 },
      ],
    });
    expect(answerText(runs, graded.ok ? graded.value : [])).toBe('B:0\na:1:2\nb:3');
  });

  it.each([
    ['an object', { a: 1 }, [], 'a list of grades: [{"item", "grade"}], one per candidate'],
    ['a grade off the scale', [{ item: 'a', grade: 4 }], [0, 'grade'], 'one of the grades: 0 (bad), 1 (fair), 2 (good), 3 (perfect)'],
    [
      'an item graded twice',
      [
        { item: 'a', grade: 1 },
        { item: 'a', grade: 2 },
      ],
      [1, 'item'],
      'item "a" is graded twice',
    ],
    ['an unknown key', [{ item: 'a', grade: 1, note: 'x' }], [0, 'note'], 'unknown key "note"'],
    ['more items than maxItems', ['a', 'b', 'c', 'd', 'e'].map((item) => ({ item, grade: 1 })), [], 'at most 4 items'],
  ])('refuses %s', (_what, raw, path, message) => {
    expect(rankingKind.answer(runs, raw)).toEqual({ ok: false, issue: { path, message } });
  });
});

describe('ranking consensus: the median grade per item', () => {
  const answer = (grades: Record<string, number>) =>
    Object.entries(grades)
      .map(([item, grade]) => ({ item, grade }))
      .sort((x, y) => (x.item < y.item ? -1 : 1));

  it('decides each item by its lower median; the list agrees as far as its least agreed item', () => {
    const decision = rankingKind.consensus(runs, [answer({ a: 3, b: 0 }), answer({ a: 2, b: 0 }), answer({ a: 0, b: 1 })], 0.6);
    // a: [3, 2, 0] → median 2, within one grade: 3 and 2 (2 of 3); b: [0, 0, 1] → 0, all within one
    expect(decision).toEqual({ decided: true, value: answer({ a: 2, b: 0 }), agreement: 2 / 3 });
    expect(rankingKind.consensus(runs, [answer({ a: 3 }), answer({ a: 0 })], 0.5)).toEqual({ decided: true, value: answer({ a: 0 }), agreement: 0.5 });
    expect(rankingKind.consensus(runs, [answer({ a: 3 }), answer({ a: 0 })], 0.6)).toEqual({ decided: false, agreement: 0.5 });
  });

  it('leaves out an item most raters did not grade, and decides nothing without answers', () => {
    expect(rankingKind.consensus(runs, [answer({ a: 1, z: 3 }), answer({ a: 1 })], 1)).toEqual({ decided: true, value: answer({ a: 1 }), agreement: 1 });
    expect(rankingKind.consensus(runs, [], 0)).toEqual({ decided: false, agreement: 0 });
  });

  it('measures agreement by ordinal α and exports the items with their grades', () => {
    expect(rankingKind.agreement(runs)).toEqual({ kind: 'alpha', distance: 'ordinal' });
    const graded = answer({ a: 2, b: 0 });
    expect(rankingKind.columns(runs).map((c) => [c.name, c.type, c.list, c.values(graded)])).toEqual([
      ['runs_item', 'bytes', true, ['a', 'b']],
      ['runs_grade', 'int', true, [2, 0]],
    ]);
  });
});

describe('ranking questions', () => {
  it('takes relevantFrom only as one of the grades', () => {
    const result = RankingQuestion.safeParse({
      name: 'r',
      kind: 'ranking',
      grades: [
        { value: 0, name: 'no' },
        { value: 1, name: 'yes' },
      ],
      relevantFrom: 2,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['relevantFrom']);
  });
});

import { LabelQuestion } from '../definitions';
import { argmaxLabel, checkScores, labelKind, scoresFault, sumTolerance } from './label';

const sentiment = LabelQuestion.parse({ name: 'sentiment', kind: 'label', labels: [{ name: 'neg' }, { name: 'neu' }, { name: 'pos' }] });

describe('label suggestions', () => {
  it('takes class scores summing to 1 (within 0.001 or 0.0005 a score), a label, or both', () => {
    expect(labelKind.suggestion(sentiment, { scores: { neg: 0.1, neu: 0.2, pos: 0.7 } })).toEqual({
      ok: true,
      value: { scores: { neg: 0.1, neu: 0.2, pos: 0.7 } },
    });
    expect(labelKind.suggestion(sentiment, { scores: { neg: 0.3334, neu: 0.3333, pos: 0.3337 } }).ok).toBe(true);
    expect(labelKind.suggestion(sentiment, { value: 'pos' })).toEqual({ ok: true, value: { value: 'pos' } });
  });

  it.each([
    ['scores off 1 by more than 0.001', { scores: { neg: 0.5, pos: 0.502 } }, ['scores']],
    ['an unknown label in the scores', { scores: { neg: 0.5, spam: 0.5 } }, ['scores', 'spam']],
    ['a score above 1', { scores: { neg: 1.5, pos: -0.5 } }, ['scores', 'neg']],
    ['no scores at all', { scores: {} }, ['scores']],
    ['a value that is no label', { value: 'spam' }, ['value']],
    ['an unknown key', { label: 'pos' }, ['label']],
    ['neither scores nor value', {}, []],
    ['a bare label', 'pos', []],
  ])('refuses %s', (_what, raw, path) => {
    const checked = labelKind.suggestion(sentiment, raw);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });

  it('checkScores leaves the sum alone for independent (multi-label) scores', () => {
    expect(checkScores(sentiment.labels, { neg: 0.9, pos: 0.9 }, false).ok).toBe(true);
    expect(checkScores(sentiment.labels, { neg: 0.9, pos: 0.9 }, true).ok).toBe(false);
  });
});

describe('the sum of single-label scores', () => {
  const known = (n: number) => new Set(Array.from({ length: n }, (_, i) => `c${i}`));
  const scores = (...values: number[]) => Object.fromEntries(values.map((v, i) => [`c${i}`, v]));

  it('may be off 1 by 0.001, or 0.0005 a score when that is more', () => {
    expect(sumTolerance(2)).toBe(0.001);
    expect(sumTolerance(3)).toBeCloseTo(0.0015, 15);
    expect(sumTolerance(10)).toBeCloseTo(0.005, 15);
  });

  it.each([
    ['two scores rounded to three decimals, summing to 0.999', [0.499, 0.5]],
    ['three thirds rounded to three decimals (0.999)', [0.333, 0.333, 0.333]],
    ['three scores summing to 1.0015, at the bound', [0.3345, 0.3335, 0.3335]],
    ['ten scores rounded to three decimals, off by 0.005', [0.0995, 0.0995, 0.0995, 0.0995, 0.0995, 0.0995, 0.0995, 0.0995, 0.0995, 0.0995]],
  ])('takes %s', (_what, values) => {
    expect(scoresFault(scores(...values), known(values.length), true)).toBeUndefined();
  });

  it.each([
    ['two scores summing to 0.998', [0.498, 0.5], 0.001, 0.998],
    ['three scores summing to 0.998', [0.332, 0.333, 0.333], 0.0015, 0.998],
    ['logits of two classes', [0.2, 0.3], 0.001, 0.5],
    ['independent sigmoids', [0.9, 0.8, 0.7], 0.0015, 2.4],
  ])('refuses %s, saying the tolerance and the sum', (_what, values, tolerance, sum) => {
    const fault = scoresFault(scores(...values), known(values.length), true);
    expect(fault).toEqual({ fault: 'not_normalized', sum: expect.closeTo(sum, 12), classes: values.length, tolerance: expect.closeTo(tolerance, 15) });
    const checked = checkScores(
      values.map((_, i) => ({ name: `c${i}` })),
      scores(...values),
      true,
    );
    expect(checked.ok).toBe(false);
    if (!checked.ok)
      expect(checked.issue.message).toBe(
        `single-label scores must sum to 1 within ±${tolerance} (0.001, or 0.0005 per score when more: what rounding each score to three decimals can add up to); these ${values.length} sum to ${sum}`,
      );
  });

  it('keeps the scores as they were sent', () => {
    const sent = scores(0.333, 0.333, 0.333);
    const checked = checkScores([{ name: 'c0' }, { name: 'c1' }, { name: 'c2' }], sent, true);
    expect(checked).toEqual({ ok: true, value: { c0: 0.333, c1: 0.333, c2: 0.333 } });
  });
});

describe('label uncertainty, confidence and prediction', () => {
  const scores = { neg: 0.1, neu: 0.2, pos: 0.7 };

  it.each([
    ['least_confidence', 0.3], // 1 − 0.7
    ['margin', 0.5], // 1 − (0.7 − 0.2)
    ['entropy', 0.7298466991620975], // −(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) / ln 3 = 0.80182 / 1.09861
    ['max_entropy', 0.7298466991620975], // one distribution: the same as entropy
  ] as const)('%s of {0.1, 0.2, 0.7} is %f', (strategy, expected) => {
    expect(labelKind.uncertainty(sentiment, { scores }, strategy)).toBeCloseTo(expected, 12);
  });

  it('is 0, for every strategy, when the model sent only a label', () => {
    for (const strategy of ['least_confidence', 'margin', 'entropy', 'max_entropy'] as const)
      expect(labelKind.uncertainty(sentiment, { value: 'pos' }, strategy)).toBe(0);
  });

  it('is 1 at a uniform distribution by margin and entropy, 2/3 by least confidence', () => {
    const uniform = { scores: { neg: 1 / 3, neu: 1 / 3, pos: 1 / 3 } };
    expect(labelKind.uncertainty(sentiment, uniform, 'margin')).toBeCloseTo(1, 12);
    expect(labelKind.uncertainty(sentiment, uniform, 'entropy')).toBeCloseTo(1, 12);
    expect(labelKind.uncertainty(sentiment, uniform, 'least_confidence')).toBeCloseTo(2 / 3, 12);
  });

  it('confidence is the score of the label sent, else of the top label, and 1 with no scores', () => {
    expect(labelKind.confidence(sentiment, { scores })).toBe(0.7);
    expect(labelKind.confidence(sentiment, { scores, value: 'neu' })).toBe(0.2);
    expect(labelKind.confidence(sentiment, { value: 'neu' })).toBe(1);
  });

  it('predicts the label sent, else the top score, a tie going to the label listed first', () => {
    expect(labelKind.predicted(sentiment, { scores })).toBe('pos');
    expect(labelKind.predicted(sentiment, { scores, value: 'neg' })).toBe('neg');
    // neu is listed before pos: the tie is neu's whatever order the scores came in
    expect(labelKind.predicted(sentiment, { scores: { pos: 0.4, neu: 0.4, neg: 0.2 } })).toBe('neu');
    expect(
      argmaxLabel(
        { pos: 0.5, neg: 0.5 },
        sentiment.labels.map((l) => l.name),
      ),
    ).toBe('neg');
  });
});

describe('label answers', () => {
  it('takes one of the labels', () => {
    expect(labelKind.answer(sentiment, 'neu')).toEqual({ ok: true, value: 'neu' });
  });

  it.each([['spam'], ['Pos'], [''], [2], [['pos']], [null]])('refuses %j', (raw) => {
    expect(labelKind.answer(sentiment, raw).ok).toBe(false);
  });
});

describe('label consensus', () => {
  it.each([
    // answers, threshold, decision
    [['pos'], 0.6, { decided: true, value: 'pos', agreement: 1 }],
    [['pos', 'pos', 'neg'], 0.6, { decided: true, value: 'pos', agreement: 2 / 3 }],
    [['pos', 'pos', 'neg'], 2 / 3, { decided: true, value: 'pos', agreement: 2 / 3 }], // at the threshold agrees
    [['pos', 'pos', 'neg'], 0.7, { decided: false, agreement: 2 / 3 }],
    [['pos', 'neg'], 0.5, { decided: false, agreement: 0.5 }], // a tie never decides
    [['pos', 'pos', 'neg', 'neg', 'neu'], 0.3, { decided: false, agreement: 0.4 }], // tied at the top, 2 of 5 each
    [['neu', 'pos', 'pos', 'neg', 'neu', 'pos'], 0.5, { decided: true, value: 'pos', agreement: 0.5 }], // 3 of 6, second has 2
    [[], 0, { decided: false, agreement: 0 }],
  ])('%j at %f → %j', (answers, threshold, decision) => {
    expect(labelKind.consensus(sentiment, answers, threshold)).toEqual(decision);
  });

  it('measures agreement by nominal α and exports the label index and name', () => {
    expect(labelKind.agreement(sentiment)).toEqual({ kind: 'alpha', distance: 'nominal' });
    const [index, name] = labelKind.columns(sentiment);
    expect([index.name, index.type, index.list, index.domain, index.values('pos')]).toEqual(['sentiment', 'int', false, { min: 0, max: 2 }, [2]]);
    expect([name.name, name.type, name.list, name.values('pos')]).toEqual(['sentiment_name', 'bytes', false, ['pos']]);
  });
});

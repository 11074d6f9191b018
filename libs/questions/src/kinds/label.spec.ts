import { LabelQuestion } from '../definitions';
import { argmaxLabel, checkScores, labelKind } from './label';

const sentiment = LabelQuestion.parse({ name: 'sentiment', kind: 'label', labels: [{ name: 'neg' }, { name: 'neu' }, { name: 'pos' }] });

describe('label suggestions', () => {
  it('takes class scores summing to 1 (within 0.001), a label, or both', () => {
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

import { MultiLabelQuestion } from '../definitions';
import { MULTI_LABEL_CUTOFF, multiLabelKind } from './multi-label';

const topics = MultiLabelQuestion.parse({
  name: 'topics',
  kind: 'multi_label',
  labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'science' }],
});

describe('multi-label suggestions', () => {
  it('takes independent scores (no sum to 1) and a label list, put in the question order', () => {
    expect(multiLabelKind.suggestion(topics, { scores: { sports: 0.9, politics: 0.8 } })).toEqual({
      ok: true,
      value: { scores: { sports: 0.9, politics: 0.8 } },
    });
    expect(multiLabelKind.suggestion(topics, { value: ['science', 'sports'] })).toEqual({ ok: true, value: { value: ['sports', 'science'] } });
  });

  it.each([
    ['an unknown label in the value', { value: ['sports', 'art'] }, ['value', 1]],
    ['a label listed twice in the value', { value: ['sports', 'sports'] }, ['value', 1]],
    ['a score below 0', { scores: { science: -0.1 } }, ['scores', 'science']],
    ['neither scores nor value', {}, []],
  ])('refuses %s', (_what, raw, path) => {
    const checked = multiLabelKind.suggestion(topics, raw);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });
});

describe('multi-label uncertainty', () => {
  // H(p) = −p log₂ p − (1 − p) log₂(1 − p), in bits
  // H(0.98) = H(0.02) = 0.02 · log₂ 50 + 0.98 · log₂(1/0.98) = 0.112877 + 0.028563 = 0.141441
  // H(0.97) = 0.03 · log₂(100/3) + 0.97 · log₂(1/0.97) = 0.151767 + 0.042625 = 0.194392
  const sure = { scores: { sports: 0.98, politics: 0.02, science: 0.97 } };
  // H(0.5) = 1; H(0.45) = H(0.55) = 0.518401 + 0.474373 = 0.992774
  const unsure = { scores: { sports: 0.5, politics: 0.45, science: 0.55 } };

  it('entropy is the mean binary entropy over the labels scored', () => {
    // (0.141441 + 0.141441 + 0.194392) / 3 = 0.159091
    expect(multiLabelKind.uncertainty(topics, sure, 'entropy')).toBeCloseTo(0.159091, 6);
    // (1 + 0.992774 + 0.992774) / 3 = 0.995183
    expect(multiLabelKind.uncertainty(topics, unsure, 'entropy')).toBeCloseTo(0.995183, 6);
  });

  it('max_entropy is the largest binary entropy', () => {
    expect(multiLabelKind.uncertainty(topics, sure, 'max_entropy')).toBeCloseTo(0.194392, 6);
    expect(multiLabelKind.uncertainty(topics, unsure, 'max_entropy')).toBe(1);
  });

  it('least confidence and margin read the label closest to ½: max of 1 − |2p − 1|', () => {
    // 1 − |2·0.98 − 1| = 0.04, 1 − |2·0.02 − 1| = 0.04, 1 − |2·0.97 − 1| = 0.06
    expect(multiLabelKind.uncertainty(topics, sure, 'least_confidence')).toBeCloseTo(0.06, 12);
    expect(multiLabelKind.uncertainty(topics, sure, 'margin')).toBeCloseTo(0.06, 12);
    expect(multiLabelKind.uncertainty(topics, unsure, 'margin')).toBe(1);
  });

  it('averages over the labels scored only, and is 0 without scores', () => {
    // one label scored at 0.98: H = 0.1414405, not diluted by the two unscored labels
    expect(multiLabelKind.uncertainty(topics, { scores: { sports: 0.98 } }, 'entropy')).toBeCloseTo(0.1414405, 6);
    expect(multiLabelKind.uncertainty(topics, { value: ['sports'] }, 'entropy')).toBe(0);
    // certain scores (0 and 1) have no entropy
    expect(multiLabelKind.uncertainty(topics, { scores: { sports: 1, politics: 0 } }, 'entropy')).toBe(0);
  });

  it('confidence is the mean of max(p, 1 − p)', () => {
    // (0.98 + 0.98 + 0.97) / 3 = 0.976667
    expect(multiLabelKind.confidence(topics, sure)).toBeCloseTo(2.93 / 3, 12);
    expect(multiLabelKind.confidence(topics, { value: [] })).toBe(1);
  });

  it(`predicts the labels scored at least ${MULTI_LABEL_CUTOFF}, in the question's order`, () => {
    expect(multiLabelKind.predicted(topics, { scores: { science: 0.5, politics: 0.49, sports: 0.97 } })).toEqual(['sports', 'science']);
    expect(multiLabelKind.predicted(topics, { scores: { science: 0.9 }, value: ['politics'] })).toEqual(['politics']);
  });
});

describe('multi-label answers', () => {
  it('takes a label list, returned in the question order; an empty list means none applies', () => {
    expect(multiLabelKind.answer(topics, ['science', 'sports'])).toEqual({ ok: true, value: ['sports', 'science'] });
    expect(multiLabelKind.answer(topics, [])).toEqual({ ok: true, value: [] });
  });

  it.each([
    [['sports', 'art'], [1]],
    [['sports', 'politics', 'sports'], [2]],
    [['sports', 3], [1]],
    ['sports', []],
    [{ sports: true }, []],
  ])('refuses %j at %j', (raw, path) => {
    const checked = multiLabelKind.answer(topics, raw);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });
});

describe('multi-label consensus', () => {
  it.each([
    // sports 3/3 in; politics 1/3 in → out by 2/3; science 1/3 in → out by 2/3: agreement min = 2/3
    [[['sports', 'politics'], ['sports'], ['sports', 'science']], 0.6, { decided: true, value: ['sports'], agreement: 2 / 3 }],
    [[['sports', 'politics'], ['sports'], ['sports', 'science']], 0.7, { decided: false, agreement: 2 / 3 }],
    // two raters split on politics (1 of 2): no majority there, whatever the threshold
    [[['sports', 'politics'], ['sports']], 0.5, { decided: false, agreement: 0.5 }],
    [[['sports', 'politics'], ['sports']], 0, { decided: false, agreement: 0.5 }],
    // nobody chose anything: unanimous about every label
    [[[], [], []], 1, { decided: true, value: [], agreement: 1 }],
    // science 3/4, sports 3/4 in, politics 0/4: the value in the question's order
    [[['science', 'sports'], ['sports', 'science'], ['science'], ['sports']], 0.75, { decided: true, value: ['sports', 'science'], agreement: 0.75 }],
    [[['politics']], 1, { decided: true, value: ['politics'], agreement: 1 }],
    [[], 0, { decided: false, agreement: 0 }],
  ])('%j at %f → %j', (answers, threshold, decision) => {
    expect(multiLabelKind.consensus(topics, answers, threshold)).toEqual(decision);
  });

  it('measures agreement by MASI α and exports sorted indexes and a multi-hot vector', () => {
    expect(multiLabelKind.agreement(topics)).toEqual({ kind: 'alpha', distance: 'masi' });
    const [indexes, multiHot] = multiLabelKind.columns(topics);
    expect([indexes.name, indexes.type, indexes.list, indexes.domain]).toEqual(['topics', 'int', true, { min: 0, max: 2 }]);
    expect(indexes.values(['science', 'sports'])).toEqual([0, 2]);
    expect(indexes.values([])).toEqual([]);
    expect([multiHot.name, multiHot.type, multiHot.list, multiHot.values(['science', 'sports'])]).toEqual(['topics_multi_hot', 'int', true, [1, 0, 1]]);
  });
});

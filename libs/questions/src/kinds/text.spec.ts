import { TextQuestion } from '../definitions';
import { textKind, trimText } from './text';

const caption = TextQuestion.parse({ name: 'caption', kind: 'text', maxLength: 12 });
const note = TextQuestion.parse({ name: 'note', kind: 'text', required: false });

describe('text suggestions', () => {
  it('takes a text with a confidence or a mean log-probability', () => {
    expect(textKind.suggestion(caption, { value: 'a cat', confidence: 0.8 })).toEqual({ ok: true, value: { value: 'a cat', confidence: 0.8 } });
    expect(textKind.suggestion(caption, { value: 'a cat', meanLogProb: -0.5 })).toEqual({ ok: true, value: { value: 'a cat', meanLogProb: -0.5 } });
  });

  it.each([
    ['a text past maxLength', { value: 'a cat on a mat' }, ['value']],
    ['a confidence above 1', { value: 'a cat', confidence: 1.2 }, ['confidence']],
    ['a positive log-probability', { value: 'a cat', meanLogProb: 0.1 }, ['meanLogProb']],
    ['a number for a text', { value: 3 }, ['value']],
    ['an unknown key', { value: 'a cat', tokens: 2 }, ['tokens']],
  ])('refuses %s', (_what, raw, path) => {
    const checked = textKind.suggestion(caption, raw);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });
});

describe('text uncertainty', () => {
  it('is 1 − the confidence sent', () => {
    expect(textKind.uncertainty(caption, { value: 'x', confidence: 0.8 }, 'entropy')).toBeCloseTo(0.2, 12);
    expect(textKind.confidence(caption, { value: 'x', confidence: 0.8 })).toBe(0.8);
  });

  it('is 1 − exp(meanLogProb), the geometric mean token probability, when no confidence came', () => {
    // exp(−0.5) = 0.6065307
    expect(textKind.confidence(caption, { value: 'x', meanLogProb: -0.5 })).toBeCloseTo(0.6065307, 7);
    expect(textKind.uncertainty(caption, { value: 'x', meanLogProb: -0.5 }, 'entropy')).toBeCloseTo(0.3934693, 7);
    expect(textKind.uncertainty(caption, { value: 'x', meanLogProb: 0 }, 'entropy')).toBe(0);
  });

  it('prefers the confidence to the log-probability, and is 0 when the model said neither', () => {
    expect(textKind.uncertainty(caption, { value: 'x', confidence: 0.9, meanLogProb: -3 }, 'entropy')).toBeCloseTo(0.1, 12);
    expect(textKind.uncertainty(caption, { value: 'x' }, 'entropy')).toBe(0);
    expect(textKind.predicted(caption, { value: 'x', confidence: 0.1 })).toBe('x');
  });
});

describe('text answers', () => {
  it('takes a text up to maxLength, kept as written (not trimmed)', () => {
    expect(textKind.answer(caption, ' a cat ')).toEqual({ ok: true, value: ' a cat ' });
    expect(textKind.answer(caption, 'x'.repeat(12)).ok).toBe(true);
  });

  it('refuses a text past maxLength, a non-string, and a blank answer to a required question', () => {
    expect(textKind.answer(caption, 'x'.repeat(13))).toEqual({ ok: false, issue: { path: [], message: 'at most 12 characters' } });
    expect(textKind.answer(caption, 12)).toEqual({ ok: false, issue: { path: [], message: 'a string' } });
    expect(textKind.answer(caption, ' \t\n\r ')).toEqual({ ok: false, issue: { path: [], message: 'an answer is required: the text is empty' } });
    expect(textKind.answer(note, ' \t\n')).toEqual({ ok: true, value: ' \t\n' });
  });
});

describe('text consensus', () => {
  it.each([
    // trimmed, "  Paris\n" is "Paris": 2 of 3
    [['  Paris\n', 'Paris', 'Lyon'], 0.6, { decided: true, value: 'Paris', agreement: 2 / 3 }],
    [['\tParis \r\n', 'Paris'], 1, { decided: true, value: 'Paris', agreement: 1 }],
    [['Paris', 'Lyon'], 0, { decided: false, agreement: 0.5 }],
    // only the ends are trimmed, and matching is exact otherwise
    [['New  York', 'New York'], 0, { decided: false, agreement: 0.5 }],
    [['Paris', 'paris'], 0, { decided: false, agreement: 0.5 }],
    // a no-break space is not one of the characters trimmed (the SQL trims the same four)
    [['Paris\u00a0', 'Paris', 'Paris\u00a0'], 0.6, { decided: true, value: 'Paris\u00a0', agreement: 2 / 3 }],
    [['Paris', 'Lyon', 'Nice'], 0, { decided: false, agreement: 1 / 3 }],
    // one rater asked: the lone answer stands
    [[' Paris '], 1, { decided: true, value: 'Paris', agreement: 1 }],
    [['Paris', 'Paris', 'Lyon'], 0.7, { decided: false, agreement: 2 / 3 }],
    [[], 0, { decided: false, agreement: 0 }],
  ])('%j at %f → %j', (answers, threshold, decision) => {
    expect(textKind.consensus(caption, answers, threshold)).toEqual(decision);
  });

  it('trims spaces, tabs and line ends only', () => {
    expect(trimText(' \t\r\n a b \n\t')).toBe('a b');
    expect(trimText('\u00a0a\u2003')).toBe('\u00a0a\u2003');
  });

  it('measures agreement by nominal α and exports the text as bytes', () => {
    expect(textKind.agreement(caption)).toEqual({ kind: 'alpha', distance: 'nominal' });
    expect(textKind.columns(caption).map((c) => [c.name, c.type, c.list, c.values('a cat')])).toEqual([['caption', 'bytes', false, ['a cat']]]);
  });
});

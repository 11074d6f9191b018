import { decideConsensus, maskInput } from './consensus';

describe('consensus', () => {
  const rules = { agreementThreshold: 0.6, maxAnnotations: 4 };
  it.each([
    [['ham'], { kind: 'agreed', label: 'ham', agreement: 1 }],
    [['ham', 'ham', 'spam'], { kind: 'agreed', label: 'ham', agreement: 2 / 3 }],
    [['ham', 'spam'], { kind: 'escalate', agreement: 0.5 }],
    [['ham', 'spam', 'promo'], { kind: 'escalate', agreement: 1 / 3 }],
    [['ham', 'ham', 'spam', 'spam'], { kind: 'review', agreement: 0.5 }],
    [['ham', 'spam', 'promo', 'ham'], { kind: 'review', agreement: 0.5 }],
  ])('%j → %j', (labels, expected) => {
    expect(decideConsensus(labels, rules)).toEqual(expected);
  });

  it('does not escalate past the maximum', () => {
    expect(decideConsensus(['a', 'b'], { agreementThreshold: 0.6, maxAnnotations: 2 }).kind).toBe('review');
  });
});

describe('maskInput', () => {
  it.each([
    [{ a: 1, secret: 's' }, ['secret'], { a: 1 }],
    [{ user: { email: 'e', age: 3 } }, ['user.email'], { user: { age: 3 } }],
    [{ a: 1 }, ['missing.deep.path', 'a.b'], { a: 1 }],
    [{ a: 1 }, [], { a: 1 }],
  ])('%j without %j is %j', (input, fields, expected) => {
    const before = JSON.stringify(input);
    expect(maskInput(input, fields)).toEqual(expected);
    expect(JSON.stringify(input)).toBe(before);
  });
});

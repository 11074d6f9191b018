import { decideConsensus } from './consensus';

describe('decideConsensus', () => {
  const rules = { agreementThreshold: 0.6, maxAnnotations: 4 };
  it.each([
    [['ham'], { kind: 'agreed', label: 'ham', agreement: 1 }],
    [['ham', 'ham', 'spam'], { kind: 'agreed', label: 'ham', agreement: 2 / 3 }],
    [['ham', 'spam'], { kind: 'escalate', agreement: 0.5 }],
    [['ham', 'spam', 'promo'], { kind: 'escalate', agreement: 1 / 3 }],
    [['ham', 'ham', 'spam', 'spam'], { kind: 'review', agreement: 0.5 }],
    [['ham', 'spam', 'promo', 'ham'], { kind: 'review', agreement: 0.5 }],
    [[], { kind: 'escalate', agreement: 0 }],
  ])('%j → %j', (labels, expected) => {
    expect(decideConsensus(labels, rules)).toEqual(expected);
  });

  it.each([
    ['does not escalate past the maximum', ['a', 'b'], { agreementThreshold: 0.6, maxAnnotations: 2 }, 'review'],
    ['a share exactly at the threshold agrees', ['a', 'a', 'b'], { agreementThreshold: 2 / 3, maxAnnotations: 3 }, 'agreed'],
    ['a tie never agrees, even under a low threshold', ['a', 'a', 'b', 'b', 'c'], { agreementThreshold: 0.3, maxAnnotations: 5 }, 'review'],
  ])('%s', (_name, labels, rules, kind) => {
    expect(decideConsensus(labels, rules).kind).toBe(kind);
  });
});

import { editDistance, normalizedEditDistance, selfConsistency, textSimilarity, tokenUncertainty, words } from './text';

describe('text signals of generated responses', () => {
  it('counts edits in code points, symmetric, stopping early past a limit', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('sitting', 'kitten')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    // an emoji is one code point, not two UTF-16 units
    expect(editDistance('run 😀', 'run 😃')).toBe(1);
    expect(editDistance('a'.repeat(50), 'b'.repeat(50), 5)).toBe(6);
    expect(normalizedEditDistance('kitten', 'sitting')).toBeCloseTo(3 / 7, 12);
    expect(normalizedEditDistance('', '')).toBe(0);
  });

  it('agrees with the quadratic table on random texts of many alphabets, past 32 and 64 code points', () => {
    // the textbook recurrence, in code points
    const table = (a: string, b: string) => {
      const x = Array.from(a);
      const y = Array.from(b);
      let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
      for (let i = 1; i <= x.length; i++) {
        const current = [i];
        for (let j = 1; j <= y.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        previous = current;
      }
      return previous[y.length];
    };
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabets = [
      ['a', 'b'],
      ['a', 'b', 'c', 'd', 'e'],
      ['r', 'u', 'n', '😀', '🏃', 'é', ' '],
    ];
    for (let trial = 0; trial < 200; trial++) {
      const alphabet = alphabets[trial % alphabets.length];
      const text = () => Array.from({ length: Math.floor(next() * 140) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      const a = text();
      const b = text();
      expect(editDistance(a, b)).toBe(table(a, b));
    }
  });

  it('compares texts by their words, repeats counted, any script', () => {
    expect(words('Run 5 km, then RUN again — Zürich!')).toEqual(['run', '5', 'km', 'then', 'run', 'again', 'zürich']);
    expect(textSimilarity('the cat sat', 'The cat sat.')).toBe(1);
    // {the, cat, sat} against {the, dog, sat}: 2 shared of 4
    expect(textSimilarity('the cat sat', 'the dog sat')).toBeCloseTo(2 / 4, 12);
    // a repeat counts: {a×2, b} against {a, b}: 2 of 3
    expect(textSimilarity('a a b', 'a b')).toBeCloseTo(2 / 3, 12);
    expect(textSimilarity('', '...')).toBe(1);
    expect(textSimilarity('yes', '')).toBe(0);
  });

  it('measures self-consistency over every pair of samples', () => {
    expect(selfConsistency(['only one'])).toBeUndefined();
    const agreeing = selfConsistency(['Paris is the capital', 'The capital is Paris', 'paris is the capital!'])!;
    expect(agreeing).toEqual({ mean: 1, min: 1, pairs: 3 });
    const split = selfConsistency(['Paris is the capital', 'Lyon is the capital', 'Paris is the capital'])!;
    // two pairs share 3 of 5 words, one pair all 4
    expect(split.pairs).toBe(3);
    expect(split.min).toBeCloseTo(3 / 5, 12);
    expect(split.mean).toBeCloseTo((3 / 5 + 3 / 5 + 1) / 3, 12);
  });

  it('reads uncertainty from token log-probabilities', () => {
    expect(tokenUncertainty([])).toBeUndefined();
    const sure = tokenUncertainty([{ logprob: Math.log(0.9) }, { logprob: Math.log(0.8) }])!;
    expect(sure.meanLogprob).toBeCloseTo((Math.log(0.9) + Math.log(0.8)) / 2, 12);
    expect(sure.perplexity).toBeCloseTo(1 / Math.sqrt(0.72), 12);
    expect(sure.meanEntropy).toBeNull();
    // two equally likely alternatives: ln 2 nats; one certain: 0
    const split = tokenUncertainty([
      { logprob: Math.log(0.5), top: [Math.log(0.5), Math.log(0.5)] },
      { logprob: 0, top: [0] },
    ])!;
    expect(split.meanEntropy).toBeCloseTo(Math.log(2) / 2, 12);
  });
});

import { normalCdf } from '@backflow/drift';
import { binaryEntropy, codePointLength, lowerMedian, numberSuggestion, numberUncertainty } from './shared';

describe('binaryEntropy', () => {
  it.each([
    [0.5, 1],
    [0, 0],
    [1, 0],
    // −(0.25 log₂ 0.25 + 0.75 log₂ 0.75) = 0.5 + 0.311278
    [0.25, 0.811278],
    [0.75, 0.811278],
    // outside [0, 1] or not a number: clamped, then certain
    [1.2, 0],
    [-0.3, 0],
    [NaN, 0],
  ])('H(%f) = %f bits', (p, bits) => {
    expect(binaryEntropy(p)).toBeCloseTo(bits, 6);
  });
});

describe('normalCdf', () => {
  it.each([
    [0, 0.5],
    [1, 0.8413447],
    [-1, 0.1586553],
    [1.959963984540054, 0.975],
    [-3, 0.0013499],
    [8, 1],
  ])('Φ(%f) = %f', (z, p) => {
    expect(normalCdf(z)).toBeCloseTo(p, 6);
  });
});

describe('numberUncertainty', () => {
  it('is the width over the scale, or 0 for a scale of 0', () => {
    expect(numberUncertainty({ value: 5, interval: [4, 6] }, 8)).toBe(0.25);
    expect(numberUncertainty({ value: 5, interval: [4, 6] }, 0)).toBe(0);
  });

  it('checks a number suggestion key by key', () => {
    expect(numberSuggestion({ value: 1, interval: [0, Infinity] }, () => undefined)).toMatchObject({ ok: false, issue: { path: ['interval'] } });
    expect(numberSuggestion({ value: 1 }, () => 'too small')).toEqual({ ok: false, issue: { path: ['value'], message: 'too small' } });
  });
});

describe('lowerMedian', () => {
  it.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2], // the lower of the middle two, never their mean
    // sorted as numbers, not as text ("10" < "9")
    [[10, 9], 9],
    [[-1, -20, 3], -1],
    [[7], 7],
  ])('of %j is %d', (values, median) => {
    expect(lowerMedian(values)).toBe(median);
  });

  it('leaves its input in order', () => {
    const values = [3, 1, 2];
    lowerMedian(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('codePointLength', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['a😀b', 3], // one surrogate pair
    ['😀😀', 2],
    ['e\u0301', 2], // a combining accent is a code point of its own
    ['\ud83d', 1], // a lone high surrogate
    ['\ude00a', 2], // a lone low surrogate
  ])('of %j is %d', (text, length) => {
    expect(codePointLength(text)).toBe(length);
    expect(codePointLength(text)).toBe([...text].length);
  });
});

import { parseExactJson } from './exact-json';

describe('jsonb read exactly', () => {
  it.each<[string, string, unknown]>([
    ['an integer past 2^53 keeps its digits', '{"a": 9007199254740993}', { a: 9007199254740993n }],
    [
      'in a list and a nested object',
      '{"a": [1, -9223372036854775808], "b": {"c": 123456789012345678901234567890}}',
      { a: [1, -(2n ** 63n)], b: { c: 123456789012345678901234567890n } },
    ],
    ['a whole number written with a scale too', '{"a": 9007199254740993.0}', { a: 9007199254740993n }],
    ['a safe integer of 16 digits stays a number', '{"a": 9007199254740991}', { a: 9007199254740991 }],
    ['a long fraction stays a double', '{"a": 0.99000000000000000000}', { a: 0.99 }],
    ['digits inside a string stay text', '{"a": "12345678901234567890"}', { a: '12345678901234567890' }],
  ])('%s', (_name, text, value) => {
    expect(parseExactJson(text)).toEqual(value);
  });
});

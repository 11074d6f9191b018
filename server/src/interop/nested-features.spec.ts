import { flattenFeatures, MAX_NESTING } from './nested-features';

describe('flattenFeatures', () => {
  it.each([
    ['a flat record, as it is', { text: 'x', stars: 3, tags: ['a', 'b'], ok: true }, { text: 'x', stars: 3, tags: ['a', 'b'], ok: true }],
    [
      'nested objects, by dotted path, typed as they are',
      { text: 'x', meta: { user: { age: 41, vip: false }, source: 'app' } },
      { text: 'x', 'meta.user.age': 41, 'meta.user.vip': false, 'meta.source': 'app' },
    ],
    [
      'a list of objects, as its JSON text',
      {
        dialogue: [
          { author: 'A', text: 'hi' },
          { author: 'B', text: 'yo' },
        ],
      },
      { dialogue: '[{"author":"A","text":"hi"},{"author":"B","text":"yo"}]' },
    ],
    [
      'a list of lists, as its JSON text',
      {
        pixels: [
          [1, 2],
          [3, 4],
        ],
      },
      { pixels: '[[1,2],[3,4]]' },
    ],
    ['an empty object, as no feature', { text: 'x', meta: {} }, { text: 'x' }],
    ['a key with dots, as it is', { 'meta.user.age': 41 }, { 'meta.user.age': 41 }],
    ['null, left to the ingestion rules', { gone: null }, { gone: null }],
  ])('%s', (_name, record, expected) => {
    expect(flattenFeatures(record, '0.data')).toEqual(expected);
  });

  it('keeps a "__proto__" key as a feature, never as the prototype', () => {
    const features = flattenFeatures(JSON.parse('{"__proto__": {"polluted": 1}}'), 'data');
    expect(Object.getPrototypeOf(features)).toBe(Object.prototype);
    expect(features).toEqual({ '__proto__.polluted': 1 });
  });

  it('refuses two fields that name one feature, naming the second', () => {
    expect(() => flattenFeatures({ 'a.b': 1, a: { b: 2 } }, '3.data')).toThrow(
      expect.objectContaining({ code: 'interop/feature_collision', field: '3.data.a.b' }),
    );
    expect(() => flattenFeatures({ a: { b: 2 }, 'a.b': 1 }, '3.data')).toThrow(
      expect.objectContaining({ code: 'interop/feature_collision', field: '3.data.a.b' }),
    );
  });

  it(`refuses objects or lists nested more than ${MAX_NESTING} levels`, () => {
    const deep = (levels: number, leaf: unknown): unknown => (levels === 0 ? leaf : { n: deep(levels - 1, leaf) });
    expect(Object.keys(flattenFeatures(deep(MAX_NESTING, 1) as Record<string, unknown>, 'data'))).toEqual([Array(MAX_NESTING).fill('n').join('.')]);
    expect(() => flattenFeatures(deep(MAX_NESTING + 1, 1) as Record<string, unknown>, 'data')).toThrow(
      expect.objectContaining({ code: 'interop/invalid_payload' }),
    );
    let list: unknown = [1];
    for (let i = 0; i < 10_000; i++) list = [list];
    expect(() => flattenFeatures({ list }, 'data')).toThrow(expect.objectContaining({ code: 'interop/invalid_payload', field: 'data.list' }));
  });
});

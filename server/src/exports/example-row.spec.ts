import { legacyQuestions } from '@backflow/questions';
import { ExportColumns } from './fixed-columns';
import {
  FeatureInference,
  featureValues,
  fitsOf,
  FITS_BYTES,
  FITS_FLOAT,
  FITS_INT,
  jsonText,
  schemaText,
  typeOfFits,
  ValueTally,
  type FeatureType,
} from './example-row';

describe('feature types: the narrowest type every value fits exactly', () => {
  it.each<[string, unknown, number]>([
    ['a safe integer', 3, FITS_INT | FITS_FLOAT | FITS_BYTES],
    ['a boolean', true, FITS_INT | FITS_FLOAT | FITS_BYTES],
    ['a fraction', 1.25, FITS_FLOAT | FITS_BYTES],
    ['2^53 + 1 (not a double)', 2n ** 53n + 1n, FITS_INT | FITS_BYTES],
    ['2^60 (past 2^53: an int only, even where a double holds it)', 2n ** 60n, FITS_INT | FITS_BYTES],
    ['2^64 (past int64)', 2n ** 64n, FITS_BYTES],
    ['a string', '3', FITS_BYTES],
    ['an object', { a: 1 }, FITS_BYTES],
  ])('%s', (_name, value, fits) => {
    expect(fitsOf(value)).toBe(fits);
  });

  it.each<[string, Array<Record<string, unknown>>, Record<string, FeatureType>]>([
    ['a fraction after a whole number in a list', [{ x: [3, 1.25] }], { x: 'float' }],
    ['a fraction in a later row', [{ x: 3 }, { x: [4, 5] }, { x: 0.5 }], { x: 'float' }],
    ['booleans and integers', [{ x: true }, { x: 7 }], { x: 'int' }],
    ['strings and numbers', [{ x: ['a', 3] }], { x: 'bytes' }],
    ['an integer past 2^53 beside a fraction', [{ x: 2n ** 53n + 1n }, { x: 0.5 }], { x: 'bytes' }],
    ['an integer past 2^53 alone', [{ x: 2n ** 53n + 1n }, { x: 2 }], { x: 'int' }],
    ['an integer past int64', [{ x: 2n ** 64n }, { x: 2 }], { x: 'bytes' }],
    ['an empty list', [{ x: [] }], { x: 'bytes' }],
    ['nothing but nulls', [{ x: null }, { x: [null] }], { x: 'bytes' }],
    ['nested lists', [{ x: [[1], [2]] }], { x: 'bytes' }],
  ])('%s', (_name, inputs, types) => {
    const inference = new FeatureInference();
    for (const input of inputs) inference.add(input);
    expect(Object.fromEntries(inference.features().map((f) => [f.name, f.type]))).toEqual(types);
  });

  it('writes exactly the values the inference says fit', () => {
    const values = [
      0,
      -3,
      2 ** 53 - 1,
      2 ** 53,
      1.25,
      0.1,
      1e300,
      true,
      false,
      2n ** 53n + 1n,
      2n ** 60n,
      -(2n ** 63n),
      2n ** 63n,
      2n ** 64n,
      2n ** 64n + 1n,
      '7',
      'text',
      { a: 1 },
    ];
    for (const value of values) {
      for (const [type, bit] of [
        ['int', FITS_INT],
        ['float', FITS_FLOAT],
        ['bytes', FITS_BYTES],
      ] as const) {
        // a declared float feature also takes a whole number past 2^53 that is exactly a double (ingest accepts 1e20 there); inference never picks float for one
        const declaredFloatTakes = type === 'float' && typeof value === 'bigint' && BigInt(Number(value)) === value;
        expect([value, type, featureValues(value, type, new ValueTally(1), 0).length]).toEqual([
          value,
          type,
          declaredFloatTakes || fitsOf(value) & bit ? 1 : 0,
        ]);
      }
    }
    expect(typeOfFits(FITS_BYTES)).toBe('bytes');
  });
});

describe('feature values: exact or left out and counted, never rounded', () => {
  it.each<[string, unknown, FeatureType, unknown[], Partial<Record<'notFitting' | 'nullInList' | 'float32Inexact', number>>]>([
    ['an int stays an int', 3, 'int', [3], {}],
    ['a fraction is not rounded into an int', 1.5, 'int', [], { notFitting: 1 }],
    ['a bigint int64 keeps its digits', 2n ** 53n + 1n, 'int', [2n ** 53n + 1n], {}],
    ['past int64 does not fit an int', 2n ** 64n, 'int', [], { notFitting: 1 }],
    ['a string does not fit a float', 'high', 'float', [], { notFitting: 1 }],
    ['a float32 changes 0.1', 0.1, 'float', [0.1], { float32Inexact: 1 }],
    ['a float32 keeps 0.5', 0.5, 'float', [0.5], {}],
    ['a list with a null', [2, null, 3], 'int', [2, 3], { nullInList: 1 }],
    ['a number as bytes is its text', [1.25, 2n ** 64n + 1n], 'bytes', ['1.25', '18446744073709551617'], {}],
    ['an object as bytes is its JSON, bigints as digits', { id: 2n ** 53n + 1n }, 'bytes', ['{"id":9007199254740993}'], {}],
    ['a boolean as an int', false, 'int', [0], {}],
  ])('%s', (_name, value, type, values, counts) => {
    const tally = new ValueTally(1);
    expect(featureValues(value, type, tally, 0)).toEqual(values);
    expect({ notFitting: tally.notFitting[0], nullInList: tally.nullInList[0], float32Inexact: tally.float32Inexact[0] }).toEqual({
      notFitting: 0,
      nullInList: 0,
      float32Inexact: 0,
      ...counts,
    });
  });

  it('writes JSON with bigints as their digits', () => {
    expect(jsonText({ a: [1, 2n ** 63n - 1n], b: 'x' })).toBe('{"a":[1,9223372036854775807],"b":"x"}');
    expect(jsonText({ a: 1.5 })).toBe('{"a":1.5}');
  });

  it('says in the schema which float features float32 changes', () => {
    const schema = schemaText(
      [
        { name: 'ratio', type: 'float' },
        { name: 'half', type: 'float' },
      ],
      new ExportColumns(legacyQuestions([{ name: 'a' }, { name: 'b' }]), 'label'),
      new Map([['ratio', 2]]),
    );
    expect(schema).toContain('# 2 values of "ratio" differ in float32 (TFRecord) from the stored double\nfeature {\n  name: "ratio"\n  type: FLOAT');
    expect(schema).not.toContain('of "half"');
  });
});

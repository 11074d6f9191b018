import { PassThrough } from 'node:stream';
import {
  areValuesClean,
  findJsonHazard,
  isUnstorableText,
  mayHoldPrototypeKeys,
  InexactInteger,
  mayHoldLongInteger,
  mayHoldUnderflow,
  mayHoldUnstorableText,
  parseKeepingUnderflows,
  reviveLostNumbers,
  screenJsonBody,
  UnderflowedNumber,
} from './json-hazards';

describe('mayHoldUnstorableText: the raw scan that decides whether values need checking', () => {
  it.each([
    ['a NUL escape', '{"t":"a\\u0000b"}', true],
    ['a lone high surrogate', '{"t":"a\\ud800"}', true],
    ['a lone high surrogate in capitals', '{"t":"a\\uD83D"}', true],
    ['a lone low surrogate', '{"t":"\\udc00b"}', true],
    ['a high surrogate followed by a non-surrogate escape', '{"t":"\\ud83d\\u0041"}', true],
    ['two high surrogates', '{"t":"\\ud83d\\ud83d\\ude00"}', true],
    ['a low surrogate after an escaped backslash', '{"t":"\\\\ud83d\\ude00"}', true],
    ['a pair at the very end of the text', '"\\ud83d\\ude00"', false],
    ['a well-formed pair (how Python sends an emoji)', '{"t":"\\ud83d\\ude00"}', false],
    ['other escapes', '{"t":"caf\\u00e9 \\u2028 \\n \\""}', false],
    ['an escaped backslash before u0000 (text, not an escape)', '{"t":"\\\\u0000"}', false],
    ['no escape at all', '{"t":"plain été 🙂"}', false],
    ['a truncated escape', '{"t":"\\ud8', false],
  ])('%s', (_name, text, expected) => {
    expect(mayHoldUnstorableText(text)).toBe(expected);
    expect(mayHoldUnstorableText(Buffer.from(text))).toBe(expected);
    // the scan never misses what the per-value check would find
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (findJsonHazard(parsed, { text: true })) expect(expected).toBe(true);
  });
});

describe('mayHoldPrototypeKeys: the raw scan that decides whether a body needs the poisoning check', () => {
  it.each([
    ['a __proto__ key', '[{"__proto__":{"x":1}}]'],
    ['a constructor key', '[{"constructor":{"prototype":{"x":1}}}]'],
    ['a key behind escapes', '[{"\\u005f_proto__":{"x":1}}]'],
    ['any escape, even in a value', '[{"text":"caf\\u00e9"}]'],
    ['a word that starts like __proto__ (the scan looks for the first seven bytes: it may flag more, never less)', '[{"__protocol":1}]'],
    ['a word that starts like constructor', '[{"text":"constrution"}]'],
  ])('flags %s', (_name, text) => {
    expect(mayHoldPrototypeKeys(Buffer.from(text))).toBe(true);
  });

  it('passes text with none, whatever else it holds', () => {
    expect(mayHoldPrototypeKeys(Buffer.from('[{"prototype":1,"proto":"__","text":"a \\"quoted\\" \\n line"}]'))).toBe(false);
  });
});

describe('isUnstorableText', () => {
  it.each([
    ['a\u0000', true],
    ['a\ud800', true],
    ['\udc00a', true],
    ['\udc00\ud800', true],
    ['🙂', false],
    ['\u202eevil', false],
    ['', false],
  ])('%j → %s', (text, expected) => expect(isUnstorableText(text)).toBe(expected));
});

describe('findJsonHazard', () => {
  it('names the field of a string or a key holding unstorable text', () => {
    expect(findJsonHazard({ input: { vec: ['ok', 'a\ud800'] } }, { text: true })).toMatchObject({ code: 'validation/invalid_text', field: 'input.vec.1' });
    expect(findJsonHazard({ metadata: { 'k\u0000': 1 } }, { text: true }, 'body')).toMatchObject({
      code: 'validation/invalid_text',
      field: 'body.metadata.k\u0000',
    });
    expect(findJsonHazard({ a: ['fine', { b: 'fine' }] }, { text: true })).toBeUndefined();
  });

  it('walks a value nested 100,000 deep without recursion, and stops at the limit', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}1${']'.repeat(100_000)}`);
    expect(findJsonHazard(deep, { text: true })).toBeUndefined();
    const hazard = findJsonHazard({ metadata: JSON.parse(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`) }, { maxDepth: 32 });
    expect(hazard?.code).toBe('validation/too_deep');
    expect(hazard?.field.split('.')).toHaveLength(32);
  });

  it('allows exactly the limit', () => {
    const nested = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    expect(findJsonHazard(nested(32), { maxDepth: 32 })).toBeUndefined();
    expect(findJsonHazard(nested(33), { maxDepth: 32 })?.code).toBe('validation/too_deep');
  });

  it('finds integral numbers past 2^53 − 1, and only those', () => {
    expect(findJsonHazard(JSON.parse('{"big":9007199254740993}'), { integers: true }, 'input')).toMatchObject({ code: 'unsafe_integer', field: 'input.big' });
    expect(findJsonHazard(JSON.parse('{"vec":[1,-9007199254740994]}'), { integers: true })).toMatchObject({ field: 'vec.1' });
    expect(findJsonHazard(JSON.parse('{"e":1e20}'), { integers: true })?.field).toBe('e');
    expect(findJsonHazard(JSON.parse('{"a":9007199254740991,"b":-9007199254740991,"c":1.5,"d":1e-300}'), { integers: true })).toBeUndefined();
  });
});

describe('screenJsonBody', () => {
  it('refuses a body with a hazard; on an item-validated route it only notes a clean body', () => {
    const raw = '{"name":"a\\ud800"}';
    expect(screenJsonBody(raw, JSON.parse(raw), false, false)).toMatchObject({ code: 'validation/invalid_text', field: 'name' });
    const body = JSON.parse(raw);
    expect(screenJsonBody(raw, body, true, false)).toBeUndefined();
    expect(areValuesClean(body)).toBe(false);
    const clean = [{ name: 'a' }];
    expect(screenJsonBody(JSON.stringify(clean), clean, true, false)).toBeUndefined();
    expect(areValuesClean(clean)).toBe(true);
    const deep = `{"a":${'['.repeat(40)}${']'.repeat(40)}}`;
    expect(screenJsonBody(deep, JSON.parse(deep), false, false)).toMatchObject({ code: 'validation/too_deep' });
  });

  it('refuses a number that underflowed; on an item-validated route a body that may hold one is not marked clean', () => {
    const raw = '{"input":{"tiny":1e-400}}';
    expect(screenJsonBody(raw, parseKeepingUnderflows(raw), false, true)).toMatchObject({ code: 'validation/number_underflow', field: 'input.tiny' });
    const items = parseKeepingUnderflows(`[${raw}]`);
    expect(screenJsonBody(`[${raw}]`, items, true, true)).toBeUndefined();
    expect(areValuesClean(items)).toBe(false);
  });
});

describe('numbers below the smallest double', () => {
  it.each([
    ['an exponent of three digits', '{"a":1e-400}', true],
    ['a capital E and a closing bracket', '[2.5E-330]', true],
    ['an exponent with leading zeros', '{"a":1e-0400 }', true],
    ['a number that ends the text', '7e-999', true],
    ['200 zeros after the point', `{"a":0.${'0'.repeat(400)}1}`, true],
    ['a two-digit exponent', '{"a":1e-99,"b":3E-12}', false],
    ['a UUID with an e- before four digits', '{"id":"1a2b3c4e-1234-4321-8e12-123456789012"}', false],
    ['an e- in text followed by digits and a letter', '{"t":"type-123abc"}', false],
    ['a large exponent', '{"a":1e+400}', false],
  ])('%s', (_name, text, expected) => {
    expect(mayHoldUnderflow(text)).toBe(expected);
    expect(mayHoldUnderflow(Buffer.from(text))).toBe(expected);
  });

  it('keeps a nonzero number that reads as 0 in its written form, and leaves every other number alone', () => {
    const value = parseKeepingUnderflows(`{"a":1e-400,"b":[0,-0.0,0e-400,0.000e5],"c":-2.5E-0330,"d":5e-324,"e":0.${'0'.repeat(400)}1}`) as Record<
      string,
      unknown
    >;
    expect(value.a).toEqual(new UnderflowedNumber('1e-400'));
    expect(value.b).toEqual([0, -0, 0, 0]);
    expect(value.c).toEqual(new UnderflowedNumber('-2.5E-0330'));
    expect(value.d).toBe(5e-324);
    expect(value.e).toBeInstanceOf(UnderflowedNumber);
  });

  it('names the field of the first one, whatever checks are asked for', () => {
    const value = parseKeepingUnderflows('{"input":{"vec":[1,2,1e-400]}}');
    const hazard = findJsonHazard(value, {});
    expect(hazard).toMatchObject({ code: 'validation/number_underflow', field: 'input.vec.2' });
    expect(hazard?.message).toMatch(/^input\.vec\.2: 1e-400 is not 0 but lies below the smallest double/);
  });
});

describe('findJsonHazard on what is not JSON', () => {
  it('walks no object that JSON.parse cannot make (an NDJSON body is a stream, with cycles)', () => {
    const stream = new PassThrough();
    (stream as unknown as { self: unknown }).self = stream;
    expect(findJsonHazard(stream, { text: true })).toBeUndefined();
    expect(findJsonHazard({ body: stream, name: 'a\u0000' }, { text: true })?.field).toBe('name');
  });
});

describe('integers a double changes', () => {
  it('looks for 16 digits in a row, in text or bytes', () => {
    expect(mayHoldLongInteger('{"a":9007199254740993}')).toBe(true);
    expect(mayHoldLongInteger(Buffer.from('{"a":[1234567890123456]}'))).toBe(true);
    expect(mayHoldLongInteger('{"a":900719925474099,"b":1.5e300}')).toBe(false);
  });

  it('keeps an integer the double changed as written, and every number a double holds as it is', () => {
    const value = JSON.parse(
      '{"a":9007199254740993,"b":-9007199254740995,"c":9007199254740992,"d":100000000000000000000,"e":12345678901234567.5,"f":1e400,"g":1e-400,"h":0}',
      reviveLostNumbers,
    ) as Record<string, unknown>;
    expect(value.a).toEqual(new InexactInteger('9007199254740993'));
    expect(value.b).toEqual(new InexactInteger('-9007199254740995'));
    expect([value.c, value.d, value.e, value.f, value.h]).toEqual([9007199254740992, 1e20, 12345678901234568, Infinity, 0]);
    expect(value.g).toBeInstanceOf(UnderflowedNumber);
    const { a } = value;
    expect(findJsonHazard({ a }, {}, 'body')).toMatchObject({ code: 'validation/unsafe_integer', field: 'body.a' });
    expect(findJsonHazard({ a }, {})?.message).toMatch(/9007199254740993 is beyond ±\(2\^53 − 1\) and would be kept as 9007199254740992/);
  });
});

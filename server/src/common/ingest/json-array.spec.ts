import { parseJsonArrayInSlices } from './json-array';

function item(i: number): Record<string, unknown> {
  return { id: i, model: { name: 'm', version: '1' }, input: { subject: `invoice ${i}`, tags: ['a', 'b'] }, scores: { ham: 0.7, spam: 0.3 } };
}
const many = (n: number, make: (i: number) => unknown = item) => Array.from({ length: n }, (_, i) => make(i));

/** Parses with JSON.parse and counts the slices. */
function slicedParse(body: Buffer | string): { items: unknown[] | undefined; slices: number } {
  let slices = 0;
  const items = parseJsonArrayInSlices(Buffer.isBuffer(body) ? body : Buffer.from(body), (text) => {
    slices++;
    return JSON.parse(text);
  });
  return { items, slices };
}

// Each body is either parsed in slices to exactly what JSON.parse makes of it whole, or left to the caller.
const bodies: Array<[string, string | Buffer]> = [
  ['a batch of predictions', JSON.stringify(many(2_000))],
  ['a batch with Python-style separators', JSON.stringify(many(2_000)).replaceAll('},{', '}, {')],
  ['a pretty-printed batch', JSON.stringify(many(1_000), null, 2)],
  ['whitespace around the array', ` \n\t${JSON.stringify(many(1_000))}\r\n `],
  ['strings that contain "},{"', JSON.stringify(many(2_000, (i) => ({ ...item(i), input: { text: '},{"id":1},{' } })))],
  ['strings that end in an escaped quote before "},{"', JSON.stringify(many(2_000, (i) => ({ ...item(i), input: { text: 'a\\"},{"b' } })))],
  ['objects nested in arrays', JSON.stringify(many(2_000, (i) => ({ ...item(i), metadata: { spans: [{ a: 1 }, { b: 2 }] } })))],
  ['multi-byte characters everywhere', JSON.stringify(many(2_000, (i) => ({ ...item(i), input: { text: `été ☃ 🚀 ${i}`, 日本: '語' } })))],
  ['an item of 100 kB', JSON.stringify([item(0), { ...item(1), input: { text: 'x'.repeat(100_000) } }, ...many(500)])],
  ['an array of numbers', JSON.stringify(many(50_000, (i) => i))],
  ['nested arrays', JSON.stringify(many(5_000, (i) => [i, { a: i }]))],
  ['an empty array', '[]'],
  ['an empty array with spaces', '[   ]'],
  ['one object', JSON.stringify([item(1)])],
  ['an object, not an array', JSON.stringify({ items: many(2_000) })],
  ['a trailing comma', `${JSON.stringify(many(2_000)).slice(0, -1)},]`],
  ['a missing comma', JSON.stringify(many(2_000)).replace('},{', '}{')],
  ['an empty item', JSON.stringify(many(2_000)).replace('},{', '},,{')],
  ['a truncated body', JSON.stringify(many(2_000)).slice(0, -40)],
  ['a closing bracket too many', `${JSON.stringify(many(2_000))}]`],
  ['text after the array', `${JSON.stringify(many(2_000))} x`],
  ['a byte-order mark', `\ufeff${JSON.stringify(many(2_000))}`],
  ['an unterminated string in the middle', JSON.stringify(many(2_000)).replace('"invoice 1000"', '"invoice 1000')],
  [
    'invalid UTF-8 inside strings',
    Buffer.concat([
      Buffer.from('['),
      ...many(2_000).flatMap((v, i) => [
        Buffer.from(i ? ',' : ''),
        Buffer.from(JSON.stringify(v).replace('invoice', 'inv\u0001oice')).map((b) => (b === 1 ? 0xe2 : b)),
      ]),
      Buffer.from(']'),
    ]),
  ],
  ['an empty body', ''],
  ['only whitespace', '   '],
];

describe('parseJsonArrayInSlices', () => {
  it.each(bodies)('parses %s as JSON.parse does, or leaves it', (_name, body) => {
    const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
    let whole: unknown;
    let valid = true;
    try {
      whole = JSON.parse(text);
    } catch {
      valid = false;
    }
    const { items } = slicedParse(body);
    if (items === undefined) return;
    expect(valid).toBe(true);
    expect(items).toEqual(whole);
  });

  it.each([
    ['a batch of predictions', JSON.stringify(many(2_000))],
    ['a batch with Python-style separators', JSON.stringify(many(2_000)).replaceAll('},{', '}, {')],
    ['a pretty-printed batch', JSON.stringify(many(1_000), null, 2)],
    ['multi-byte characters everywhere', JSON.stringify(many(2_000, (i) => ({ ...item(i), input: { text: `été ☃ 🚀 ${i}` } })))],
    ['strings that contain "},{"', JSON.stringify(many(2_000, (i) => ({ ...item(i), input: { text: '},{"id":1},{' } })))],
    ['objects nested in arrays', JSON.stringify(many(2_000, (i) => ({ ...item(i), metadata: { spans: [{ a: 1 }, { b: 2 }] } })))],
  ])('slices %s', (_name, body) => {
    const { items, slices } = slicedParse(body);
    expect(items).toEqual(JSON.parse(body));
    expect(slices).toBeGreaterThan(1);
  });

  it.each([
    ['a trailing comma', `${JSON.stringify(many(2_000)).slice(0, -1)},]`],
    ['a missing comma', JSON.stringify(many(2_000)).replace('},{', '}{')],
    ['an empty item', JSON.stringify(many(2_000)).replace('},{', '},,{')],
    ['an object, not an array', JSON.stringify({ items: many(2_000) })],
    ['text after the array', `${JSON.stringify(many(2_000))} x`],
  ])('leaves %s to the caller', (_name, body) => {
    expect(slicedParse(body).items).toBeUndefined();
  });

  it('leaves the body to the caller when a slice is refused (prototype poisoning, say)', () => {
    const body = Buffer.from(JSON.stringify(many(2_000)).replace('"id":1500', '"__proto__":{"x":1}'));
    const refused = parseJsonArrayInSlices(body, (text) => {
      if (text.includes('__proto__')) throw new SyntaxError('Object contains forbidden prototype property');
      return JSON.parse(text);
    });
    expect(refused).toBeUndefined();
  });
});

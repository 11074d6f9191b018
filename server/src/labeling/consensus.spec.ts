import { maskInput } from './consensus';

describe('maskInput', () => {
  it.each([
    [{ a: 1, secret: 's' }, ['secret'], { a: 1 }],
    [{ user: { email: 'e', age: 3 } }, ['user.email'], { user: { age: 3 } }],
    [{ a: 1 }, ['missing.deep.path', 'a.b'], { a: 1 }],
    [{ 'user.phone': '+33 6', a: 1 }, ['user.phone'], { a: 1 }],
    [{ a: 1 }, [], { a: 1 }],
  ])('%j without %j is %j', (input, fields, expected) => {
    const before = JSON.stringify(input);
    expect(maskInput(input, fields)).toEqual(expected);
    expect(JSON.stringify(input)).toBe(before);
  });
});

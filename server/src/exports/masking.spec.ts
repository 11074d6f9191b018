import { createHmac } from 'node:crypto';
import { maskedFeatures, hashValue, maskedPaths, maskInput, type Masking } from './masking';

const key = Buffer.alloc(32, 7);
const hmac = (text: string) => createHmac('sha256', key).update(text).digest('hex');
const masking = (policy: Masking['policy']): Masking => ({ policy, fields: ['email', 'user.phone', 'absent.path'], key });
const input = () => ({ email: 'ada@example.com', user: { phone: '555', city: 'Lyon' }, n: 1 });

describe('masked fields in exports', () => {
  it.each<[Masking['policy'], Record<string, unknown>]>([
    ['drop', { user: { city: 'Lyon' }, n: 1 }],
    ['hash', { email: hmac('ada@example.com'), user: { phone: hmac('555'), city: 'Lyon' }, n: 1 }],
    ['keep', input()],
  ])('%s', (policy, expected) => {
    const row = input();
    maskInput(row, maskedPaths(masking(policy)), masking(policy));
    expect(row).toEqual(expected);
  });

  it.each<[Masking['policy'], unknown]>([
    [
      'drop',
      [
        { name: 'user', type: 'bytes' },
        { name: 'n', type: 'int' },
      ],
    ],
    [
      'hash',
      [
        { name: 'email', type: 'bytes' },
        { name: 'user', type: 'bytes' },
        { name: 'n', type: 'int' },
      ],
    ],
    [
      'keep',
      [
        { name: 'email', type: 'int' },
        { name: 'user', type: 'bytes' },
        { name: 'n', type: 'int' },
      ],
    ],
  ])('%s: declared features', (policy, features) => {
    const declared = [
      { name: 'email', type: 'int' },
      { name: 'user', type: 'bytes' },
      { name: 'n', type: 'int' },
    ] as const;
    expect(maskedFeatures(declared, masking(policy))).toEqual(features);
  });

  it.each<[Masking['policy'], Record<string, unknown>]>([
    ['drop', { n: 1 }],
    ['hash', { 'user.phone': hmac('+33 6'), n: 1 }],
    ['keep', { 'user.phone': '+33 6', n: 1 }],
  ])('%s: a masked name with a dot is the input key of that name (inputs are flat)', (policy, expected) => {
    const row = { 'user.phone': '+33 6', n: 1 };
    maskInput(row, maskedPaths(masking(policy)), masking(policy));
    expect(row).toEqual(expected);
  });

  it('hashes a list element by element, anything but a string by its JSON, and leaves null', () => {
    expect(hashValue(['a', 42, null], key)).toEqual([hmac('a'), hmac('42'), null]);
    expect(hashValue({ b: 1 }, key)).toBe(hmac('{"b":1}'));
    expect(hashValue(null, key)).toBeNull();
  });
});

import { luhnValid, maskPii, maskPiiDeep } from './pii';

const ALL = ['email', 'phone', 'card'] as const;

describe('personal data in free text', () => {
  it('replaces e-mail addresses, phone numbers and card numbers with placeholders', () => {
    expect(maskPii('Write to ada.lovelace+runs@example.co.uk today', ALL)).toBe('Write to [email] today');
    expect(maskPii('call +41 44 668 18 00 or (044) 668-1800, or 0446681800.', ALL)).toBe('call [phone] or [phone], or [phone].');
    // a Visa test number, with spaces and with dashes
    expect(maskPii('card 4111 1111 1111 1111 and 4111-1111-1111-1111', ALL)).toBe('card [card] and [card]');
    expect(maskPii('Amex 378282246310005 expires', ALL)).toBe('Amex [card] expires');
  });

  it('leaves what is not personal data: short numbers, dates, amounts, order numbers failing the Luhn check as cards', () => {
    expect(maskPii('ran 10 km in 52:30 on 2026-12-04, 3 runs, CHF 120.50', ALL)).toBe('ran 10 km in 52:30 on 2026-12-04, 3 runs, CHF 120.50');
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    // 16 digits that fail Luhn are no card; as a phone number they are too long (over 15 digits)
    expect(maskPii('order 4111111111111112', ['card'])).toBe('order 4111111111111112');
  });

  it('masks only the kinds chosen, and every string of a value, keys kept', () => {
    expect(maskPii('a@b.io +41 44 668 18 00', ['email'])).toBe('[email] +41 44 668 18 00');
    expect(maskPii('a@b.io', [])).toBe('a@b.io');
    const input = { messages: [{ role: 'user', content: 'I am bob@example.com' }], 'bob@example.com': 1, n: 5 };
    expect(maskPiiDeep(input, ['email'])).toEqual({ messages: [{ role: 'user', content: 'I am [email]' }], 'bob@example.com': 1, n: 5 });
    expect(input.messages[0].content).toBe('I am bob@example.com');
  });
});

/** The kinds of personal data a project may have hidden from raters in free text. */
export const PII_PATTERNS = ['email', 'phone', 'card'] as const;
export type PiiPattern = (typeof PII_PATTERNS)[number];

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// 13 to 19 digits, single spaces or dashes between groups: the card numbers of every network
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
// an optional +, then 7 to 15 digits with the separators phone numbers are written with
const PHONE = /(?<![\w+])\+?\(?\d(?:[ ().-]{0,2}\d){6,14}(?!\w)/g;

// a date is no phone number: 2026-12-04, 04.12.2026, 4/12/26
const DATE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;

/** Whether a digit string passes the Luhn check every payment card number passes. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A text with the personal data of the chosen kinds replaced by a placeholder (`[email]`,
 * `[phone]`, `[card]`): card numbers first (13 to 19 digits passing the Luhn check, so an order
 * number of as many digits that fails it stays), then e-mail addresses, then phone numbers (7 to
 * 15 digits, with +, spaces, dots, dashes or brackets between them; not a date).
 */
export function maskPii(text: string, patterns: readonly PiiPattern[]): string {
  let out = text;
  if (patterns.includes('card')) out = out.replace(CARD, (match) => (luhnValid(match.replace(/\D/g, '')) ? '[card]' : match));
  if (patterns.includes('email')) out = out.replace(EMAIL, '[email]');
  if (patterns.includes('phone')) out = out.replace(PHONE, (match) => (DATE.test(match) ? match : '[phone]'));
  return out;
}

/** Every string inside a JSON value masked by `maskPii` (object keys kept), as a new value. */
export function maskPiiDeep<T>(value: T, patterns: readonly PiiPattern[]): T {
  if (patterns.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return maskPii(v, patterns);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

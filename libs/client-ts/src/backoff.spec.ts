import { backoffDelayMs, retryAfterMs } from './backoff';

describe('backoffDelayMs', () => {
  it.each([
    // attempt, initial, max, random, expected
    [0, 200, 30_000, 0, 0],
    [0, 200, 30_000, 0.5, 100],
    [0, 200, 30_000, 0.999, 199],
    [3, 200, 30_000, 0.5, 800],
    [10, 200, 30_000, 0.999, 29_970],
    [60, 200, 30_000, 0.999, 29_970],
    [2, 0, 30_000, 0.7, 0],
  ])('attempt %i, initial %i ms, max %i ms, random %d → %i ms', (attempt, initial, max, random, expected) => {
    expect(backoffDelayMs(attempt, initial, max, () => random)).toBe(expected);
  });

  it('stays below its ceiling for any draw', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(1000, 10 * 2 ** attempt);
      const delay = backoffDelayMs(attempt, 10, 1000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [null, undefined],
    ['0', 0],
    ['2', 2000],
    [' 1.5 ', 1500],
    ['Wed, 01 Jan 2025 00:00:03 GMT', 3000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
    ['', undefined],
  ])('Retry-After %p → %p ms', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
});

import { requestLogLevel } from './request-log';

describe('requestLogLevel', () => {
  it.each([
    [200, 12, 'debug'],
    [201, 999, 'debug'],
    [304, 1, 'debug'],
    [200, 1000, 'warn'],
    [400, 5, 'info'],
    [404, 5, 'info'],
    [413, 1500, 'warn'],
    [500, 5, 'error'],
    [503, 5000, 'error'],
  ] as const)('logs a %i answered in %i ms (slow from 1000) at %s', (status, elapsed, level) => {
    expect(requestLogLevel(status, elapsed, 1000)).toBe(level);
  });
});

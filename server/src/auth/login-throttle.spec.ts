import { LoginThrottle } from './login-throttle';

describe('LoginThrottle', () => {
  it('allows attempts until the limit, then asks to wait until the oldest failure leaves the window', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('a@example.com')).toBe(0);
      throttle.recordFailure('a@example.com');
      now += 10_000;
    }
    expect(throttle.retryAfter('a@example.com')).toBe(30);
    expect(throttle.retryAfter('b@example.com')).toBe(0);
    now += 30_000;
    expect(throttle.retryAfter('a@example.com')).toBe(0);
  });

  it('takes back the latest attempt when it succeeds', () => {
    const throttle = new LoginThrottle(2, 60_000);
    throttle.recordFailure('a');
    throttle.recordFailure('a');
    expect(throttle.retryAfter('a')).toBeGreaterThan(0);
    throttle.release('a');
    expect(throttle.retryAfter('a')).toBe(0);
  });

  it('forgets failures after a success', () => {
    const throttle = new LoginThrottle(1, 60_000);
    throttle.recordFailure('a');
    expect(throttle.retryAfter('a')).toBeGreaterThan(0);
    throttle.clear('a');
    expect(throttle.retryAfter('a')).toBe(0);
  });
});

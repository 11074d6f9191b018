/**
 * Counts sign-in attempts per key (an account and address, an address) in a sliding window; past the
 * limit, sign-in is refused until the oldest failure leaves the window. In memory: each
 * server process keeps its own count (a client spread over N replicas gets N times the limit).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before another attempt, or 0 when one is allowed. */
  retryAfter(key: string): number {
    const now = this.now();
    const recent = this.recent(key, now);
    return recent.length >= this.maxFailures ? Math.ceil((recent[0] + this.windowMs - now) / 1000) : 0;
  }

  recordFailure(key: string): void {
    const now = this.now();
    this.failures.set(key, [...this.recent(key, now), now]);
    if (this.failures.size > 100_000) this.prune(now);
  }

  /** Takes back the latest attempt of `key` (it turned out to succeed). */
  release(key: string): void {
    const times = this.failures.get(key);
    if (times?.length) times.pop();
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }

  private prune(now: number): void {
    for (const [key, times] of this.failures) if (!times.some((t) => t > now - this.windowMs)) this.failures.delete(key);
  }
}

import type { DataSource } from 'typeorm';

export interface LoginLimits {
  /** failures per account in the window, from any address */
  maxPerAccount: number;
  /** failures per address in the window, for any account (an office behind one NAT signs in for many people) */
  maxPerAddress: number;
  windowSeconds: number;
}

// advisory lock namespaces: one account's or address's attempts are counted one at a time
// (0x6266_0010 was the export writer's class too: an account whose hash was a version's id waited for its export)
const ACCOUNT_LOCK = 0x6266_0013;
const ADDRESS_LOCK = 0x6266_0011;

/**
 * Counts failed sign-ins per account and per address in a sliding window, in PostgreSQL, so a limit
 * holds across addresses and across server processes. An attempt is recorded as a failure before
 * the password is checked (parallel guesses cannot all slip under the limit) and taken back when
 * it succeeds.
 */
export class LoginThrottle {
  constructor(
    private readonly dataSource: DataSource,
    private readonly limits: LoginLimits,
  ) {}

  /**
   * Records an attempt, or refuses it: the seconds to wait until the oldest failure leaves the
   * window, or 0 and the attempt's id (to take back on success).
   */
  async attempt(account: string, address: string): Promise<{ retryAfter: number; attemptId?: string }> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock($1, hashtext($2)), pg_advisory_xact_lock($3, hashtext($4))`, [
        ACCOUNT_LOCK,
        account,
        ADDRESS_LOCK,
        address,
      ]);
      await manager.query(`DELETE FROM login_failures WHERE failed_at < clock_timestamp() - make_interval(secs => $1)`, [this.limits.windowSeconds]);
      const [counts]: Array<{ account_n: number; account_wait: number | null; address_n: number; address_wait: number | null }> = await manager.query(
        `SELECT a.n AS account_n, ceil(extract(epoch FROM a.first + make_interval(secs => $3) - clock_timestamp()))::int AS account_wait,
                b.n AS address_n, ceil(extract(epoch FROM b.first + make_interval(secs => $3) - clock_timestamp()))::int AS address_wait
           FROM (SELECT count(*)::int AS n, (array_agg(failed_at ORDER BY failed_at DESC))[$4] AS first FROM login_failures WHERE account = $1) a,
                (SELECT count(*)::int AS n, (array_agg(failed_at ORDER BY failed_at DESC))[$5] AS first FROM login_failures WHERE address = $2) b`,
        [account, address, this.limits.windowSeconds, this.limits.maxPerAccount, this.limits.maxPerAddress],
      );
      // past a limit, wait until the failure that reached it leaves the window
      const waits = [
        counts.account_n >= this.limits.maxPerAccount ? (counts.account_wait ?? 1) : 0,
        counts.address_n >= this.limits.maxPerAddress ? (counts.address_wait ?? 1) : 0,
      ];
      const retryAfter = Math.max(...waits);
      if (retryAfter > 0) return { retryAfter: Math.max(1, retryAfter) };
      const [row]: Array<{ id: string }> = await manager.query(`INSERT INTO login_failures (account, address) VALUES ($1, $2) RETURNING id`, [
        account,
        address,
      ]);
      return { retryAfter: 0, attemptId: row.id };
    });
  }

  /** The attempt succeeded: the account's failures are forgotten, and this attempt no longer counts against the address. */
  async succeeded(account: string, attemptId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM login_failures WHERE account = $1 OR id = $2`, [account, attemptId]);
  }
}

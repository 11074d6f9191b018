import type { DataSource, EntityManager } from 'typeorm';

/** Work that may only run once a transaction has committed: events, pushes, cache evictions on other nodes. */
export type AfterCommit = () => unknown;

/** A transaction in progress: its entity manager, and the work that waits for its commit. */
export interface Transaction {
  readonly manager: EntityManager;
  /** Runs `work` once the transaction has committed, in the order given; never when it rolls back. */
  readonly afterCommit: (...work: AfterCommit[]) => void;
}

type FailureLog = { error(details: { err: unknown }, message: string): void };

const failureLogs = new WeakMap<DataSource, FailureLog>();

/** Where the after-commit failures of a data source's transactions are logged (the app's logger). */
export function logAfterCommitFailures(dataSource: DataSource, log: FailureLog): void {
  failureLogs.set(dataSource, log);
}

/**
 * Runs `work` in one transaction, then, once it has committed, the work it registered with
 * `tx.afterCommit`, in order. A rollback runs none of it. A failure in after-commit work is
 * logged and does not fail the operation, whose writes are already committed.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const pending: AfterCommit[] = [];
  const result = await dataSource.transaction((manager) => work({ manager, afterCommit: (...more) => pending.push(...more) }));
  const log = failureLogs.get(dataSource) ?? { error: (details, message) => console.error(message, details.err) };
  for (const next of pending) {
    try {
      const outcome = next();
      if (outcome instanceof Promise) outcome.catch((error: unknown) => log.error({ err: error }, 'work after a commit failed'));
    } catch (error) {
      log.error({ err: error }, 'work after a commit failed');
    }
  }
  return result;
}

import { Global, Injectable, Module } from '@nestjs/common';
import type { AfterCommit } from '../database/transaction';

/**
 * Events handled inside the emitter's transaction (so what a listener writes commits or rolls
 * back with the emitter's rows); each feature that emits one declares it here by declaration
 * merging (`declare module '…/transaction-events'`), so common knows no feature.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface TransactionEventMap {}

export type TransactionEventName = keyof TransactionEventMap;
type ProjectOf<K extends TransactionEventName> = TransactionEventMap[K] extends { project: infer P } ? P : never;

export interface TransactionEventListener<K extends TransactionEventName> {
  /** Whether this listener has work for the project whatever else happens: the emitter then opens a transaction it could have done without. */
  wantsTransaction(project: ProjectOf<K>): boolean;
  handle(payload: TransactionEventMap[K]): Promise<AfterCommit[]>;
}

/** In-process events awaited in the emitter's transaction: a feature hands work to whoever listens without importing it. */
@Injectable()
export class TransactionEvents {
  // keyed by event name; each list holds that event's listeners
  private readonly listeners = new Map<TransactionEventName, unknown[]>();

  private listenersOf<K extends TransactionEventName>(name: K): Array<TransactionEventListener<K>> {
    return (this.listeners.get(name) ?? []) as Array<TransactionEventListener<K>>;
  }

  on<K extends TransactionEventName>(name: K, listener: TransactionEventListener<K>): void {
    this.listeners.set(name, [...this.listenersOf(name), listener]);
  }

  wantsTransaction<K extends TransactionEventName>(name: K, project: ProjectOf<K>): boolean {
    return this.listenersOf(name).some((listener) => listener.wantsTransaction(project));
  }

  /** Runs every listener in turn, in the caller's transaction (the payload carries its manager); returns their after-commit work. */
  async emit<K extends TransactionEventName>(name: K, payload: TransactionEventMap[K]): Promise<AfterCommit[]> {
    const afterCommit: AfterCommit[] = [];
    for (const listener of this.listenersOf(name)) afterCommit.push(...(await listener.handle(payload)));
    return afterCommit;
  }
}

@Global()
@Module({ providers: [TransactionEvents], exports: [TransactionEvents] })
export class TransactionEventsModule {}

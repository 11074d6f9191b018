import { Global, Injectable, Module } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AfterCommit, Transaction } from '../database/transaction';
import { CacheInvalidation } from './cache-invalidation';

/** Somebody may have lost access: a session ended, a user changed (disabled, role), a membership changed or went. */
export type Revocation =
  { kind: 'session'; userId: string; sessionId: string } | { kind: 'user'; userId: string } | { kind: 'membership'; userId: string; projectId: string };

/** Work done in the revoking transaction (releasing what was held); what it returns runs once that commits. */
export type RevocationParticipant = (manager: EntityManager, revocation: Revocation) => Promise<AfterCommit | void>;

const KINDS = new Set<Revocation['kind']>(['session', 'user', 'membership']);

function parse(key: string): Revocation | undefined {
  try {
    const revocation = JSON.parse(key) as Revocation;
    return KINDS.has(revocation?.kind) && typeof revocation.userId === 'string' ? revocation : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Revocation in one transaction, heard on every node: the feature that changes access calls
 * `revoke` in its transaction; participants (labeling, which releases leases) do their part in
 * it, and every process's listeners (the realtime gateway, which cuts sockets) hear of it on
 * commit through the invalidation channel. Listeners hear `undefined` when the channel was deaf.
 */
@Injectable()
export class AccessRevocations {
  private readonly participants: RevocationParticipant[] = [];

  constructor(private readonly invalidation: CacheInvalidation) {}

  /** False while this process may miss revocations: access must then not be served from a cache. */
  get live(): boolean {
    return this.invalidation.live;
  }

  join(participant: RevocationParticipant): void {
    this.participants.push(participant);
  }

  /** Call after commit: `undefined` means anything may have changed (the channel was deaf). */
  listen(listener: (revocation: Revocation | undefined) => void): void {
    this.invalidation.subscribe('access', (key) => {
      if (key === undefined) return listener(undefined);
      const revocation = parse(key);
      if (revocation) listener(revocation);
    });
  }

  /** In the caller's transaction; what the participants leave to run once it has committed goes to `tx.afterCommit`. */
  async revoke({ manager, afterCommit }: Transaction, revocation: Revocation): Promise<void> {
    for (const participant of this.participants) {
      const after = await participant(manager, revocation);
      if (after) afterCommit(after);
    }
    await this.invalidation.publish(manager, 'access', JSON.stringify(revocation));
  }
}

@Global()
@Module({ providers: [AccessRevocations], exports: [AccessRevocations] })
export class AccessRevocationsModule {}

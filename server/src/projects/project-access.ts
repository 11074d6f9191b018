import { Inject, Injectable, Optional } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { MemberRole } from '@backflow/contracts';
import { AuthErrors } from '../auth/auth.errors';
import type { UserPrincipal } from '../auth/principal';
import { UsersService } from '../auth/users.service';
import { AccessRevocations, Revocation } from '../common/cache/access-revocations';
import type { ProjectEntity } from './project.entity';

export type ProjectRole = MemberRole | 'admin';

/** How many memberships a process keeps, and for how long at most (the backstop for a lost revocation notice). */
export interface MembershipCacheLimits {
  max: number;
  ttlMs: number;
}

export const MEMBERSHIP_CACHE_LIMITS = Symbol('MEMBERSHIP_CACHE_LIMITS');
const DEFAULT_LIMITS: MembershipCacheLimits = { max: 10_000, ttlMs: 15_000 };

/**
 * Who may act in a project, for HTTP routes and socket events alike: admins everywhere, members
 * with one of the roles asked for. A `cached` check trusts memberships this process heard no
 * revocation of (every revocation, on any node, evicts them); a `fresh` one reads the database.
 */
@Injectable()
export class ProjectAccess {
  // a cached `null`: checked, not a member
  private readonly memberships: LRUCache<string, { role: MemberRole | null }>;
  // bumped by every revocation: a read that started before one is not cached
  private generation = 0;

  constructor(
    private readonly users: UsersService,
    private readonly revocations: AccessRevocations,
    @Optional() @Inject(MEMBERSHIP_CACHE_LIMITS) limits: MembershipCacheLimits = DEFAULT_LIMITS,
  ) {
    this.memberships = new LRUCache({ max: limits.max, ttl: limits.ttlMs });
    revocations.listen((revocation) => this.forget(revocation));
  }

  /** The user's role in the project: admin for admins, else their membership's role; undefined for a non-member. */
  async roleOf(user: UserPrincipal, projectId: string, freshness: 'cached' | 'fresh'): Promise<ProjectRole | undefined> {
    if (user.role === 'admin') return 'admin';
    const key = `${user.userId}:${projectId}`;
    const cached = freshness === 'cached' && this.revocations.live ? this.memberships.get(key) : undefined;
    if (cached) return cached.role ?? undefined;
    const generation = this.generation;
    const role = await this.users.membershipRole(user.userId, projectId);
    if (generation === this.generation) this.memberships.set(key, { role: role ?? null });
    return role;
  }

  /** Lets the user act in the project as one of `members` (admins always); else 403 `auth/not_a_member` or `auth/forbidden`. */
  async admit(user: UserPrincipal, project: ProjectEntity, members: readonly MemberRole[], freshness: 'cached' | 'fresh'): Promise<ProjectRole> {
    const role = await this.roleOf(user, project.id, freshness);
    if (!role) throw AuthErrors.notAMember(project.slug);
    if (role !== 'admin' && !members.includes(role))
      throw AuthErrors.forbidden(`this needs the project role ${members.length ? members.join(' or ') : 'admin'}`);
    return role;
  }

  /** How many memberships are cached now. */
  get cachedMemberships(): number {
    return this.memberships.size;
  }

  /** A revocation heard (or `undefined`: the channel was deaf and anything may have changed). */
  private forget(revocation: Revocation | undefined): void {
    this.generation++;
    if (!revocation) return this.memberships.clear();
    if (revocation.kind === 'membership') {
      this.memberships.delete(`${revocation.userId}:${revocation.projectId}`);
      return;
    }
    const prefix = `${revocation.userId}:`;
    for (const key of [...this.memberships.keys()]) if (key.startsWith(prefix)) this.memberships.delete(key);
  }
}

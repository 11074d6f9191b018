import type { UserPrincipal } from '../auth/principal';
import type { UsersService } from '../auth/users.service';
import type { AccessRevocations, Revocation } from '../common/cache/access-revocations';
import type { ProjectEntity } from './project.entity';
import { ProjectAccess } from './project-access';

/** A membership table the test edits directly, counting reads, and a revocation channel it drives. */
function scene(limits = { max: 3, ttlMs: 60_000 }) {
  const roles = new Map<string, 'rater' | 'reviewer'>();
  let reads = 0;
  let pending: Array<() => void> | undefined;
  const users = {
    membershipRole: async (userId: string, projectId: string) => {
      reads++;
      const role = roles.get(`${userId}:${projectId}`);
      if (pending) await new Promise<void>((resolve) => pending!.push(resolve));
      return role;
    },
  } as unknown as UsersService;
  let listener: (revocation: Revocation | undefined) => void = () => undefined;
  const revocations = { live: true, listen: (l: typeof listener) => (listener = l) };
  const access = new ProjectAccess(users, revocations as unknown as AccessRevocations, limits);
  return {
    access,
    roles,
    revocations,
    reads: () => reads,
    revoke: (revocation: Revocation | undefined) => listener(revocation),
    /** the next reads wait until `release` */
    hold: () => (pending = []),
    release: () => {
      const waiting = pending ?? [];
      pending = undefined;
      waiting.forEach((resolve) => resolve());
    },
  };
}

const user = (userId: string): UserPrincipal => ({ kind: 'user', userId, email: `${userId}@example.com`, role: 'rater', sessionId: `s-${userId}` });
const project = (id: string) => ({ id, slug: `slug-${id}` }) as ProjectEntity;

describe('ProjectAccess', () => {
  it('holds at most `max` memberships, the least recently used going first', async () => {
    const s = scene({ max: 3, ttlMs: 60_000 });
    for (const p of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      s.roles.set(`u:${p}`, 'rater');
      await s.access.roleOf(user('u'), p, 'cached');
    }
    expect(s.access.cachedMemberships).toBe(3);
    const before = s.reads();
    await s.access.roleOf(user('u'), 'p5', 'cached');
    expect(s.reads()).toBe(before);
    await s.access.roleOf(user('u'), 'p1', 'cached');
    expect(s.reads()).toBe(before + 1);
  });

  it('serves a cached check from memory until a revocation of that membership, heard from any node, evicts it', async () => {
    const s = scene();
    s.roles.set('u:p', 'rater');
    s.roles.set('u:q', 'rater');
    expect(await s.access.roleOf(user('u'), 'p', 'cached')).toBe('rater');
    await s.access.roleOf(user('u'), 'q', 'cached');
    s.roles.delete('u:p');
    expect(await s.access.roleOf(user('u'), 'p', 'cached')).toBe('rater');
    s.revoke({ kind: 'membership', userId: 'u', projectId: 'p' });
    expect(s.access.cachedMemberships).toBe(1);
    expect(await s.access.roleOf(user('u'), 'p', 'cached')).toBeUndefined();
    await expect(s.access.admit(user('u'), project('p'), ['rater', 'reviewer'], 'cached')).rejects.toMatchObject({ code: 'auth/not_a_member' });
  });

  it('drops every membership of a user whose session or account changed, and everything when the channel was deaf', async () => {
    const s = scene({ max: 10, ttlMs: 60_000 });
    for (const key of ['u:p', 'u:q', 'v:p']) s.roles.set(key, 'rater');
    for (const key of ['u:p', 'u:q', 'v:p']) await s.access.roleOf(user(key.split(':')[0]), key.split(':')[1], 'cached');
    s.revoke({ kind: 'user', userId: 'u' });
    expect(s.access.cachedMemberships).toBe(1);
    s.revoke(undefined);
    expect(s.access.cachedMemberships).toBe(0);
  });

  it('reads the database for a fresh check, and for every check while revocations may be missed', async () => {
    const s = scene();
    s.roles.set('u:p', 'reviewer');
    await s.access.roleOf(user('u'), 'p', 'cached');
    await s.access.roleOf(user('u'), 'p', 'fresh');
    expect(s.reads()).toBe(2);
    s.revocations.live = false;
    await s.access.roleOf(user('u'), 'p', 'cached');
    expect(s.reads()).toBe(3);
  });

  it('does not cache a read that a revocation overtook', async () => {
    const s = scene();
    s.roles.set('u:p', 'rater');
    s.hold();
    const racing = s.access.roleOf(user('u'), 'p', 'cached');
    s.roles.delete('u:p');
    s.revoke({ kind: 'membership', userId: 'u', projectId: 'p' });
    s.release();
    expect(await racing).toBe('rater');
    expect(await s.access.roleOf(user('u'), 'p', 'cached')).toBeUndefined();
  });

  it('forgets a membership after its time to live', async () => {
    const s = scene({ max: 10, ttlMs: 30 });
    s.roles.set('u:p', 'rater');
    await s.access.roleOf(user('u'), 'p', 'cached');
    s.roles.delete('u:p');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await s.access.roleOf(user('u'), 'p', 'cached')).toBeUndefined();
  });

  it('admits admins everywhere without a read, members with a role asked for, and refuses the others', async () => {
    const s = scene();
    s.roles.set('u:p', 'rater');
    expect(await s.access.admit({ ...user('a'), role: 'admin' }, project('p'), [], 'cached')).toBe('admin');
    expect(s.reads()).toBe(0);
    expect(await s.access.admit(user('u'), project('p'), ['rater', 'reviewer'], 'cached')).toBe('rater');
    await expect(s.access.admit(user('u'), project('p'), ['reviewer'], 'cached')).rejects.toMatchObject({
      code: 'auth/forbidden',
      message: 'this needs the project role reviewer',
    });
  });
});

import { DomainError } from '../common/errors';
import { accessOf, claimAt, identityOf, managedProjects, type SsoIdentity } from './sso-claims';

const NAMES = { email: 'email', groups: 'groups', role: undefined };

const MAPPING = {
  roleGroups: { admin: ['bf-admins'], reviewer: ['bf-reviewers'], rater: ['bf-raters'] },
  projectGroups: [
    { group: 'spam-raters', project: 'spam', role: 'rater' as const },
    { group: 'spam-reviewers', project: 'spam', role: 'reviewer' as const },
    { group: 'houses-reviewers', project: 'houses', role: 'reviewer' as const },
  ],
  defaultRole: undefined,
};

const identity = (groups: string[], claimedRole?: SsoIdentity['claimedRole']): SsoIdentity => ({ subject: 's', email: 'a@example.com', groups, claimedRole });

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
}

describe('claimAt', () => {
  it.each([
    [{ groups: ['a'] }, 'groups', ['a']],
    [{ realm_access: { roles: ['admin'] } }, 'realm_access.roles', ['admin']],
    [{ 'https://example.com/roles': ['x'] }, 'https://example.com/roles', ['x']],
    [{ realm_access: ['x'] }, 'realm_access.roles', undefined],
    [{}, 'groups', undefined],
    [{ a: { b: null } }, 'a.b.c', undefined],
  ])('reads %j at %s', (claims, name, expected) => {
    expect(claimAt(claims, name)).toEqual(expected);
  });

  it('does not read inherited properties as claims', () => {
    expect(claimAt({}, 'constructor')).toBeUndefined();
    expect(claimAt({ a: {} }, 'a.toString')).toBeUndefined();
  });
});

describe('identityOf', () => {
  it('reads the subject, the email lowercased, the groups and the highest valid role claim', () => {
    const claims = { sub: 'u1', email: 'Ada@Example.com', groups: ['x', 7, 'y'], backflow: { roles: ['rater', 'owner', 'reviewer'] } };
    expect(identityOf(claims, { email: 'email', groups: 'groups', role: 'backflow.roles' })).toEqual({
      subject: 'u1',
      email: 'ada@example.com',
      groups: ['x', 'y'],
      claimedRole: 'reviewer',
    });
    expect(identityOf({ sub: 'u1', email: 'a@example.com', groups: 'solo' }, NAMES).groups).toEqual(['solo']);
  });

  it.each([
    [{ email: 'a@example.com' }, 'auth/sso_claim_missing'],
    [{ sub: 'u1' }, 'auth/sso_claim_missing'],
    [{ sub: 'u1', email: 'not an email' }, 'auth/sso_claim_missing'],
    [{ sub: 'u1', email: 'a@example.com', email_verified: false }, 'auth/sso_email_unverified'],
    [{ sub: 'u1', email: 'a@example.com', email_verified: 'false' }, 'auth/sso_email_unverified'],
    [{ sub: 'u1', email: 'a@example.com', email_verified: true }, undefined],
    [{ sub: 'u1', email: 'a@example.com' }, undefined],
  ])('refuses %j with %s', (claims, code) => {
    expect(codeOf(() => identityOf(claims, NAMES))).toBe(code);
  });
});

describe('accessOf', () => {
  it.each([
    ['a role group', identity(['bf-reviewers']), 'reviewer', {}],
    ['the highest of several groups', identity(['bf-raters', 'bf-admins']), 'admin', {}],
    ['a project group alone, which gives its role globally', identity(['spam-reviewers']), 'reviewer', { spam: 'reviewer' }],
    ['two groups of one project: the higher', identity(['spam-raters', 'spam-reviewers']), 'reviewer', { spam: 'reviewer' }],
    ['a rater in a reviewers group: a rater there', identity(['bf-raters', 'houses-reviewers'], 'rater'), 'rater', { houses: 'rater' }],
    ['an admin: no memberships', identity(['bf-admins', 'spam-raters']), 'admin', {}],
    ['the role claim over the groups', identity(['bf-admins', 'spam-reviewers'], 'reviewer'), 'reviewer', { spam: 'reviewer' }],
    ['unknown groups only', identity(['marketing']), undefined, undefined],
  ])('%s', (_what, who, role, projects) => {
    const access = accessOf(who, MAPPING);
    expect(access?.role).toBe(role);
    if (access) expect(Object.fromEntries(access.projects)).toEqual(projects);
  });

  it('falls back to the default role, with no memberships', () => {
    expect(accessOf(identity([]), { ...MAPPING, defaultRole: 'rater' })).toEqual({ role: 'rater', projects: new Map() });
  });

  it('names each mapped project once as managed', () => {
    expect(managedProjects(MAPPING)).toEqual(['spam', 'houses']);
  });
});

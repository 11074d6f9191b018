import { Email, USER_ROLES, type MemberRole, type UserRole } from '@backflow/contracts';
import type { SsoConfig } from '../config/app-config';
import { AuthErrors } from './auth.errors';

/** Who the provider says signed in, read through the configured claim names. */
export interface SsoIdentity {
  subject: string;
  email: string;
  groups: string[];
  /** the role claim's highest valid role, when a role claim is configured and sent */
  claimedRole?: UserRole;
}

/** What a person may do here, by the provider's claims: the global role, and a role in each project the mapping names. */
export interface SsoAccess {
  role: UserRole;
  /** by project slug; a mapped project missing here is one they are not (or no longer) a member of */
  projects: Map<string, MemberRole>;
}

const RANK: Record<UserRole, number> = { rater: 0, reviewer: 1, admin: 2 };
const highest = <R extends UserRole>(roles: R[]): R | undefined =>
  roles.reduce<R | undefined>((top, role) => (top && RANK[top] >= RANK[role] ? top : role), undefined);

/**
 * A claim by its configured name: the top-level claim of that name first (Auth0's and Okta's custom
 * claims are URLs with dots), else a dotted path into nested claims (Keycloak's `realm_access.roles`).
 */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A claim's strings: an array of them, or one (other values are left out). */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * The identity in the provider's claims (the ID token's, with the userinfo endpoint's): the subject,
 * an email (refused when missing or when the provider says it is not verified) and the groups.
 */
export function identityOf(claims: Record<string, unknown>, names: SsoConfig['claims']): SsoIdentity {
  if (typeof claims.sub !== 'string' || claims.sub === '') throw AuthErrors.ssoClaimMissing('sub');
  const email = Email.safeParse(claimAt(claims, names.email));
  if (!email.success) throw AuthErrors.ssoClaimMissing(names.email);
  // an email the provider says it has not verified could be anybody's: it neither makes nor matches an account
  if (claims.email_verified === false || claims.email_verified === 'false') throw AuthErrors.ssoEmailUnverified(email.data);
  const roles = names.role ? stringsOf(claimAt(claims, names.role)).filter((role): role is UserRole => (USER_ROLES as readonly string[]).includes(role)) : [];
  return { subject: claims.sub, email: email.data, groups: stringsOf(claimAt(claims, names.groups)), claimedRole: highest(roles) };
}

/**
 * The global role and project memberships the mapping gives an identity, or undefined when it gives
 * no role. The role: the role claim's, else the highest a group gives (a project group gives at
 * least its project role), else the default role. Admins see every project and are no project's
 * member; a rater reviews nowhere, so a reviewer's project group makes a rater a rater there.
 */
export function accessOf(identity: SsoIdentity, mapping: Pick<SsoConfig, 'roleGroups' | 'projectGroups' | 'defaultRole'>): SsoAccess | undefined {
  const groups = new Set(identity.groups);
  const projectRoles = mapping.projectGroups.filter((entry) => groups.has(entry.group));
  const groupRoles = USER_ROLES.filter((role) => mapping.roleGroups[role].some((group) => groups.has(group)));
  const role = identity.claimedRole ?? highest([...groupRoles, ...projectRoles.map((entry) => entry.role)]) ?? mapping.defaultRole;
  if (!role) return undefined;
  const projects = new Map<string, MemberRole>();
  if (role === 'admin') return { role, projects };
  for (const entry of projectRoles) {
    const granted = role === 'rater' ? 'rater' : entry.role;
    if (projects.get(entry.project) !== 'reviewer') projects.set(entry.project, granted);
  }
  return { role, projects };
}

/** The projects whose memberships the provider decides (those the mapping names); others are left to admins. */
export function managedProjects(mapping: Pick<SsoConfig, 'projectGroups'>): string[] {
  return [...new Set(mapping.projectGroups.map((entry) => entry.project))];
}

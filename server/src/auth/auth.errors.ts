import { DomainError } from '../common/errors';

export const AuthErrors = {
  unauthenticated: () => new DomainError('auth/unauthenticated', 'sign in first, or send an API key', 401),
  invalidCredentials: () => new DomainError('auth/invalid_credentials', 'email or password is wrong', 401),
  sessionExpired: () => new DomainError('auth/session_expired', 'the session has expired; sign in again', 401),
  invalidApiKey: () => new DomainError('auth/invalid_api_key', 'the API key is unknown or revoked', 401),
  crossSite: (origin: string) =>
    new DomainError(
      'auth/cross_site',
      `a request from ${origin} cannot act with the session cookie: send the token in the Authorization header, or add the origin to ALLOWED_ORIGINS`,
      403,
      'origin',
    ),
  forbidden: (message = 'not allowed') => new DomainError('auth/forbidden', message, 403),
  notAMember: (slug: string) => new DomainError('auth/not_a_member', `you are not a member of project "${slug}"`, 403),
  scopeMissing: (scopes: string[]) => new DomainError('auth/scope_missing', `this API key needs one of the scopes: ${scopes.join(', ')}`, 403),
  rateLimited: (retryAfterSeconds: number) =>
    new DomainError('auth/rate_limited', `too many failed sign-ins; retry in ${retryAfterSeconds} s`, 429, undefined, { retryAfterSeconds }),
  emailTaken: (email: string) => new DomainError('users/email_taken', `a user with email ${email} exists`, 409, 'email'),
  userNotFound: (email: string) => new DomainError('users/not_found', `no user with email ${email}`, 404, 'email'),
  userIdNotFound: (id: string) => new DomainError('users/not_found', `id: no user ${id}`, 404, 'id'),
  cannotLockOutSelf: () => new DomainError('users/cannot_lock_out_self', 'you cannot disable yourself or give up your own admin role', 409),
  adminCannotBeMember: () =>
    new DomainError('memberships/admin_not_member', 'admins see every project; memberships are for raters and reviewers', 400, 'email'),
  memberRoleMismatch: (userRole: string, memberRole: string) =>
    new DomainError('memberships/role_mismatch', `a ${userRole} cannot be added as ${memberRole}`, 400, 'role'),
  apiKeyNotFound: (id: string) => new DomainError('api_keys/not_found', `no API key ${id} in this project`, 404, 'id'),
};

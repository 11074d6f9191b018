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
  localPasswordsOff: () => new DomainError('auth/local_passwords_off', 'passwords are off here (LOCAL_PASSWORDS=false): sign in through single sign-on', 403),
  ssoNotConfigured: () => new DomainError('auth/sso_not_configured', 'single sign-on is not configured on this server (OIDC_ISSUER)', 404),
  ssoUnavailable: (reason: string) =>
    new DomainError('auth/sso_unavailable', `the OpenID provider cannot be reached or read: ${reason}; try again shortly`, 503),
  ssoFlowMissing: () =>
    new DomainError(
      'auth/sso_flow_missing',
      'state: this sign-in was not started in this browser, or took longer than 10 minutes; start it again',
      400,
      'state',
    ),
  ssoStateMismatch: () =>
    new DomainError('auth/sso_state_mismatch', 'state: the answer does not belong to the sign-in this browser started; start it again', 400, 'state'),
  ssoRefused: (error: string, description?: string) =>
    new DomainError('auth/sso_refused', `the OpenID provider refused the sign-in: ${error}${description ? ` (${description})` : ''}`, 401, 'error'),
  ssoCodeRejected: (detail: string) =>
    new DomainError(
      'auth/sso_code_rejected',
      `code: the OpenID provider did not accept the code (used already, expired, or not this sign-in's PKCE verifier): ${detail}`,
      401,
      'code',
    ),
  ssoNonceMismatch: () => new DomainError('auth/sso_nonce_mismatch', "nonce: the ID token was not issued for this browser's sign-in", 401, 'nonce'),
  ssoInvalidResponse: (detail: string) => new DomainError('auth/sso_invalid_response', `the OpenID provider's answer cannot be trusted: ${detail}`, 401),
  ssoClaimMissing: (claim: string) =>
    new DomainError('auth/sso_claim_missing', `${claim}: the OpenID provider sent no usable "${claim}" claim for this person`, 403, claim),
  ssoEmailUnverified: (email: string) =>
    new DomainError('auth/sso_email_unverified', `email: the OpenID provider says ${email} is not verified`, 403, 'email_verified'),
  ssoNoRole: () =>
    new DomainError('auth/sso_no_role', 'no Backflow role for this person: no role claim and none of their groups is given one; ask an admin', 403),
  ssoAccountDisabled: () => new DomainError('auth/sso_account_disabled', 'this Backflow account is disabled; ask an admin', 403),
  ssoEmailTaken: (email: string) =>
    new DomainError('auth/sso_email_taken', `email: ${email} belongs to an account linked to another identity at the provider`, 409, 'email'),
  wrongCurrentPassword: () => new DomainError('users/wrong_current_password', 'currentPassword: this is not your current password', 400, 'currentPassword'),
  passwordUnchanged: () => new DomainError('users/password_unchanged', 'newPassword: the new password is the current one', 400, 'newPassword'),
  noLocalPassword: () =>
    new DomainError('users/no_local_password', 'you sign in through single sign-on and have no password here to change', 409, 'currentPassword'),
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

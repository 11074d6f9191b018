import { z } from 'zod';
import { Email } from './common';

export const USER_ROLES = ['admin', 'reviewer', 'rater'] as const;
export const UserRole = z.enum(USER_ROLES);
export type UserRole = z.infer<typeof UserRole>;

export const MEMBER_ROLES = ['reviewer', 'rater'] as const;
export const MemberRole = z.enum(MEMBER_ROLES);
export type MemberRole = z.infer<typeof MemberRole>;

export const API_KEY_SCOPES = ['ingest', 'export:read', 'export:write'] as const;
export const ApiKeyScope = z.enum(API_KEY_SCOPES);
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

export const Password = z.string().min(10, 'at least 10 characters').max(256);

export const LoginRequest = z.strictObject({ email: Email, password: z.string().min(1).max(256) }).meta({ id: 'LoginRequest' });
export type LoginRequest = z.infer<typeof LoginRequest>;

export const UserResponse = z.object({ id: z.uuid(), email: z.string(), role: UserRole, createdAt: z.string() }).meta({ id: 'User' });
export type UserResponse = z.infer<typeof UserResponse>;

/** A user as admins list them: with whether they may sign in. */
export const AdminUserResponse = UserResponse.extend({
  disabledAt: z.string().nullable(),
  sso: z.boolean().describe('the account is linked to the OpenID Connect provider (made or matched at a single sign-on)'),
  passwordChangedAt: z.string().nullable().describe('when the password was last changed or reset; null if never since it was created'),
}).meta({ id: 'AdminUser' });
export type AdminUserResponse = z.infer<typeof AdminUserResponse>;

export const UpdateUserRequest = z
  .strictObject({
    role: UserRole.optional(),
    disabled: z.boolean().optional().describe('a disabled user cannot sign in, and their sessions end'),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'nothing to change' })
  .meta({ id: 'UpdateUserRequest' });
export type UpdateUserRequest = z.infer<typeof UpdateUserRequest>;

export const LoginResponse = z
  .object({ token: z.string().describe('send as Authorization: Bearer <token>; also set as the HttpOnly cookie'), expiresAt: z.string(), user: UserResponse })
  .meta({ id: 'LoginResponse' });
export type LoginResponse = z.infer<typeof LoginResponse>;

export const MeResponse = z
  .object({
    user: UserResponse,
    memberships: z.array(z.object({ projectSlug: z.string(), role: MemberRole })),
    localPassword: z.boolean().describe('they sign in with a password here (local passwords are on and they have one): they can change it'),
  })
  .meta({ id: 'Me' });
export type MeResponse = z.infer<typeof MeResponse>;

export const CreateUserRequest = z.strictObject({ email: Email, password: Password, role: UserRole }).meta({ id: 'CreateUserRequest' });
export type CreateUserRequest = z.infer<typeof CreateUserRequest>;

export const AddMemberRequest = z.strictObject({ email: Email, role: MemberRole }).meta({ id: 'AddMemberRequest' });
export type AddMemberRequest = z.infer<typeof AddMemberRequest>;

export const MemberResponse = z
  .object({ userId: z.uuid(), email: z.string(), role: MemberRole, projectSlug: z.string(), createdAt: z.string() })
  .meta({ id: 'Member' });
export type MemberResponse = z.infer<typeof MemberResponse>;

export const CreateApiKeyRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z
      .array(ApiKeyScope)
      .min(1)
      .refine((scopes) => new Set(scopes).size === scopes.length, 'scopes must not repeat'),
  })
  .meta({ id: 'CreateApiKeyRequest' });
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

export const ApiKeyResponse = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(ApiKeyScope),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyResponse = z.infer<typeof ApiKeyResponse>;

export const CreatedApiKeyResponse = ApiKeyResponse.extend({
  secret: z.string().describe('shown once; send as Authorization: Bearer <secret> or X-Api-Key'),
}).meta({ id: 'CreatedApiKey' });
export type CreatedApiKeyResponse = z.infer<typeof CreatedApiKeyResponse>;

export const UserListResponse = z.object({ users: z.array(AdminUserResponse) }).meta({ id: 'UserList' });
export type UserListResponse = z.infer<typeof UserListResponse>;

export const MemberListResponse = z.object({ members: z.array(MemberResponse) }).meta({ id: 'MemberList' });
export type MemberListResponse = z.infer<typeof MemberListResponse>;

export const ApiKeyListResponse = z.object({ apiKeys: z.array(ApiKeyResponse) }).meta({ id: 'ApiKeyList' });
export type ApiKeyListResponse = z.infer<typeof ApiKeyListResponse>;

/** A signed-in person changes their own password: the current one proves it is them. */
export const ChangePasswordRequest = z
  .strictObject({ currentPassword: z.string().min(1).max(256), newPassword: Password })
  .meta({ id: 'ChangePasswordRequest' });
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

export const PasswordChangedResponse = z
  .object({ sessionsEnded: z.number().int().min(0).describe("the person's other sessions, ended with their sockets") })
  .meta({ id: 'PasswordChanged' });
export type PasswordChangedResponse = z.infer<typeof PasswordChangedResponse>;

/** An admin sets another person's password: the one given, or one generated and answered once. */
export const ResetPasswordRequest = z
  .strictObject({ password: Password.optional().describe('generated (and answered once) when omitted') })
  .meta({ id: 'ResetPasswordRequest' });
export type ResetPasswordRequest = z.infer<typeof ResetPasswordRequest>;

export const PasswordResetResponse = z
  .object({
    password: z.string().optional().describe('the generated password, shown once; absent when the request gave one'),
    sessionsEnded: z.number().int().min(0).describe("the person's sessions, ended with their sockets"),
  })
  .meta({ id: 'PasswordReset' });
export type PasswordResetResponse = z.infer<typeof PasswordResetResponse>;

/** How people sign in here: with a password, through the OpenID Connect provider, or both. */
export const SignInMethodsResponse = z
  .object({
    password: z.boolean().describe('false when LOCAL_PASSWORDS=false: only single sign-on'),
    sso: z
      .object({
        provider: z.string().describe('the name shown on the button: "Sign in with <provider>"'),
        loginUrl: z.string().describe('navigate the browser here (add ?returnTo=/path to come back to a page)'),
      })
      .nullable(),
  })
  .meta({ id: 'SignInMethods' });
export type SignInMethodsResponse = z.infer<typeof SignInMethodsResponse>;

/** Where the browser comes back to once signed in through the provider: a path of this app. */
export const SsoLoginQuery = z
  .strictObject({
    returnTo: z
      .string()
      .max(2048)
      .regex(/^\/([^\s\\/][^\s\\]*)?$/, 'a path of this app, starting with a single /')
      .refine((path) => !path.startsWith('/api/'), 'a page, not an API route')
      .optional(),
  })
  .meta({ id: 'SsoLoginQuery' });
export type SsoLoginQuery = z.infer<typeof SsoLoginQuery>;

/** The provider's redirect back: a code and the state, or an error (OAuth 2.0 and RFC 9207's iss). */
export const SsoCallbackQuery = z
  .looseObject({
    code: z.string().max(4096).optional(),
    state: z.string().max(1024).optional(),
    iss: z.string().max(2048).optional(),
    error: z.string().max(256).optional(),
    error_description: z.string().max(2048).optional(),
  })
  .meta({ id: 'SsoCallbackQuery' });
export type SsoCallbackQuery = z.infer<typeof SsoCallbackQuery>;

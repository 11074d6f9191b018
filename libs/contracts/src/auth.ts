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
export const AdminUserResponse = UserResponse.extend({ disabledAt: z.string().nullable() }).meta({ id: 'AdminUser' });
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

export const MeResponse = z.object({ user: UserResponse, memberships: z.array(z.object({ projectSlug: z.string(), role: MemberRole })) }).meta({ id: 'Me' });
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

import type { ApiKeyScope, UserRole } from '@backflow/contracts';

export type Principal =
  | { kind: 'user'; userId: string; email: string; role: UserRole; sessionId: string }
  | { kind: 'api_key'; keyId: string; projectId: string; scopes: ApiKeyScope[] };

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    projectAccess?: { projectId: string; slug: string; role: 'admin' | 'reviewer' | 'rater' | 'api_key' };
  }
}

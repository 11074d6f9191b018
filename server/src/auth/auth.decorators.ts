import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyScope, MemberRole, UserRole } from '@backflow/contracts';
import type { Principal, UserPrincipal } from './principal';
import { AuthErrors } from './auth.errors';

export const PUBLIC_ROUTE = 'backflow:public';
export const REQUIRED_ROLES = 'backflow:roles';
export const PROJECT_ACCESS = 'backflow:project-access';
export const LARGE_BODY = 'backflow:large-body';

export interface ProjectAccessRule {
  /** project members with one of these roles may call; admins always may */
  members?: MemberRole[];
  /** API keys of this project holding one of these scopes may call */
  apiKeyScopes?: ApiKeyScope[];
}

/** No credentials needed. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
/** Only users with one of these roles (admins pass every role check). */
export const Roles = (...roles: UserRole[]) => SetMetadata(REQUIRED_ROLES, roles);
/** Takes bodies up to INGEST_MAX_BODY_MB (an import, a baseline); ingest routes always do, every other route takes HTTP_MAX_BODY_KB. */
export const LargeBody = () => SetMetadata(LARGE_BODY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().principal;
});

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): UserPrincipal => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().principal;
  if (principal?.kind !== 'user') throw AuthErrors.forbidden('this route needs a signed-in user');
  return principal;
});

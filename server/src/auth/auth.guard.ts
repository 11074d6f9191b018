import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { UserRole } from '@backflow/contracts';
import { PROJECT_ACCESS, ProjectAccessRule, PUBLIC_ROUTE, REQUIRED_ROLES } from './auth.decorators';
import { AuthErrors } from './auth.errors';
import { AuthService } from './auth.service';

export const SESSION_COOKIE = 'backflow_session';

export function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ?? header;
  }
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return apiKey;
  return request.cookies?.[SESSION_COOKIE] || undefined;
}

/**
 * Every route is closed unless marked @Public: this guard authenticates the caller and
 * checks system roles. Project membership and API key scopes are checked by the project
 * guard on routes that name a project; an API key may call nothing else.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const credential = credentialOf(request);
    if (!credential) throw AuthErrors.unauthenticated();
    const principal = await this.auth.authenticate(credential);
    request.principal = principal;

    const rule = this.reflector.getAllAndOverride<ProjectAccessRule | undefined>(PROJECT_ACCESS, targets);
    if (principal.kind === 'api_key') {
      if (!rule?.apiKeyScopes?.length) throw AuthErrors.forbidden('API keys cannot call this route');
      return true;
    }
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, targets);
    if (roles?.length && principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw AuthErrors.forbidden(`this needs the role ${roles.join(' or ')}`);
    }
    return true;
  }
}

import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Slug } from '@backflow/contracts';
import { PROJECT_ACCESS, ProjectAccessRule } from '../auth/auth.decorators';
import { AuthErrors } from '../auth/auth.errors';
import { UsersService } from '../auth/users.service';
import { ProjectEntity } from './project.entity';
import { ProjectErrors } from './projects.errors';
import { ProjectsService } from './projects.service';

declare module 'fastify' {
  interface FastifyRequest {
    project?: ProjectEntity;
  }
}

/**
 * Checks the caller against the project named by `:slug`: admins always, members with one
 * of the rule's roles, API keys of this very project with one of the rule's scopes.
 */
@Injectable()
export class ProjectAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly projects: ProjectsService,
    private readonly users: UsersService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<ProjectAccessRule>(PROJECT_ACCESS, [context.getHandler(), context.getClass()]) ?? {};
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    const slug = (request.params as Record<string, string>).slug;
    if (!principal) throw AuthErrors.unauthenticated();
    const project = Slug.safeParse(slug).success ? await this.projects.findBySlug(slug) : null;

    if (principal.kind === 'api_key') {
      // a key learns nothing about other projects, not even whether they exist
      if (!project || project.id !== principal.projectId) throw AuthErrors.forbidden('this API key belongs to another project');
      const scopes = rule.apiKeyScopes ?? [];
      if (!scopes.some((scope) => principal.scopes.includes(scope))) throw AuthErrors.scopeMissing(scopes);
      request.projectAccess = { projectId: project.id, slug, role: 'api_key' };
      request.project = project;
      return true;
    }
    if (principal.role === 'admin') {
      if (!project) return true; // the handler answers 404 with the project's own error
      request.projectAccess = { projectId: project.id, slug, role: 'admin' };
      request.project = project;
      return true;
    }
    const role = project ? await this.users.membershipRole(principal.userId, project.id) : undefined;
    if (!project || !role) throw AuthErrors.notAMember(slug);
    if (!rule.members?.includes(role)) throw AuthErrors.forbidden(`this needs the project role ${(rule.members ?? ['admin']).join(' or ')}`);
    request.projectAccess = { projectId: project.id, slug, role };
    request.project = project;
    return true;
  }
}

/** A route under /projects/:slug, open to admins and to whom the rule names. */
export function ProjectRoute(rule: ProjectAccessRule = {}) {
  return applyDecorators(SetMetadata(PROJECT_ACCESS, rule), UseGuards(ProjectAccessGuard), ApiParam({ name: 'slug', type: String }));
}

/** The project the project guard resolved from `:slug` (404 when there is none). */
export const CurrentProject = createParamDecorator((_: unknown, ctx: ExecutionContext): ProjectEntity => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  if (!request.project) throw ProjectErrors.notFound((request.params as Record<string, string>).slug);
  return request.project;
});

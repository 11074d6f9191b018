import { applyDecorators, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Slug } from '@backflow/contracts';
import { PROJECT_ACCESS, ProjectAccessRule } from '../auth/auth.decorators';
import { AuthErrors } from '../auth/auth.errors';
import { AuthService } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { credentialOf } from '../auth/request-credentials';
import type { RouteAccess } from '../auth/route-access';
import { ProjectAccess } from './project-access';
import { ProjectEntity } from './project.entity';
import { ProjectErrors } from './projects.errors';
import { ProjectsService } from './projects.service';

declare module 'fastify' {
  interface FastifyRequest {
    project?: ProjectEntity;
  }
}

/**
 * Decides whether a request may reach its route, from its headers alone (the body is not read
 * yet): every route is closed unless marked @Public; a session or API key is checked, then the
 * system role, then, under /projects/:slug, the project: admins always, members with one of the
 * rule's roles, API keys of this very project with one of the rule's scopes. An API key may call
 * nothing else.
 */
@Injectable()
export class RequestAccess {
  constructor(
    private readonly auth: AuthService,
    private readonly projects: ProjectsService,
    private readonly access: ProjectAccess,
  ) {}

  async authorize(request: FastifyRequest, access: RouteAccess): Promise<void> {
    if (access.public) return;
    const credential = credentialOf(request);
    if (!credential) throw AuthErrors.unauthenticated();
    const principal = await this.auth.authenticate(credential.value);
    request.principal = principal;
    if (principal.kind === 'api_key') {
      if (!access.project?.apiKeyScopes?.length) throw AuthErrors.forbidden('API keys cannot call this route');
    } else if (access.roles?.length && principal.role !== 'admin' && !access.roles.includes(principal.role)) {
      throw AuthErrors.forbidden(`this needs the role ${access.roles.join(' or ')}`);
    }
    if (access.project) await this.authorizeProject(request, principal, access.project);
  }

  private async authorizeProject(request: FastifyRequest, principal: Principal, rule: ProjectAccessRule): Promise<void> {
    const slug = (request.params as Record<string, string> | undefined)?.slug ?? '';
    const project = Slug.safeParse(slug).success ? await this.projects.findBySlug(slug) : null;

    if (principal.kind === 'api_key') {
      // a key learns nothing about other projects, not even whether they exist
      if (!project || project.id !== principal.projectId) throw AuthErrors.forbidden('this API key belongs to another project');
      const scopes = rule.apiKeyScopes ?? [];
      if (!scopes.some((scope) => principal.scopes.includes(scope))) throw AuthErrors.scopeMissing(scopes);
      request.projectAccess = { projectId: project.id, slug, role: 'api_key' };
      request.project = project;
      return;
    }
    if (principal.role === 'admin') {
      if (!project) return; // the handler answers 404 with the project's own error
      request.projectAccess = { projectId: project.id, slug, role: 'admin' };
      request.project = project;
      return;
    }
    if (!project) throw AuthErrors.notAMember(slug);
    // a request reads the membership afresh: a revocation holds on every node from its commit
    const role = await this.access.admit(principal, project, rule.members ?? [], 'fresh');
    request.projectAccess = { projectId: project.id, slug, role };
    request.project = project;
  }
}

/** A route under /projects/:slug, open to admins and to whom the rule names (checked by RequestAccess before the body is read). */
export function ProjectRoute(rule: ProjectAccessRule = {}) {
  return applyDecorators(SetMetadata(PROJECT_ACCESS, rule), ApiParam({ name: 'slug', type: String }));
}

/** The caller's role in the project RequestAccess resolved: admin, reviewer, rater or api_key. */
export const ProjectRole = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().projectAccess?.role;
});

/** The project RequestAccess resolved from `:slug` (404 when there is none). */
export const CurrentProject = createParamDecorator((_: unknown, ctx: ExecutionContext): ProjectEntity => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  if (!request.project) throw ProjectErrors.notFound((request.params as Record<string, string>).slug);
  return request.project;
});

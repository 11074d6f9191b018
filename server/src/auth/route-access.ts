import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { UserRole } from '@backflow/contracts';
import { LARGE_BODY, PROJECT_ACCESS, ProjectAccessRule, PUBLIC_ROUTE, REQUIRED_ROLES } from './auth.decorators';

/** Who may call a route and what it may send, read from its decorators. */
export interface RouteAccess {
  public: boolean;
  roles?: UserRole[];
  /** set on routes under /projects/:slug: the members and API key scopes let in */
  project?: ProjectAccessRule;
  /** takes bodies up to the ingest limit (batches, imports); every other route takes small ones */
  largeBody: boolean;
}

const routeKey = (method: string, url: string) => `${method.toUpperCase()} ${url}`;

function joinPath(base: string, path: string): string {
  const parts = [base, path].map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  return `/${parts.join('/')}`;
}

/**
 * Every controller route's access rule by "METHOD /path", the path as Fastify registers it. It is
 * read before the body is, so credentials are checked when the headers arrive.
 */
export class RouteAccessTable {
  private readonly rules = new Map<string, RouteAccess>();

  constructor(modules: ModulesContainer, reflector = new Reflector()) {
    for (const module of modules.values()) {
      for (const { metatype } of module.controllers.values()) {
        if (!metatype) continue;
        const bases = [Reflect.getMetadata(PATH_METADATA, metatype) ?? ''].flat() as string[];
        const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
          if (paths === undefined) continue;
          const targets = [handler, metatype];
          const project = reflector.getAllAndOverride<ProjectAccessRule | undefined>(PROJECT_ACCESS, targets);
          const access: RouteAccess = {
            public: reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true,
            roles: reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, targets),
            project,
            largeBody: reflector.getAllAndOverride<boolean>(LARGE_BODY, targets) === true || Boolean(project?.apiKeyScopes?.includes('ingest')),
          };
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
          const methods = method === 'ALL' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : [method];
          for (const base of bases) for (const path of [paths].flat()) for (const m of methods) this.rules.set(routeKey(m, joinPath(base, path)), access);
        }
      }
    }
  }

  /** The rule of a registered route, or undefined for one no controller declares (static files, the API docs). */
  find(method: string, url: string | undefined): RouteAccess | undefined {
    return url === undefined ? undefined : this.rules.get(routeKey(method === 'HEAD' ? 'GET' : method, url));
  }

  get size(): number {
    return this.rules.size;
  }
}

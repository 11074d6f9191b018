import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { z } from 'zod';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';

/** Every route the application's controllers declare, as "METHOD /path" (read from the running app, never typed by hand). */
export function routesOf(app: INestApplicationContext): string[] {
  const routes: string[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '').replace(/^\/|\/$/g, '');
      const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function' || name === 'constructor' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const path = String(Reflect.getMetadata(PATH_METADATA, handler)).replace(/^\/|\/$/g, '');
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        routes.push(`${method} /${[base, path].filter(Boolean).join('/')}`);
      }
    }
  }
  return [...new Set(routes)].sort();
}

/** A route with the zod schemas its validation pipes enforce on the body, the query and each path parameter. */
export interface RouteContract {
  route: string;
  body?: z.ZodType;
  query?: z.ZodType;
  params: Record<string, z.ZodType>;
}

/** Every route with the schemas its `ValidBody` / `ValidQuery` / `ValidParam` pipes hold (read from the running app). */
export function routeContractsOf(app: INestApplicationContext): RouteContract[] {
  const contracts = new Map<string, RouteContract>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '').replace(/^\/|\/$/g, '');
      const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function' || name === 'constructor' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const path = String(Reflect.getMetadata(PATH_METADATA, handler)).replace(/^\/|\/$/g, '');
        const route = `${RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod]} /${[base, path].filter(Boolean).join('/')}`;
        const contract: RouteContract = { route, params: {} };
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, name) ?? {}) as Record<
          string,
          { data?: string; pipes?: Array<{ schema?: z.ZodType }> }
        >;
        for (const [key, arg] of Object.entries(args)) {
          const schema = arg.pipes?.find((pipe) => pipe && 'schema' in pipe)?.schema;
          if (!schema) continue;
          const type = Number(key.split(':')[0]) as RouteParamtypes;
          if (type === RouteParamtypes.BODY) contract.body = schema;
          else if (type === RouteParamtypes.QUERY) contract.query = schema;
          else if (type === RouteParamtypes.PARAM && arg.data) contract.params[arg.data] = schema;
        }
        contracts.set(route, contract);
      }
    }
  }
  return [...contracts.values()].sort((a, b) => a.route.localeCompare(b.route));
}

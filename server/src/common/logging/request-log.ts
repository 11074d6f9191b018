import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export type RequestLogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * The level a finished request is logged at: a server error at error, a slow request at warn, a
 * refused one (4xx) at info, and every other at debug, so that at the default `info` the log
 * holds what someone has to look at and not one line per prediction batch.
 */
export function requestLogLevel(statusCode: number, elapsedMs: number, slowMs: number): RequestLogLevel {
  if (statusCode >= 500) return 'error';
  if (elapsedMs >= slowMs) return 'warn';
  if (statusCode >= 400) return 'info';
  return 'debug';
}

/** One line per finished request at `requestLogLevel` (Fastify's own two lines per request, at info, are turned off). */
export function logRequests(fastify: FastifyInstance, slowMs: number): void {
  fastify.addHook('onResponse', async (request, reply) => {
    const responseTime = reply.elapsedTime;
    const level = requestLogLevel(reply.statusCode, responseTime, slowMs);
    // (the application's logger is pino's: a request's line is built only when its level is on)
    if (!(request.log as Logger).isLevelEnabled(level)) return;
    request.log[level](
      {
        method: request.method,
        url: request.url,
        route: request.routeOptions.url,
        statusCode: reply.statusCode,
        responseTime: Math.round(responseTime * 10) / 10,
        ...(level === 'warn' && { slowMs }),
      },
      level === 'warn' ? 'slow request' : 'request completed',
    );
  });
}

import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import helmet, { type HelmetOptions } from 'helmet';
import type {} from '@fastify/static';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { toErrorEnvelope } from './common/filters/error-envelope';
import { PostgresIoAdapter } from './realtime/postgres-io.adapter';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { AppContext, AppModule } from './app.module';
import { AuthErrors } from './auth/auth.errors';
import { credentialOf } from './auth/request-credentials';
import { RouteAccess, RouteAccessTable } from './auth/route-access';
import { BodyDeadline } from './common/http/body-deadline';
import { isSameSite, requestOrigin } from './common/http/origin';
import { RequestAccess } from './projects/project-access.guard';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { DomainError } from './common/errors';
import { parseJsonArrayInSlices, SLICED_JSON_MIN_BYTES } from './common/ingest/json-array';
import {
  mayHoldLongInteger,
  mayHoldPrototypeKeys,
  mayHoldUnderflow,
  reviveLostNumbers,
  reviveUnderflows,
  screenJsonBody,
  VALIDATES_ITEMS,
} from './common/validation/json-hazards';
import { PinoNestLogger } from './common/logging/logger';
import { logRequests } from './common/logging/request-log';
import { FILE_CONTENT_TYPES, openApiComponents } from './common/validation/zod-validation.pipe';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const hasBody = (headers: FastifyRequest['headers']) => Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;

/**
 * What a request is checked for before its body is read: its route's body limit, its origin when
 * it changes something with the session cookie, and its credentials and project access. A body
 * that stalls is cut. A refusal closes the connection, so an unread body is never waited for.
 */
function hardenRequests(app: NestFastifyApplication, { config }: AppContext): void {
  const fastify = app.getHttpAdapter().getInstance();
  const table = new RouteAccessTable(app.get(ModulesContainer));
  const requestAccess = app.get(RequestAccess);
  fastify.addHook('onRoute', (route) => {
    const access = table.find([route.method].flat()[0], route.url);
    if (!access) {
      // only the controllers' routes live under /api/v1: one without a rule would be open to anybody
      if (route.url.startsWith('/api/v1')) throw new Error(`${String(route.method)} ${route.url} has no access rule`);
      route.bodyLimit ??= config.http.maxBodyBytes;
      return;
    }
    route.bodyLimit = access.largeBody ? config.ingest.maxBodyBytes : config.http.maxBodyBytes;
    route.config = { ...route.config, access };
  });
  fastify.addHook('onRequest', async (request) => {
    if (
      !SAFE_METHODS.has(request.method) &&
      credentialOf(request)?.carrier !== 'header' &&
      !isSameSite(request.headers, config.http.allowedOrigins, config.trustProxy)
    ) {
      throw AuthErrors.crossSite(String(requestOrigin(request.headers) ?? 'another site'));
    }
    const access = request.routeOptions.config.access;
    if (access) await requestAccess.authorize(request, access);
  });
  fastify.addHook('preParsing', async (request, reply, payload) => {
    // a body the HTTP parser has already read whole cannot trickle: most requests end here
    if (!hasBody(request.headers) || request.raw.complete) return payload;
    const deadline = new BodyDeadline(config.http.bodyTimeoutMs);
    payload.on('error', (error) => deadline.destroy(error));
    payload.pipe(deadline);
    reply.raw.once('close', () => deadline.stop());
    return deadline;
  });
  fastify.addHook('onSend', async (request, reply) => {
    // Swagger UI's page carries an inline <style>; its scripts are files, as ours are
    if (request.url.startsWith('/api/docs')) {
      const policy = reply.getHeader('content-security-policy');
      if (typeof policy === 'string') reply.header('content-security-policy', policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
    }
    // a refused request's body may still be arriving: close rather than read it to the end
    if (reply.statusCode >= 400 && hasBody(request.headers) && !request.raw.complete) reply.header('connection', 'close');
  });
}

/** Builds the HTTP application on an open, migrated data source; the caller listens. */
export async function createApp(context: AppContext): Promise<NestFastifyApplication> {
  const { config, logger, metrics } = context;
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // one line per request, at a level by its outcome (`logRequests`), instead of two at info
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // a caller's request id is kept when it looks like one; anything else gets a fresh id
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: config.ingest.maxBodyBytes,
    trustProxy: config.trustProxy,
    // the router's own refusals (a path parameter past its length, a bad escape) in the API's envelope too
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const envelope = toErrorEnvelope(error, request.id);
      void reply.code(envelope.status).send(envelope.body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(context), adapter, {
    logger: new PinoNestLogger(logger),
    // JSON only: no form-encoded bodies, which a cross-site form could post with a victim's cookie
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  await app.register(fastifyCookie);
  const securityHeaders = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: config.session.cookieSecure ? { maxAge: 31_536_000 } : false,
    referrerPolicy: { policy: 'same-origin' },
  });
  // helmet decides the headers; they are the same for every reply, so they are worked out once
  // (the per-request middleware cost a quarter of a small request's CPU)
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });
  hardenRequests(app, context);
  app.useWebSocketAdapter(new PostgresIoAdapter(app, context.databaseUrl, { allowedOrigins: config.http.allowedOrigins, trustProxy: config.trustProxy }));
  // JSON bodies go through Fastify's own parser (same errors, same prototype-poisoning checks);
  // a large array (a batch) is handed to it a slice at a time
  const parseJson = fastify.getDefaultJsonParser(fastify.initialConfig.onProtoPoisoning ?? 'error', fastify.initialConfig.onConstructorPoisoning ?? 'error');
  const parseJsonText = (request: FastifyRequest, text: string): unknown => {
    let outcome: { error: Error | null; value: unknown } = { error: null, value: undefined };
    // Fastify's default parser answers through its callback, synchronously (its type also allows a promise)
    void parseJson(request, text, (error, value) => (outcome = { error, value }));
    if (outcome.error) throw outcome.error;
    return outcome.value;
  };
  // nothing here reads text: a cross-site form's text/plain body is refused as well as its origin
  fastify.removeContentTypeParser('text/plain');
  // then every body is screened for text PostgreSQL cannot store, numbers below the smallest double
  // and nesting past MAX_JSON_DEPTH, except on routes that check item by item (the raw text tells
  // them whether they need to); a body whose text may hold such a number is read again keeping
  // those numbers as written, so that they are refused by their field rather than stored as 0
  type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;
  const screened =
    (request: FastifyRequest, raw: Buffer | string, done: (error: Error | null, value?: unknown) => void, readAgain: (reviver: Reviver) => unknown) =>
    (error: Error | null, value?: unknown) => {
      if (error) return done(error);
      const validatesItems = request.routeOptions.config?.[VALIDATES_ITEMS] === true;
      const mayUnderflow = mayHoldUnderflow(raw);
      // (a route that validates item by item checks integers by its own rules: predictions/unsafe_integer)
      const mayLoseInteger = !validatesItems && mayHoldLongInteger(raw);
      const body = mayUnderflow || mayLoseInteger ? readAgain(validatesItems ? reviveUnderflows : reviveLostNumbers) : value;
      const hazard = screenJsonBody(raw, body, validatesItems, mayUnderflow);
      done(hazard ? new DomainError(hazard.code, hazard.message, 400, hazard.field) : null, body);
    };
  fastify.removeContentTypeParser('application/json');
  // text that is not UTF-8 would be decoded with U+FFFD in its place and stored as if sent
  const notUtf8 = () => new DomainError('validation/invalid_text', 'body: not valid UTF-8; send text as UTF-8', 400, 'body');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) return done(notUtf8());
    // a body that cannot hold a poisoned key skips the parser's scan of every slice for one (the body is looked at once)
    let plain: boolean | undefined;
    const parseSlice = (text: string): unknown => {
      plain ??= !mayHoldPrototypeKeys(body);
      return plain ? JSON.parse(text) : parseJsonText(request, text);
    };
    const items = body.length >= SLICED_JSON_MIN_BYTES ? parseJsonArrayInSlices(body, parseSlice) : undefined;
    if (items) {
      const readAgain = (reviver: Reviver) =>
        parseJsonArrayInSlices(body, (text) => JSON.parse(text, reviver) as unknown) ?? (JSON.parse(body.toString('utf8'), reviver) as unknown);
      return screened(request, body, done, readAgain)(null, items);
    }
    const text = body.toString('utf8');
    void parseJson(
      request,
      text,
      screened(request, body, done, (reviver) => JSON.parse(text, reviver) as unknown),
    );
  });
  // a CloudEvent in structured mode (the KServe / Seldon logger sink): JSON, parsed the same way
  fastify.addContentTypeParser('application/cloudevents+json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) return done(notUtf8());
    const text = body.toString('utf8');
    void parseJson(
      request,
      text,
      screened(request, text, done, (reviver) => JSON.parse(text, reviver) as unknown),
    );
  });
  // TFDV's artifacts (a statistics proto, a schema.pbtxt) reach the routes that take them as bytes
  fastify.addContentTypeParser([...FILE_CONTENT_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // NDJSON bodies reach the handler as the raw stream: read line by line, never held whole
  fastify.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, payload));
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  logRequests(fastify, config.logSlowRequestMs);
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  const clientIndex = path.join(config.clientDir, 'index.html');
  const hasClient = fs.existsSync(clientIndex);
  if (hasClient) {
    app.useStaticAssets({ root: config.clientDir, prefix: '/', index: ['index.html'], wildcard: false });
  } else {
    logger.warn({ clientDir: config.clientDir }, 'no built client found; run npm run build to serve the web UI');
  }
  const spaFallback = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const accepted = request.headers.accept ?? '';
    if (!hasClient || request.method !== 'GET' || request.url.startsWith('/api') || !accepted.includes('text/html')) return false;
    void reply.type('text/html; charset=utf-8').sendFile('index.html');
    return true;
  };
  app.useGlobalFilters(new AllExceptionsFilter(spaFallback, config.ingest.maxBodyBytes));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Backflow API')
      .setDescription('Capture predictions and feedback, route uncertain examples to raters, export TFX spans.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a session token (bfs_…) or an API key (bfk_…)' })
      .addCookieAuth('backflow_session')
      .build(),
  );
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...(openApiComponents() as Record<string, never>) } };
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
  return app;
}

/** The headers helmet sets with these options, read once from its middleware. */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('helmet refused its options');
  });
  return headers;
}

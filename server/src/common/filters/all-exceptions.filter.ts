import { ArgumentsHost, Catch, ExceptionFilter, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorEnvelope } from './error-envelope';

/** The one place errors become responses: `{ code, message, field?, requestId }`. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly spaFallback?: (request: FastifyRequest, reply: FastifyReply) => boolean,
    private readonly bodyLimitBytes?: number,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof NotFoundException && this.spaFallback?.(request, reply)) return;
    const envelope = toErrorEnvelope(exception, String(request.id));
    if (envelope.body.code === 'http/payload_too_large' && this.bodyLimitBytes) {
      const limit = request.routeOptions?.bodyLimit ?? this.bodyLimitBytes;
      envelope.body.message =
        limit >= this.bodyLimitBytes
          ? `the request body exceeds the limit of ${Math.round(limit / 1024 / 1024)} MiB (INGEST_MAX_BODY_MB); stream large batches as application/x-ndjson`
          : `the request body exceeds this route's limit of ${Math.round(limit / 1024)} KiB (HTTP_MAX_BODY_KB)`;
    }
    if (envelope.unexpected) request.log.error({ err: exception }, 'unhandled error');
    else if (envelope.status >= 500) request.log.warn({ code: envelope.body.code, err: exception }, envelope.body.message);
    if (reply.sent) return;
    const retryAfter = envelope.body.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    void reply.status(envelope.status).header('content-type', 'application/json; charset=utf-8').send(envelope.body);
  }
}

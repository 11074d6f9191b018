import { ArgumentsHost, Catch, ExceptionFilter, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { toErrorEnvelope } from './error-envelope';

/** The one place errors become responses: `{ code, message, field?, requestId }`. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly spaFallback?: (request: FastifyRequest, reply: FastifyReply) => boolean,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof NotFoundException && this.spaFallback?.(request, reply)) return;
    const envelope = toErrorEnvelope(exception, String(request.id));
    if (envelope.unexpected) request.log.error({ err: exception }, 'unhandled error');
    else if (envelope.status >= 500) request.log.warn({ code: envelope.body.code, err: exception }, envelope.body.message);
    if (reply.sent) return;
    void reply.status(envelope.status).header('content-type', 'application/json; charset=utf-8').send(envelope.body);
  }
}

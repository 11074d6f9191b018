import { HttpException } from '@nestjs/common';
import { DomainError, HttpErrors } from '../errors';

export interface ErrorEnvelope {
  status: number;
  body: { code: string; message: string; field?: string; requestId: string; details?: Record<string, unknown> };
}

const FASTIFY_CODES: Record<string, (error: { message: string }) => DomainError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => HttpErrors.invalidJson(e.message),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => HttpErrors.invalidJson('the body is empty'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => HttpErrors.payloadTooLarge('the configured body size'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => HttpErrors.unsupportedMediaType(e.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new DomainError('http/invalid_content_length', 'content-length does not match the body', 400, 'content-length'),
  // the router's own refusals, before any route runs
  FST_ERR_MAX_PARAM_LENGTH: () => new DomainError('http/uri_too_long', 'path: a path parameter is longer than any id or slug (100 characters)', 414, 'path'),
  FST_ERR_BAD_URL: () => new DomainError('http/bad_url', 'path: not a well-formed URL path (a bad percent escape)', 400, 'path'),
};

// connection-level failures and the server-side errors PostgreSQL raises while it shuts down or restarts
const DATABASE_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

function isDatabaseDown(error: unknown): boolean {
  // a connection tried on every address of a host name fails with each address's error
  if (error instanceof AggregateError && error.errors.length) return error.errors.every(isDatabaseDown);
  const e = error as { code?: string; message?: string; name?: string };
  if (e?.code && DATABASE_DOWN.has(e.code)) return true;
  // TypeORM releases a transaction's connection when the connection fails; the transaction's next query, or its commit, throws one of these
  if (e?.name === 'QueryRunnerProviderAlreadyReleasedError' || e?.name === 'QueryRunnerAlreadyReleasedError') return true;
  return (
    typeof e?.message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect/i.test(
      e.message,
    )
  );
}

// text PostgreSQL cannot store (a NUL character, an invalid escape): the caller's input, never our fault
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

const NEST_STATUS_CODES: Record<number, string> = {
  400: 'http/bad_request',
  401: 'auth/unauthenticated',
  403: 'auth/forbidden',
  404: 'http/not_found',
  405: 'http/method_not_allowed',
  413: 'http/payload_too_large',
  415: 'http/unsupported_media_type',
  429: 'http/rate_limited',
};

/** Maps anything thrown to the one error body every client relies on; unknown errors are 500s with no detail leaked. */
export function toErrorEnvelope(error: unknown, requestId: string): ErrorEnvelope & { unexpected: boolean } {
  const domain = asDomainError(error);
  if (domain) {
    return {
      status: domain.status,
      unexpected: false,
      body: {
        code: domain.code,
        message: domain.message,
        ...(domain.field ? { field: domain.field } : {}),
        requestId,
        ...(domain.details ? { details: domain.details } : {}),
      },
    };
  }
  return { status: 500, unexpected: true, body: { code: 'internal/error', message: 'an unexpected error occurred; it has been logged', requestId } };
}

// Nest's message is a string, or a list of them for its own validation errors
const messageOf = (response: object, fallback: string): string => {
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return fallback;
};

/** The domain error a thrown value stands for (Nest's and Fastify's errors, PostgreSQL being away), or undefined for a fault of ours. */
export function asDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : messageOf(response, error.message);
    if (status === 400 && /not valid JSON/i.test(message)) return HttpErrors.invalidJson(message);
    return new DomainError(NEST_STATUS_CODES[status] ?? `http/status_${status}`, message, status);
  }
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e?.code && FASTIFY_CODES[e.code]) return FASTIFY_CODES[e.code]({ message: e.message ?? '' });
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new DomainError(NEST_STATUS_CODES[e.statusCode] ?? `http/status_${e.statusCode}`, e.message ?? 'bad request', e.statusCode);
  }
  if (e?.code && UNSTORABLE_TEXT.has(e.code)) {
    return new DomainError('validation/invalid_text', 'the request holds text that cannot be stored (a NUL character or an invalid escape)', 400, 'body');
  }
  if (isDatabaseDown(error)) return HttpErrors.databaseUnavailable();
  return undefined;
}

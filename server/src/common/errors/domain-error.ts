/** An error the caller can act on: a stable namespaced code, an HTTP status, and the field at fault. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, field?: string, issues?: Array<{ field: string; message: string }>) {
    super('validation/invalid', message, 400, field, issues ? { issues } : undefined);
  }
}

export const HttpErrors = {
  notFound: (what = 'route') => new DomainError('http/not_found', `${what} not found`, 404),
  invalidJson: (message: string) => new DomainError('http/invalid_json', `the request body is not valid JSON: ${message}`, 400, 'body'),
  payloadTooLarge: (limit: string) => new DomainError('http/payload_too_large', `the request body exceeds the limit of ${limit}`, 413, 'body'),
  unsupportedMediaType: (type: string) => new DomainError('http/unsupported_media_type', `content type ${type} is not accepted here`, 415, 'content-type'),
  databaseUnavailable: () => new DomainError('database/unavailable', 'the database is unavailable; retry shortly', 503),
};

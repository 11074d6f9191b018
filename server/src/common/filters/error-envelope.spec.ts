import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { DomainError, ValidationError } from '../errors';
import { toErrorEnvelope } from './error-envelope';

describe('toErrorEnvelope', () => {
  it('keeps a domain error’s code, status and field', () => {
    const envelope = toErrorEnvelope(new ValidationError('overlap: too small', 'overlap'), 'req-1');
    expect(envelope).toMatchObject({
      status: 400,
      unexpected: false,
      body: { code: 'validation/invalid', message: 'overlap: too small', field: 'overlap', requestId: 'req-1' },
    });
  });

  it.each([
    [new NotFoundException('Cannot GET /x'), 404, 'http/not_found'],
    [new PayloadTooLargeException(), 413, 'http/payload_too_large'],
    [new BadRequestException("Body is not valid JSON but content-type is set to 'application/json'"), 400, 'http/invalid_json'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 503, 'database/unavailable'],
    [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 503, 'database/unavailable'],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 503, 'database/unavailable'],
    [new Error('timeout exceeded when trying to connect'), 503, 'database/unavailable'],
    [new Error('Client was closed and is not queryable'), 503, 'database/unavailable'],
    // the next query of a transaction whose connection failed under it
    [new QueryRunnerProviderAlreadyReleasedError(), 503, 'database/unavailable'],
    // the commit of a transaction whose connection failed under it (seen when PostgreSQL restarted mid-batch)
    [new QueryRunnerAlreadyReleasedError(), 503, 'database/unavailable'],
    [
      new AggregateError([
        Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ]),
      503,
      'database/unavailable',
    ],
    [Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }), 415, 'http/unsupported_media_type'],
  ])('maps %s to %i %s', (error, status, code) => {
    const envelope = toErrorEnvelope(error, 'r');
    expect(envelope.status).toBe(status);
    expect(envelope.body.code).toBe(code);
    expect(envelope.unexpected).toBe(false);
  });

  it('hides the details of an unexpected error', () => {
    const envelope = toErrorEnvelope(new TypeError('secret internals at line 42'), 'r');
    expect(envelope).toEqual({
      status: 500,
      unexpected: true,
      body: { code: 'internal/error', message: expect.not.stringContaining('secret'), requestId: 'r' },
    });
  });

  it('keeps extra details of a domain error', () => {
    const envelope = toErrorEnvelope(new DomainError('auth/rate_limited', 'wait', 429, undefined, { retryAfterSeconds: 30 }), 'r');
    expect(envelope.body).toEqual({ code: 'auth/rate_limited', message: 'wait', requestId: 'r', details: { retryAfterSeconds: 30 } });
  });
});

import type { RejectedItem } from '@backflow/contracts';
import { DomainError } from '../common/errors';

export const PredictionErrors = {
  invalid: (rejection: Omit<RejectedItem, 'index'>) => new DomainError(rejection.code, rejection.message, 400, rejection.field),
  batchRejected: (rejected: RejectedItem[], total: number) =>
    new DomainError(
      'predictions/batch_rejected',
      `${rejected.length} of ${total} items are invalid, so none was stored (send ?partial=true to store the valid ones); first: item ${rejected[0].index}: ${rejected[0].message}`,
      400,
      `${rejected[0].index}.${rejected[0].field}`,
      { rejected },
    ),
  batchTooLarge: (limit: number) =>
    new DomainError('predictions/batch_too_large', `a batch holds at most ${limit} items; split it, or stream it as application/x-ndjson`, 413, 'body', {
      limit,
    }),
  streamTooLarge: (limitBytes: number) =>
    new DomainError('predictions/stream_too_large', `the stream exceeds the limit of ${Math.round(limitBytes / 1024 / 1024)} MiB`, 413, 'body', { limitBytes }),
  notAnArray: () => new DomainError('validation/invalid', 'body: a batch is a JSON array, or application/x-ndjson', 400, 'body'),
};

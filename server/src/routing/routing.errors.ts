import { DomainError } from '../common/errors';

export const RoutingErrors = {
  invalidCursor: () =>
    new DomainError('routing/invalid_cursor', "cursor: not a cursor this server gave (pass a backfill reply's nextCursor as it is)", 400, 'cursor'),
};

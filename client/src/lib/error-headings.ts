import { isApiError, messageWithField } from './api';

/**
 * What happened, in a few words, from an error's stable code (`labeling/lease_expired`): the
 * heading above the server's message, where "Something went wrong" said nothing.
 */
const HEADINGS: Record<string, string> = {
  'labeling/lease_expired': 'Your hold on this task ended',
  'labeling/task_complete': 'This task already has its answers',
  'labeling/already_annotated': 'You have answered this task already',
  'labeling/not_claimed': 'This task is not leased to you',
  'labeling/task_not_found': 'This task is no longer in the project',
  'labeling/rater_paused': 'You are paused in this project',
  'labeling/undo_closed': 'Too late to take that answer back',
  'labeling/sitting_moved': 'You are labeling this project in another tab',
  'labeling/annotation_not_found': 'That answer is not there to take back',
  'labeling/annotation_id_conflict': 'That answer was sent with an id in use',
  'labeling/not_in_review': 'This task no longer waits for a review',
  'labeling/unknown_label': 'That label is not one of the project’s',
  'auth/unauthenticated': 'You are signed out',
  'auth/session_expired': 'Your session has ended',
  'auth/forbidden': 'Your role does not allow this',
  'auth/not_a_member': 'You are not a member of this project',
  'auth/rate_limited': 'Too many tries',
  'auth/cross_site': 'Refused: the request came from another site',
  'projects/not_found': 'There is no such project',
  'projects/slug_taken': 'That project address is taken',
  'users/email_taken': 'That e-mail address has an account already',
  'users/not_found': 'There is no such user',
  'memberships/not_found': 'That person is not a member',
  'api_keys/not_found': 'There is no such key',
  'exports/job_not_found': 'That export is not known',
  'validation/invalid': 'Something in the request is not valid',
  'database/unavailable': 'The database is not answering',
  'network/unreachable': 'Backflow cannot be reached',
  internal: 'The server had a problem',
};

/** Headings by the code's namespace, for a code of it not named above. */
const NAMESPACES: Record<string, string> = {
  labeling: 'Labeling could not go on',
  auth: 'Access refused',
  projects: 'The project could not be changed',
  users: 'The account could not be changed',
  memberships: 'The members could not be changed',
  exports: 'The export did not go through',
  interop: 'The import or export did not go through',
  routing: 'Routing could not answer',
  predictions: 'The predictions were refused',
  quality: 'Quality could not answer',
};

/** The heading for an error code; a code nobody named falls back to its namespace, then to its HTTP status. */
export function errorHeading(code: string | undefined, status?: number): string {
  if (code && HEADINGS[code]) return HEADINGS[code];
  const namespace = code?.split('/')[0];
  if (namespace && NAMESPACES[namespace]) return NAMESPACES[namespace];
  if (status === 404 || code === 'http/404') return 'Not found';
  if (status === 403 || code === 'http/403') return 'Your role does not allow this';
  if ((status ?? 0) >= 500 || /^http\/5/.test(code ?? '')) return 'The server had a problem';
  return 'That did not work';
}

/** A failed request's heading and the message under it (`fallback` when the error is not the server's). */
export function describeError(cause: unknown, fallback: string): { heading: string; message: string; requestId?: string } {
  if (!isApiError(cause)) return { heading: errorHeading(undefined), message: fallback };
  return {
    heading: errorHeading(cause.code, cause.status),
    message: messageWithField(cause.message, cause.field),
    requestId: cause.requestId,
  };
}

/** The heading for whatever failed: a server error by its code, anything else plainly. */
export function errorHeadingOf(cause: unknown): string {
  return isApiError(cause) ? errorHeading(cause.code, cause.status) : errorHeading(undefined);
}

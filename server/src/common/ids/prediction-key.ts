import { z } from 'zod';
import { uuidV5 } from './uuid-v5';

// the contract's UUID (any case) and the form PostgreSQL prints one in
const UUID = z.regexes.guid;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A prediction as stored: its key (`predictions.id`, what tasks, labels and feedback refer to) and the caller's id when that is not the key's text. */
export interface PredictionKey {
  id: string;
  /** the id as the caller sent it; null when it is the key itself (a lower-case UUID, or an id the server generated) */
  externalId: string | null;
}

/**
 * The key of a caller's prediction id in a project (ADR 0043): a UUID is its own key (lower
 * case, as PostgreSQL keeps it); any other id is the UUID version 5 of it in the project's
 * namespace, so a retry, and feedback that names the same id, reach the same prediction. The
 * caller's text is kept beside the key when it differs, to be answered and exported as sent.
 */
export function predictionKey(projectId: string, callerId: string): PredictionKey {
  if (CANONICAL_UUID.test(callerId)) return { id: callerId, externalId: null };
  if (UUID.test(callerId)) return { id: callerId.toLowerCase(), externalId: callerId };
  return { id: uuidV5(callerId, projectId), externalId: callerId };
}

/** Only the key of a caller's id (feedback, a training example's identifier). */
export const predictionKeyOf = (projectId: string, callerId: string): string => predictionKey(projectId, callerId).id;

import { queryOptions } from '@tanstack/react-query';
import type { ClaimReply, FeatureSchemaReply, QueueStats, RaterQueue, ReviewReply, ReviewRequestBody } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

/** The project's queue: what still needs answers, what waits for review, what was done today; the labeling socket pushes it too. */
export const queueStatsQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'queue'],
    queryFn: ({ signal }) => apiRequest<QueueStats>(`${base(slug)}/queue`, { signal }),
  });

/** Why a caught-up rater still sees open tasks: each by the first reason it is not theirs (read again whenever the depth changes). */
export const raterQueueQuery = (slug: string, depth: number | null) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'queue', 'mine', depth],
    queryFn: ({ signal }) => apiRequest<RaterQueue>(`${base(slug)}/queue/mine`, { signal }),
  });

/** Leases the next task waiting for a reviewer: a write (it holds the task for them), not a query. */
export async function claimReview(slug: string): Promise<ClaimReply['task']> {
  return (await apiRequest<ClaimReply>(`${base(slug)}/review/claim`, { method: 'POST', body: {} })).task;
}

export function decideReview(slug: string, taskId: string, decision: ReviewRequestBody): Promise<ReviewReply> {
  return apiRequest<ReviewReply>(`${base(slug)}/tasks/${taskId}/review`, { method: 'POST', body: decision });
}

/** The input fields the project's traffic has (the schema monitoring inferred, or the one uploaded), for admins laying out the rater screen. */
export const inputFieldsQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'monitoring', 'schema', 'fields'],
    queryFn: async ({ signal }) =>
      (await apiRequest<FeatureSchemaReply>(`${base(slug)}/monitoring/schema`, { signal })).features.map((f) => ({ name: f.name, masked: f.masked ?? false })),
  });

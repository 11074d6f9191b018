import { queryOptions } from '@tanstack/react-query';
import type { ClaimReply, QueueStats, ReviewReply, ReviewRequestBody } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

/** The project's queue: what still needs answers, what waits for review, what was done today; the labeling socket pushes it too. */
export const queueStatsQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'queue'],
    queryFn: ({ signal }) => apiRequest<QueueStats>(`${base(slug)}/queue`, { signal }),
  });

/** Leases the next task waiting for a reviewer: a write (it holds the task for them), not a query. */
export async function claimReview(slug: string): Promise<ClaimReply['task']> {
  return (await apiRequest<ClaimReply>(`${base(slug)}/review/claim`, { method: 'POST', body: {} })).task;
}

export function decideReview(slug: string, taskId: string, decision: ReviewRequestBody): Promise<ReviewReply> {
  return apiRequest<ReviewReply>(`${base(slug)}/tasks/${taskId}/review`, { method: 'POST', body: decision });
}

import type { QueueStats, TaskPayload } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

export function fetchQueueStats(slug: string, signal?: AbortSignal): Promise<QueueStats> {
  return apiRequest<QueueStats>(`/api/v1/projects/${encodeURIComponent(slug)}/queue`, { signal });
}

export async function claimReview(slug: string): Promise<TaskPayload | null> {
  return (await apiRequest<{ task: TaskPayload | null }>(`/api/v1/projects/${encodeURIComponent(slug)}/review/claim`, { method: 'POST', body: {} })).task;
}

export function decideReview(slug: string, taskId: string, label: string): Promise<{ taskState: string; label: string; agreement: number }> {
  return apiRequest(`/api/v1/projects/${encodeURIComponent(slug)}/tasks/${taskId}/review`, { method: 'POST', body: { label } });
}

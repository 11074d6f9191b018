import type { QueueStats } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

export function fetchQueueStats(slug: string, signal?: AbortSignal): Promise<QueueStats> {
  return apiRequest<QueueStats>(`/api/v1/projects/${encodeURIComponent(slug)}/queue`, { signal });
}

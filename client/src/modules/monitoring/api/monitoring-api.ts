import type { EvaluateReply, MonitoringReply, QualityReply } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

export function fetchMonitoring(slug: string, hours: number, signal?: AbortSignal): Promise<MonitoringReply> {
  return apiRequest<MonitoringReply>(`${base(slug)}/monitoring?hours=${hours}`, { signal });
}

export function evaluateNow(slug: string): Promise<EvaluateReply> {
  return apiRequest<EvaluateReply>(`${base(slug)}/monitoring/evaluate`, { method: 'POST' });
}

export function fetchQuality(slug: string, days: number, signal?: AbortSignal): Promise<QualityReply> {
  return apiRequest<QualityReply>(`${base(slug)}/quality?days=${days}`, { signal });
}

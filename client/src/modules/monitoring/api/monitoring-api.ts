import { queryOptions } from '@tanstack/react-query';
import type { ClickReport, EvaluateReply, FeedbackSignals, MonitoringReply, PreferenceReport, QualityReply } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

export const monitoringScope = (slug: string) => [...projectScope(slug), 'monitoring'] as const;

export const monitoringQuery = (slug: string, hours: number) =>
  queryOptions({
    queryKey: [...monitoringScope(slug), hours],
    queryFn: ({ signal }) => apiRequest<MonitoringReply>(`${base(slug)}/monitoring?hours=${hours}`, { signal }),
  });

export const qualityQuery = (slug: string, days: number) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'quality', days],
    queryFn: ({ signal }) => apiRequest<QualityReply>(`${base(slug)}/quality?days=${days}`, { signal }),
  });

/** A ranking project's clicks over the last `days`, day by day. */
export const clicksQuery = (slug: string, days: number) =>
  queryOptions({
    queryKey: [...monitoringScope(slug), 'clicks', days],
    queryFn: ({ signal }) => apiRequest<ClickReport>(`${base(slug)}/monitoring/clicks?days=${days}`, { signal }),
  });

/** A preference question's Bradley–Terry report over the last `days`. */
export const preferencesQuery = (slug: string, question: string, days: number) =>
  queryOptions({
    queryKey: [...monitoringScope(slug), 'preferences', question, days],
    queryFn: ({ signal }) => apiRequest<PreferenceReport>(`${base(slug)}/monitoring/preferences/${encodeURIComponent(question)}?days=${days}`, { signal }),
  });

/** Implicit feedback per model version over the last `days` (predictions made in them). */
export const feedbackSignalsQuery = (slug: string, days: number) =>
  queryOptions({
    queryKey: [...monitoringScope(slug), 'feedback', days],
    queryFn: ({ signal }) => apiRequest<FeedbackSignals>(`${base(slug)}/monitoring/feedback?days=${days}`, { signal }),
  });

export function evaluateNow(slug: string): Promise<EvaluateReply> {
  return apiRequest<EvaluateReply>(`${base(slug)}/monitoring/evaluate`, { method: 'POST' });
}

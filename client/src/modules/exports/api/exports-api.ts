import { queryOptions } from '@tanstack/react-query';
import type { ExportJob, ExportStarted, SpanList } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

export const exportsBase = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

export const spansQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'spans'],
    queryFn: async ({ signal }) => (await apiRequest<SpanList>(`${exportsBase(slug)}/spans`, { signal })).spans,
  });

export const exportJobQuery = (slug: string, job: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'exports', job],
    queryFn: ({ signal }) => apiRequest<ExportJob>(`${exportsBase(slug)}/exports/${job}`, { signal }),
  });

export function startExport(slug: string): Promise<ExportStarted> {
  return apiRequest<ExportStarted>(`${exportsBase(slug)}/exports`, { method: 'POST', body: {} });
}

import { queryOptions } from '@tanstack/react-query';
import type { KserveStatusReply, LabelStudioImportReply } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

export const interopBase = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

export const kserveStatusQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'kserve'],
    queryFn: ({ signal }) => apiRequest<KserveStatusReply>(`${interopBase(slug)}/integrations/kserve`, { signal }),
  });

/** Sends a Label Studio JSON export as it was read from the file: the server validates it, all or nothing. */
export function importLabelStudio(slug: string, tasks: unknown): Promise<LabelStudioImportReply> {
  return apiRequest<LabelStudioImportReply>(`${interopBase(slug)}/import/label-studio`, { method: 'POST', body: tasks });
}

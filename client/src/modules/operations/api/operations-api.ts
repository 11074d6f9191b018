import { queryOptions } from '@tanstack/react-query';
import type { OperationsReply } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

export const operationsQuery = (slug: string, minutes: number) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'operations', minutes],
    queryFn: ({ signal }) => apiRequest<OperationsReply>(`/api/v1/projects/${encodeURIComponent(slug)}/operations?minutes=${minutes}`, { signal }),
  });

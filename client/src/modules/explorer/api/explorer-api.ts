import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { ExampleDetail, ExplorerPage, RelabelRequest, SavedView, SavedViewRequest } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectScope } from '../../../lib/query';

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}/explorer`;

/** A search's filters as the URL and the API both hold them: names and values, a slice filter once per key. */
export type SearchParams = Array<[string, string]>;

export const explorerScope = (slug: string) => [...projectScope(slug), 'explorer'] as const;

/** Every page of a search, each asked for with the cursor of the one before. */
export const searchQuery = (slug: string, params: SearchParams) =>
  infiniteQueryOptions({
    queryKey: [...explorerScope(slug), 'search', params],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const query = new URLSearchParams(params);
      if (pageParam) query.set('cursor', pageParam);
      return apiRequest<ExplorerPage>(`${base(slug)}/predictions?${query.toString()}`, { signal });
    },
    getNextPageParam: (last) => last.next ?? undefined,
  });

export const exampleQuery = (slug: string, id: string) =>
  queryOptions({
    queryKey: [...explorerScope(slug), 'example', id],
    queryFn: ({ signal }) => apiRequest<ExampleDetail>(`${base(slug)}/predictions/${encodeURIComponent(id)}`, { signal }),
  });

export const relabel = (slug: string, id: string, body: RelabelRequest) =>
  apiRequest<ExampleDetail>(`${base(slug)}/predictions/${encodeURIComponent(id)}/label`, { method: 'POST', body });

export const viewsQuery = (slug: string) =>
  queryOptions({
    queryKey: [...explorerScope(slug), 'views'],
    queryFn: ({ signal }) => apiRequest<SavedView[]>(`${base(slug)}/views`, { signal }),
  });

export const saveView = (slug: string, body: SavedViewRequest) => apiRequest<SavedView>(`${base(slug)}/views`, { method: 'POST', body });

export const deleteView = (slug: string, id: string) => apiRequest<void>(`${base(slug)}/views/${encodeURIComponent(id)}`, { method: 'DELETE' });

import { queryOptions } from '@tanstack/react-query';
import type {
  RoutingBackfillReply,
  AddMemberRequestBody,
  ApiKeyListResponse,
  ApiKeyResponse,
  CreateApiKeyRequestBody,
  CreatedApiKeyResponse,
  CreateProjectRequestBody,
  MemberListResponse,
  MemberResponse,
  ProjectListResponse,
  ProjectResponse,
  RaterQualityList,
  RoutingPreviewReply,
  RoutingPreviewRequestBody,
  UpdateProjectRequestBody,
  LabelingFunctionPreviewReply,
  LabelingFunctionPreviewRequestBody,
  WeakSupervisionAnalysis,
} from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';
import { projectListKey, projectScope } from '../../../lib/query';

export type Project = ProjectResponse;
export type ApiKey = ApiKeyResponse;

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;

export const projectListQuery = () =>
  queryOptions({
    queryKey: projectListKey,
    queryFn: async ({ signal }) => (await apiRequest<ProjectListResponse>('/api/v1/projects', { signal })).projects,
  });

export const projectQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'project'],
    queryFn: ({ signal }) => apiRequest<Project>(base(slug), { signal }),
  });

export const apiKeysQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'api-keys'],
    queryFn: async ({ signal }) => (await apiRequest<ApiKeyListResponse>(`${base(slug)}/api-keys`, { signal })).apiKeys,
  });

export const membersQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'members'],
    queryFn: async ({ signal }) => (await apiRequest<MemberListResponse>(`${base(slug)}/members`, { signal })).members,
  });

export const ratersQuery = (slug: string) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'raters'],
    queryFn: async ({ signal }) => (await apiRequest<RaterQualityList>(`${base(slug)}/raters`, { signal })).raters,
  });

/** What a routing policy would have routed over the latest predictions: a read, sent as a POST for its body. */
export const routingPreviewQuery = (slug: string, preview: RoutingPreviewRequestBody) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'routing-preview', preview],
    queryFn: ({ signal }) => apiRequest<RoutingPreviewReply>(`${base(slug)}/routing/preview`, { method: 'POST', body: preview, signal }),
  });

export const weakAnalysisQuery = (slug: string, limit = 5_000) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'weak-analysis', limit],
    queryFn: ({ signal }) => apiRequest<WeakSupervisionAnalysis>(`${base(slug)}/weak-supervision/analysis?limit=${limit}`, { signal }),
  });

export const labelingFunctionPreviewQuery = (slug: string, preview: LabelingFunctionPreviewRequestBody) =>
  queryOptions({
    queryKey: [...projectScope(slug), 'weak-preview', preview],
    queryFn: ({ signal }) => apiRequest<LabelingFunctionPreviewReply>(`${base(slug)}/weak-supervision/preview`, { method: 'POST', body: preview, signal }),
  });

/** Routes past predictions without a task by the saved policy: a page of them, and the cursor to the next, older one. */
export function backfillRouting(slug: string, body: { limit: number; cursor?: string }): Promise<RoutingBackfillReply> {
  return apiRequest<RoutingBackfillReply>(`/api/v1/projects/${encodeURIComponent(slug)}/routing/backfill`, { method: 'POST', body });
}

export function createProject(body: CreateProjectRequestBody): Promise<Project> {
  return apiRequest<Project>('/api/v1/projects', { method: 'POST', body });
}

export function updateProject(slug: string, patch: UpdateProjectRequestBody): Promise<Project> {
  return apiRequest<Project>(base(slug), { method: 'PATCH', body: patch });
}

export function createApiKey(slug: string, body: CreateApiKeyRequestBody): Promise<CreatedApiKeyResponse> {
  return apiRequest<CreatedApiKeyResponse>(`${base(slug)}/api-keys`, { method: 'POST', body });
}

export function revokeApiKey(slug: string, id: string): Promise<ApiKey> {
  return apiRequest<ApiKey>(`${base(slug)}/api-keys/${id}`, { method: 'DELETE' });
}

export function addMember(slug: string, body: AddMemberRequestBody): Promise<MemberResponse> {
  return apiRequest<MemberResponse>(`${base(slug)}/members`, { method: 'POST', body });
}

export function removeMember(slug: string, userId: string): Promise<void> {
  return apiRequest<void>(`${base(slug)}/members/${userId}`, { method: 'DELETE' });
}

export function resumeRater(slug: string, raterId: string): Promise<void> {
  return apiRequest<void>(`${base(slug)}/raters/${raterId}/resume`, { method: 'POST' });
}

import type { FeedbackRules, RoutingPolicy, RoutingPreviewReply } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

export type TaskType = 'single_label' | 'multi_label' | (string & {});

export interface ProjectLabel {
  name: string;
  hotkey?: string;
  description?: string;
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  taskType: TaskType;
  labels: ProjectLabel[];
  overlap: number;
  instructions?: string;
  /** admins only */
  maskedFields?: string[];
  routing?: RoutingPolicy;
  feedbackRules?: FeedbackRules;
  myRole?: string;
  createdAt: string;
}

export interface ProjectListResponse {
  projects: Project[];
}

export async function fetchProjects(signal?: AbortSignal): Promise<Project[]> {
  const response = await apiRequest<ProjectListResponse>('/api/v1/projects', { signal });
  return response.projects;
}

export function fetchProject(slug: string, signal?: AbortSignal): Promise<Project> {
  return apiRequest<Project>(`/api/v1/projects/${encodeURIComponent(slug)}`, { signal });
}

export function createProject(body: Record<string, unknown>): Promise<Project> {
  return apiRequest<Project>('/api/v1/projects', { method: 'POST', body });
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export async function fetchApiKeys(slug: string, signal?: AbortSignal): Promise<ApiKey[]> {
  return (await apiRequest<{ apiKeys: ApiKey[] }>(`/api/v1/projects/${encodeURIComponent(slug)}/api-keys`, { signal })).apiKeys;
}

export function createApiKey(slug: string, body: { name: string; scopes: string[] }): Promise<ApiKey & { secret: string }> {
  return apiRequest(`/api/v1/projects/${encodeURIComponent(slug)}/api-keys`, { method: 'POST', body });
}

export function revokeApiKey(slug: string, id: string): Promise<ApiKey> {
  return apiRequest(`/api/v1/projects/${encodeURIComponent(slug)}/api-keys/${id}`, { method: 'DELETE' });
}

export function updateProject(slug: string, patch: Record<string, unknown>): Promise<Project> {
  return apiRequest<Project>(`/api/v1/projects/${encodeURIComponent(slug)}`, { method: 'PATCH', body: patch });
}

export function previewRouting(slug: string, policy: Record<string, unknown>, signal?: AbortSignal): Promise<RoutingPreviewReply> {
  return apiRequest<RoutingPreviewReply>(`/api/v1/projects/${encodeURIComponent(slug)}/routing/preview`, { method: 'POST', body: policy, signal });
}

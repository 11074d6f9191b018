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

import { queryOptions } from '@tanstack/react-query';
import type {
  AdminUserResponse,
  CreateUserRequestBody,
  PasswordResetResponse,
  ResetPasswordRequestBody,
  UpdateUserRequestBody,
  UserListResponse,
} from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

export const usersQuery = () =>
  queryOptions({
    queryKey: ['users'],
    queryFn: async ({ signal }) => (await apiRequest<UserListResponse>('/api/v1/users', { signal })).users,
  });

export function createUser(body: CreateUserRequestBody): Promise<AdminUserResponse> {
  return apiRequest<AdminUserResponse>('/api/v1/users', { method: 'POST', body });
}

export function updateUser(id: string, patch: UpdateUserRequestBody): Promise<AdminUserResponse> {
  return apiRequest<AdminUserResponse>(`/api/v1/users/${id}`, { method: 'PATCH', body: patch });
}

export function resetPassword(id: string, body: ResetPasswordRequestBody): Promise<PasswordResetResponse> {
  return apiRequest<PasswordResetResponse>(`/api/v1/users/${id}/password`, { method: 'POST', body });
}

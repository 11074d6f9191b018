import { apiRequest } from '../../../lib/api';

export type UserRole = 'admin' | 'reviewer' | 'rater' | (string & {});

export interface User {
  id: string;
  email: string;
  role: UserRole;
}

export interface Membership {
  projectSlug: string;
  role: string;
}

export interface Session {
  user: User;
  memberships: Membership[];
}

export interface LoginRequest {
  email: string;
  password: string;
}

export interface LoginResponse {
  token: string;
  user: User;
}

export function logIn(credentials: LoginRequest): Promise<LoginResponse> {
  return apiRequest<LoginResponse>('/api/v1/auth/login', { method: 'POST', body: credentials });
}

export function logOut(): Promise<void> {
  return apiRequest<void>('/api/v1/auth/logout', { method: 'POST' });
}

export function fetchSession(signal?: AbortSignal): Promise<Session> {
  return apiRequest<Session>('/api/v1/me', { signal });
}

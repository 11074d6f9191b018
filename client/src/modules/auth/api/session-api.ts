import type { LoginRequestBody, LoginResponse, MeResponse, UserResponse } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

/** Who is signed in, and the projects they are a member of. */
export type Session = MeResponse;
export type User = UserResponse;

export function logIn(credentials: LoginRequestBody): Promise<LoginResponse> {
  return apiRequest<LoginResponse>('/api/v1/auth/login', { method: 'POST', body: credentials });
}

export function logOut(): Promise<void> {
  return apiRequest<void>('/api/v1/auth/logout', { method: 'POST' });
}

export function fetchSession(signal?: AbortSignal): Promise<Session> {
  return apiRequest<Session>('/api/v1/me', { signal });
}

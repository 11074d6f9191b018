import { queryOptions } from '@tanstack/react-query';
import type {
  ChangePasswordRequestBody,
  LoginRequestBody,
  LoginResponse,
  MeResponse,
  PasswordChangedResponse,
  SignInMethodsResponse,
  UserResponse,
} from '@backflow/contracts';
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

/** How people sign in here: a password, the OpenID provider, or both (asked before anybody is signed in). */
export const signInMethodsQuery = () =>
  queryOptions({
    queryKey: ['sign-in-methods'],
    queryFn: ({ signal }) => apiRequest<SignInMethodsResponse>('/api/v1/auth/methods', { signal }),
    staleTime: Infinity,
  });

export function changePassword(body: ChangePasswordRequestBody): Promise<PasswordChangedResponse> {
  return apiRequest<PasswordChangedResponse>('/api/v1/me/password', { method: 'POST', body });
}

/** Where the provider's button sends the browser: it comes back to the page it left, signed in. */
export function ssoLoginHref(loginUrl: string, returnTo: string): string {
  return returnTo === '/' || returnTo.startsWith('/api/') ? loginUrl : `${loginUrl}?returnTo=${encodeURIComponent(returnTo)}`;
}

import { useCallback, useEffect, useState } from 'react';
import { ApiError, isApiError, onUnauthorized } from '../../../lib/api';
import { onSessionRevoked } from '../../../lib/socket';
import { fetchSession, logIn, logOut, type LoginRequest, type Session } from '../api/session-api';

export type SessionState =
  { status: 'loading' } | { status: 'signed-out'; notice?: string } | { status: 'signed-in'; session: Session } | { status: 'unavailable'; error: ApiError };

export interface SessionControls {
  state: SessionState;
  signIn: (credentials: LoginRequest) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
}

export function useSession(): SessionControls {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    fetchSession(controller.signal).then(
      (session) => setState({ status: 'signed-in', session }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (isApiError(error) && error.status === 401) setState({ status: 'signed-out' });
        else setState({ status: 'unavailable', error: toApiError(error) });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  useEffect(
    () =>
      onUnauthorized(() =>
        setState((current) =>
          current.status === 'signed-in' ? { status: 'signed-out', notice: 'Your session has ended. Sign in again to continue.' } : current,
        ),
      ),
    [],
  );

  // a socket heard the session end (signed out elsewhere, account disabled): to sign-in, saying why
  useEffect(() => onSessionRevoked((notice) => setState((current) => (current.status === 'signed-in' ? { status: 'signed-out', notice } : current))), []);

  const signIn = useCallback(async (credentials: LoginRequest) => {
    await logIn(credentials);
    try {
      setState({ status: 'signed-in', session: await fetchSession() });
    } catch (error) {
      if (isApiError(error) && error.status === 401) {
        throw new ApiError(401, {
          code: 'auth/session_not_kept',
          message: 'Signed in, but the browser did not keep the session cookie. Allow cookies for this site and try again.',
          requestId: error.requestId,
        });
      }
      throw error;
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await logOut();
      setState({ status: 'signed-out' });
    } catch (error) {
      const alreadyEnded = isApiError(error) && error.status === 401;
      setState({
        status: 'signed-out',
        notice: alreadyEnded ? undefined : 'Signed out here, but the server could not be reached to end the session.',
      });
    }
  }, []);

  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((count) => count + 1);
  }, []);

  return { state, signIn, signOut, retry };
}

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError(0, { code: 'client/unexpected', message: 'Something went wrong while loading Backflow.' });
}

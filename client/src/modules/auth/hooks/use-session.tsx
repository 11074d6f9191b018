import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { LoginRequestBody } from '@backflow/contracts';
import { ApiError, isApiError, onUnauthorized } from '../../../lib/api';
import { sessionKey } from '../../../lib/query';
import { onSessionRevoked } from '../../../lib/socket';
import { fetchSession, logIn, logOut, type Session } from '../api/session-api';

export type SessionState =
  { status: 'loading' } | { status: 'signed-out'; notice?: string } | { status: 'signed-in'; session: Session } | { status: 'unavailable'; error: ApiError };

export interface SessionControls {
  state: SessionState;
  signIn: (credentials: LoginRequestBody) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
}

const SessionContext = createContext<SessionControls | null>(null);

// the session query's data: the session, or null when nobody is signed in (the server answered 401)
async function currentSession(signal: AbortSignal): Promise<Session | null> {
  try {
    return await fetchSession(signal);
  } catch (error) {
    if (isApiError(error) && error.status === 401) return null;
    throw error;
  }
}

/** Who is signed in, for every screen below it: the session is a query, sign-in and sign-out change it, and a 401 or a socket ends it. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: sessionKey, queryFn: ({ signal }) => currentSession(signal), staleTime: Infinity });
  const [notice, setNotice] = useState<string | undefined>(undefined);

  // signed out: what was read as this person leaves the cache with them
  const end = useCallback(
    (reason?: string) => {
      setNotice(reason);
      queryClient.removeQueries({ predicate: (cached) => cached.queryKey[0] !== sessionKey[0] });
      queryClient.setQueryData<Session | null>(sessionKey, null);
    },
    [queryClient],
  );
  const signedIn = query.data != null;

  useEffect(() => onUnauthorized(() => signedIn && end('Your session has ended. Sign in again to continue.')), [signedIn, end]);
  // a socket heard the session end (signed out elsewhere, account disabled): to sign-in, saying why
  useEffect(() => onSessionRevoked((reason) => signedIn && end(reason)), [signedIn, end]);

  const signIn = useCallback(
    async (credentials: LoginRequestBody) => {
      await logIn(credentials);
      let session: Session;
      try {
        session = await fetchSession();
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
      setNotice(undefined);
      queryClient.setQueryData<Session | null>(sessionKey, session);
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await logOut();
      end();
    } catch (error) {
      const alreadyEnded = isApiError(error) && error.status === 401;
      end(alreadyEnded ? undefined : 'Signed out here, but the server could not be reached to end the session.');
    }
  }, [end]);

  const retry = useCallback(() => void queryClient.resetQueries({ queryKey: sessionKey }), [queryClient]);

  const state = useMemo((): SessionState => {
    if (query.isPending) return { status: 'loading' };
    if (query.isError) return { status: 'unavailable', error: toApiError(query.error) };
    return query.data ? { status: 'signed-in', session: query.data } : { status: 'signed-out', notice };
  }, [query.isPending, query.isError, query.error, query.data, notice]);

  const controls = useMemo(() => ({ state, signIn, signOut, retry }), [state, signIn, signOut, retry]);
  return <SessionContext.Provider value={controls}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionControls {
  const controls = useContext(SessionContext);
  if (!controls) throw new Error('useSession() outside <SessionProvider>');
  return controls;
}

/** The signed-in person's session, on a screen that is only shown to someone signed in. */
export function useSignedInSession(): Session {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useSignedInSession() while nobody is signed in');
  return state.session;
}

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError(0, { code: 'client/unexpected', message: 'Something went wrong while loading Backflow.' });
}

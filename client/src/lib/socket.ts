import { useEffect, useEffectEvent } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { AccessRevoked, ExportProgress, LabelingClientEvents, LabelingServerEvents, SessionRevoked } from '@backflow/contracts';

export type LabelingSocket = Socket<LabelingServerEvents, LabelingClientEvents>;

/** The labeling socket, authenticated by the session cookie; socket.io retries an unacknowledged emit with the same packet. */
export function connectLabeling(): LabelingSocket {
  return io('/labeling', { transports: ['websocket'], withCredentials: true, retries: 10, ackTimeout: 10_000 });
}

const SESSION_ENDED: Record<SessionRevoked['reason'], string> = {
  signed_out: 'You were signed out (here or in another window). Sign in again to continue.',
  user_disabled: 'Your account has been disabled by an administrator.',
  session_expired: 'Your session has expired. Sign in again to continue.',
  password_changed: 'Your password was changed (here, in another window or by an administrator). Sign in again with the new one.',
};

/** Why the server ended the session, for the person. */
export function sessionEndedMessage(payload: SessionRevoked): string {
  return SESSION_ENDED[payload.reason] ?? 'Your session has ended. Sign in again to continue.';
}

/** Why the server took a project away, for the person. */
export function accessRevokedMessage(payload: AccessRevoked): string {
  return payload.reason === 'role_lowered'
    ? 'Your role was changed by an administrator: you can no longer label this project.'
    : 'An administrator removed you from this project: you can no longer label it.';
}

type SessionRevokedListener = (message: string) => void;
const sessionRevokedListeners = new Set<SessionRevokedListener>();

/** Called when a socket hears that the session ended, so the app can send the person to sign in, saying why. */
export function onSessionRevoked(listener: SessionRevokedListener): () => void {
  sessionRevokedListeners.add(listener);
  return () => {
    sessionRevokedListeners.delete(listener);
  };
}

/** Listens for the session's end on a socket and tells the app; returns a function that stops listening. */
export function watchSession(socket: LabelingSocket): () => void {
  const ended = (payload: SessionRevoked) => sessionRevokedListeners.forEach((listener) => listener(sessionEndedMessage(payload)));
  socket.on('session:revoked', ended);
  return () => {
    socket.off('session:revoked', ended);
  };
}

/** While `job` is set, hears its export's progress (the server pushes it to admins' sockets) and hands each step to `onProgress`. */
export function useExportProgress(job: string | undefined, onProgress: (progress: ExportProgress) => void): void {
  const heard = useEffectEvent(onProgress);
  useEffect(() => {
    if (!job) return;
    const socket = connectLabeling();
    socket.on('export:progress', (progress) => {
      if (progress.job === job) heard(progress);
    });
    return () => {
      socket.close();
    };
  }, [job]);
}

import { useCallback, useEffect, useReducer, useRef } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ClaimReply, ReviewRequestBody, SkipRequest, SocketError, SocketReply, TaskPayload } from '@backflow/contracts';
import { projectListKey, sessionKey } from '../../../lib/query';
import { accessRevokedMessage, connectLabeling, type LabelingSocket, sessionEndedMessage, watchSession } from '../../../lib/socket';
import { queueStatsQuery } from '../api/labeling-api';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'refused';

export interface LabelingState {
  connection: ConnectionStatus;
  /** the task on screen */
  current: TaskPayload | null;
  /** the next one, already leased and loaded: no wait between tasks */
  next: TaskPayload | null;
  /** the first claim has answered */
  ready: boolean;
  /** answers sent and not yet acknowledged (they are retried with the same ids across reconnects) */
  unsent: number;
  /** answers acknowledged in this sitting */
  done: number;
  /** the last answer, which Z takes back while its task is open */
  last: { taskId: string; annotationId: string; stored: boolean } | null;
  notice: string | null;
  error: string | null;
  /** why the server refused this rater (not a member, paused, removed, signed out) */
  refusal: string | null;
}

interface Slots {
  current: TaskPayload | null;
  next: TaskPayload | null;
}

type Action =
  | { type: 'connection'; status: ConnectionStatus }
  | { type: 'slots'; slots: Slots; ready?: boolean }
  | { type: 'sent' }
  | { type: 'acknowledged'; ok: boolean; error?: string; annotationId: string }
  | { type: 'last'; last: LabelingState['last'] }
  | { type: 'undone' }
  | { type: 'notice'; message: string | null }
  | { type: 'refused'; message: string }
  | { type: 'error'; message: string | null };

const initial: LabelingState = {
  connection: 'connecting',
  current: null,
  next: null,
  ready: false,
  unsent: 0,
  done: 0,
  last: null,
  notice: null,
  error: null,
  refusal: null,
};

/** A task goes on screen if the screen is free, else into the next slot; a task already held is not taken twice. */
function place(slots: Slots, task: TaskPayload | null): Slots {
  if (!task || slots.current?.id === task.id || slots.next?.id === task.id) return slots;
  if (!slots.current) return { ...slots, current: task };
  if (!slots.next) return { ...slots, next: task };
  return slots;
}

function reducer(state: LabelingState, action: Action): LabelingState {
  switch (action.type) {
    case 'connection':
      return { ...state, connection: action.status };
    case 'slots':
      return { ...state, ...action.slots, ready: state.ready || Boolean(action.ready) };
    case 'sent':
      return { ...state, unsent: state.unsent + 1 };
    case 'acknowledged': {
      const last = state.last?.annotationId === action.annotationId ? (action.ok ? { ...state.last, stored: true } : null) : state.last;
      return {
        ...state,
        last,
        unsent: Math.max(0, state.unsent - 1),
        done: state.done + (action.ok ? 1 : 0),
        error: action.ok ? state.error : (action.error ?? null),
      };
    }
    case 'last':
      return { ...state, last: action.last };
    case 'undone':
      return { ...state, last: null, done: Math.max(0, state.done - 1) };
    case 'notice':
      return { ...state, notice: action.message };
    case 'refused':
      return { ...state, connection: 'refused', refusal: action.message };
    case 'error':
      return { ...state, error: action.message };
  }
}

const failed = <T>(reply: SocketReply<T>): reply is SocketError => typeof reply === 'object' && reply !== null && 'error' in reply;

// the current task's lease is renewed this often while it is on screen
const HEARTBEAT_MS = 30_000;

/**
 * A rater's sitting in a project over the labeling socket: the task on screen and the next one
 * leased ahead, answers sent with their ids and retried by socket.io until acknowledged, queue
 * stats as the server pushes them (into the query cache), and a new task pushed when one appears while idle.
 */
export function useLabeling(slug: string) {
  const [state, dispatch] = useReducer(reducer, initial);
  const queryClient = useQueryClient();
  const stats = useQuery(queueStatsQuery(slug));
  const socketRef = useRef<LabelingSocket | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;
  // the slots change synchronously here (a claim's reply decides whether to claim again), and render from the reducer
  const slotsRef = useRef<Slots>({ current: null, next: null });
  const setSlots = useCallback((slots: Slots, ready?: boolean) => {
    slotsRef.current = slots;
    dispatch({ type: 'slots', slots, ready });
  }, []);

  /** A claim's reply (asked for, or carried by a submit's acknowledgement): the task into a slot, or why there is none. */
  const received = useCallback(
    (reply: SocketReply<ClaimReply>) => {
      if (failed(reply)) {
        if (reply.error.code.startsWith('auth/') || reply.error.code === 'labeling/rater_paused') dispatch({ type: 'refused', message: reply.error.message });
        else dispatch({ type: 'error', message: reply.error.message });
        return;
      }
      setSlots(place(slotsRef.current, reply.task), true);
    },
    [setSlots],
  );

  const claim = useCallback(async () => {
    const socket = socketRef.current;
    if (!socket) return;
    received(await socket.emitWithAck('task:claim', { project: slug }));
  }, [slug, received]);

  /** Fills both slots: the task on screen and the one after it. */
  const fill = useCallback(async () => {
    if (slotsRef.current.current && slotsRef.current.next) return;
    await claim();
    if (slotsRef.current.current && !slotsRef.current.next) await claim();
  }, [claim]);

  useEffect(() => {
    const socket = connectLabeling();
    socketRef.current = socket;
    // the server said why it is cutting the connection: no reconnecting, the reason stays on screen
    let revoked = false;
    const unwatch = watchSession(socket);
    socket.on('session:revoked', (payload) => {
      revoked = true;
      dispatch({ type: 'refused', message: sessionEndedMessage(payload) });
    });
    socket.on('access:revoked', (payload) => {
      // their memberships changed: the projects they see and their session's list of them
      void queryClient.invalidateQueries({ queryKey: projectListKey });
      void queryClient.invalidateQueries({ queryKey: sessionKey });
      if (payload.project !== undefined && payload.project !== slug) return;
      revoked = true;
      dispatch({ type: 'refused', message: accessRevokedMessage(payload) });
    });
    socket.on('connect', () => {
      dispatch({ type: 'connection', status: 'connected' });
      void fill();
    });
    socket.on('disconnect', (reason) => {
      if (revoked) return;
      dispatch({ type: 'connection', status: 'reconnecting' });
      // socket.io reconnects by itself unless the server closed the socket on purpose: try once more (a revoked session is then refused at connect)
      if (reason === 'io server disconnect') window.setTimeout(() => socket.connect(), 1_000);
    });
    socket.on('connect_error', (error) => {
      if (/unauthenticated|forbidden/.test(error.message)) dispatch({ type: 'refused', message: 'Your session has ended: sign in again.' });
      else dispatch({ type: 'connection', status: 'reconnecting' });
    });
    socket.on('task:assigned', ({ task }) => {
      if (task.project === slug) setSlots(place(slotsRef.current, task));
    });
    socket.on('queue:stats', (pushed) => {
      if (pushed.project === slug) queryClient.setQueryData(queueStatsQuery(slug).queryKey, pushed);
    });
    socket.on('lease:expired', ({ taskId }) => {
      // the task is claimable again; take it back if nobody has (the answer is accepted while needed anyway)
      if (slotsRef.current.current?.id === taskId) void socket.emitWithAck('task:heartbeat', { project: slug, taskId }).catch(() => undefined);
    });
    return () => {
      unwatch();
      socket.removeAllListeners();
      socket.close();
      socketRef.current = null;
    };
  }, [slug, fill, setSlots, queryClient]);

  // keep the lease of the task on screen while the page is open
  const currentId = state.current?.id;
  useEffect(() => {
    if (!currentId) return;
    const timer = window.setInterval(() => {
      const socket = socketRef.current;
      if (!socket?.connected || document.visibilityState !== 'visible') return;
      void socket
        .emitWithAck('task:heartbeat', { project: slug, taskId: currentId })
        .then((reply) => {
          if (failed(reply)) return;
          const renew = (task: TaskPayload | null) => (task?.id === reply.taskId ? { ...task, leaseExpiresAt: reply.leaseExpiresAt } : task);
          setSlots({ current: renew(slotsRef.current.current), next: renew(slotsRef.current.next) });
        })
        .catch(() => undefined);
    }, HEARTBEAT_MS);
    return () => window.clearInterval(timer);
  }, [slug, currentId, setSlots]);

  /**
   * Answers the task on screen and shows the next at once; the acknowledgement comes when it comes,
   * with the task after it leased in the same round trip.
   */
  const submit = useCallback(
    (answer: ReviewRequestBody, timeSpentMs: number) => {
      const socket = socketRef.current;
      const task = slotsRef.current.current;
      if (!socket || !task) return;
      setSlots({ current: slotsRef.current.next, next: null });
      dispatch({ type: 'sent' });
      const annotation = { id: crypto.randomUUID(), ...answer, timeSpentMs: Math.max(0, Math.round(timeSpentMs)) };
      dispatch({ type: 'last', last: { taskId: task.id, annotationId: annotation.id, stored: false } });
      dispatch({ type: 'notice', message: null });
      // the claim carried by the acknowledgement: nothing more to ask when it failed, found nothing, or filled the last slot
      let settled = false;
      socket
        .emitWithAck('task:submit', { project: slug, taskId: task.id, annotation, next: true })
        .then((reply) => {
          if (failed(reply)) return dispatch({ type: 'acknowledged', ok: false, error: reply.error.message, annotationId: annotation.id });
          dispatch({ type: 'acknowledged', ok: true, annotationId: annotation.id });
          if (reply.next) {
            received(reply.next);
            settled = failed(reply.next) || !reply.next.task || Boolean(slotsRef.current.next);
          }
        })
        .catch(() => dispatch({ type: 'acknowledged', ok: false, error: 'An answer could not be delivered after several tries.', annotationId: annotation.id }))
        .finally(() => {
          if (!settled) void fill();
        });
    },
    [slug, fill, setSlots, received],
  );

  const skip = useCallback(
    (request: SkipRequest) => {
      const socket = socketRef.current;
      const task = slotsRef.current.current;
      if (!socket || !task) return;
      setSlots({ current: slotsRef.current.next, next: null });
      socket
        .emitWithAck('task:skip', { project: slug, taskId: task.id, ...request })
        .then((reply) => {
          if (failed(reply)) dispatch({ type: 'error', message: reply.error.message });
        })
        .catch(() => dispatch({ type: 'error', message: 'The skip could not be delivered.' }))
        .finally(() => void fill());
    },
    [slug, fill, setSlots],
  );

  /** Takes back the last answer while its task is open: the task comes back on screen. */
  const undo = useCallback(async () => {
    const socket = socketRef.current;
    const last = stateRef.current.last;
    if (!socket) return;
    if (!last) return dispatch({ type: 'notice', message: 'There is no answer to take back.' });
    if (!last.stored) return dispatch({ type: 'notice', message: 'Your last answer is still on its way: try again in a moment.' });
    const reply = await socket.emitWithAck('task:undo', { project: slug, taskId: last.taskId, annotationId: last.annotationId }).catch(() => null);
    if (!reply) return dispatch({ type: 'notice', message: 'The undo could not be delivered.' });
    if (failed(reply))
      return dispatch({
        type: 'notice',
        message: reply.error.code === 'labeling/undo_closed' ? 'Too late to undo: that task already has the answers it asked for.' : reply.error.message,
      });
    const { current, next } = slotsRef.current;
    const ahead = [current, next].filter((t): t is TaskPayload => t !== null && t.id !== reply.released && t.id !== reply.task.id);
    setSlots({ current: reply.task, next: ahead[0] ?? null });
    dispatch({ type: 'undone' });
    dispatch({ type: 'notice', message: 'Answer taken back: label this task again.' });
  }, [slug, setSlots]);

  const dismissError = useCallback(() => dispatch({ type: 'error', message: null }), []);

  return { state, stats: stats.data ?? null, submit, skip, undo, dismissError };
}

import { useCallback, useEffect, useReducer, useRef } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  DEFAULT_UNDO_SECONDS,
  type ClaimReply,
  type ReviewRequestBody,
  type SkipRequest,
  type SocketError,
  type SocketReply,
  type SubmitAnnotationRequest,
  type TaskPayload,
} from '@backflow/contracts';
import { projectListKey, sessionKey } from '../../../lib/query';
import { accessRevokedMessage, connectLabeling, type LabelingSocket, sessionEndedMessage, watchSession } from '../../../lib/socket';
import { queueStatsQuery } from '../api/labeling-api';
import { forgetDrafts } from './use-questions-form';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'refused';

/** The rater's last answer, as the confirmation under the task shows it. */
export interface LastAnswer {
  taskId: string;
  annotationId: string;
  /** what was answered, in a few words ("spam") */
  summary: string;
  /**
   * holding: kept in this page until `sendAt`, so Undo takes it back without asking the server
   * (even when this one answer will decide the task); sending: on its way; stored: acknowledged
   */
  phase: 'holding' | 'sending' | 'stored';
  /** epoch ms when a held answer goes */
  sendAt?: number;
  /** stored, and its task still waits for other raters: the server can still take it back */
  undoable: boolean;
}

export interface LabelingState {
  connection: ConnectionStatus;
  /** the task on screen */
  current: TaskPayload | null;
  /** the next one, already leased and loaded: no wait between tasks */
  next: TaskPayload | null;
  /** the first resume or claim has answered */
  ready: boolean;
  /** answers sent and not yet acknowledged (they are retried with the same ids across reconnects) */
  unsent: number;
  /** answers acknowledged in this sitting */
  done: number;
  last: LastAnswer | null;
  notice: string | null;
  /** a refusal to show with a heading from its code */
  error: { code: string; message: string } | null;
  /** why the server refused this rater (not a member, paused, removed, signed out) */
  refusal: string | null;
  /** the rater resumed this project in another tab or window: this one shows no task until they resume here */
  moved: boolean;
}

interface Slots {
  current: TaskPayload | null;
  next: TaskPayload | null;
}

type Action =
  | { type: 'connection'; status: ConnectionStatus }
  | { type: 'slots'; slots: Slots; ready?: boolean }
  | { type: 'sent' }
  | { type: 'acknowledged'; ok: boolean; annotationId: string; taskState?: string; sent: boolean }
  | { type: 'last'; last: LastAnswer | null }
  | { type: 'undone' }
  | { type: 'notice'; message: string | null }
  | { type: 'refused'; message: string }
  | { type: 'error'; error: LabelingState['error'] }
  | { type: 'moved'; moved: boolean };

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
  moved: false,
};

function reducer(state: LabelingState, action: Action): LabelingState {
  switch (action.type) {
    case 'connection':
      return { ...state, connection: action.status };
    case 'slots':
      return { ...state, ...action.slots, ready: state.ready || Boolean(action.ready) };
    case 'sent':
      return { ...state, unsent: state.unsent + 1 };
    case 'acknowledged': {
      const mine = state.last?.annotationId === action.annotationId;
      const last = mine && state.last ? (action.ok ? { ...state.last, phase: 'stored' as const, undoable: action.taskState === 'queued' } : null) : state.last;
      return { ...state, last, unsent: action.sent ? Math.max(0, state.unsent - 1) : state.unsent, done: state.done + (action.ok ? 1 : 0) };
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
      return { ...state, error: action.error };
    case 'moved':
      return { ...state, moved: action.moved };
  }
}

const failed = <T>(reply: SocketReply<T>): reply is SocketError => typeof reply === 'object' && reply !== null && 'error' in reply;

// the leases a rater holds at most (the server's cap): the task on screen and the next one
const MAX_HELD = 2;
// the current task's lease is renewed this often while it is on screen
const HEARTBEAT_MS = 30_000;

/** An answer given and not yet acknowledged: held for the undo window, or on its way. */
interface Pending {
  task: TaskPayload;
  annotation: SubmitAnnotationRequest & { id: string };
  summary: string;
  sendAt: number;
  timer?: number;
  sending?: boolean;
}

/** What survives the page (a reload, a crash, a closed tab): every answer not yet acknowledged, sent again when the project is next opened here. */
interface Kept {
  task: TaskPayload;
  annotation: Pending['annotation'];
  summary: string;
}

const outboxKey = (raterId: string, slug: string) => `backflow:outbox:${raterId}:${slug}`;
const onScreenKey = (slug: string) => `backflow:on-screen:${slug}`;

function readKept(key: string): Kept[] {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(key) ?? '[]');
    return Array.isArray(parsed) ? (parsed as Kept[]).filter((k) => k && typeof k.annotation?.id === 'string' && typeof k.task?.id === 'string') : [];
  } catch {
    return [];
  }
}

function storeItem(storage: 'local' | 'session', key: string, value: string | null): void {
  try {
    const store = storage === 'local' ? window.localStorage : window.sessionStorage;
    if (value === null) store.removeItem(key);
    else store.setItem(key, value);
  } catch {
    // storage refused (private mode, full): only the convenience is lost
  }
}

/** Why a submit was refused, when the refusal means the answer is simply not needed (another tab or rater got there first). */
const NOT_NEEDED: Record<string, string> = {
  'labeling/already_annotated': 'That task had been answered already (in another tab or window): on to the next one.',
  'labeling/task_complete': 'That task got the answers it needed from other raters before yours arrived: yours was not needed.',
};

/**
 * A rater's sitting in a project over the labeling socket: the task on screen and the next one
 * leased ahead; each answer held for the project's undo window (Undo takes it back without the
 * server, even when one answer decides its task), then sent with its id and retried until
 * acknowledged (kept in localStorage until then, so a reload or a crash sends it again); a reload
 * resumes the tasks this rater holds, the one it showed first; a second tab takes the sitting over
 * and this one says so; queue stats as the server pushes them (into the query cache).
 */
export function useLabeling(slug: string, raterId: string) {
  const [state, dispatch] = useReducer(reducer, initial);
  const queryClient = useQueryClient();
  const stats = useQuery(queueStatsQuery(slug));
  const socketRef = useRef<LabelingSocket | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;
  const movedRef = useRef(false);
  const outbox = useRef(new Map<string, Pending>());
  const keptKey = outboxKey(raterId, slug);
  // the slots change synchronously here (a claim's reply decides whether to claim again), and render from the reducer
  const slotsRef = useRef<Slots>({ current: null, next: null });
  const setSlots = useCallback((slots: Slots, ready?: boolean) => {
    slotsRef.current = slots;
    dispatch({ type: 'slots', slots, ready });
  }, []);

  const inOutbox = (taskId: string) => [...outbox.current.values()].some((p) => p.task.id === taskId);

  /** A task goes on screen if the screen is free, else into the next slot; a task held already, or answered and on its way, is not taken twice. */
  const place = useCallback((slots: Slots, task: TaskPayload | null): Slots => {
    if (!task || slots.current?.id === task.id || slots.next?.id === task.id || inOutbox(task.id)) return slots;
    if (!slots.current) return { ...slots, current: task };
    if (!slots.next) return { ...slots, next: task };
    return slots;
  }, []);

  const keepOutbox = useCallback(() => {
    const kept: Kept[] = [...outbox.current.values()].map(({ task, annotation, summary }) => ({ task, annotation, summary }));
    storeItem('local', keptKey, kept.length ? JSON.stringify(kept) : null);
  }, [keptKey]);

  const moveAway = useCallback(() => {
    movedRef.current = true;
    dispatch({ type: 'moved', moved: true });
    setSlots({ current: null, next: null });
  }, [setSlots]);

  /** A claim's reply (asked for, or carried by a submit's acknowledgement): the task into a slot, or why there is none. */
  const received = useCallback(
    (reply: SocketReply<ClaimReply>) => {
      if (failed(reply)) {
        const { code, message } = reply.error;
        if (code === 'labeling/sitting_moved') moveAway();
        else if (code.startsWith('auth/') || code === 'labeling/rater_paused') dispatch({ type: 'refused', message });
        else dispatch({ type: 'error', error: { code, message } });
        return;
      }
      if (!movedRef.current) setSlots(place(slotsRef.current, reply.task), true);
    },
    [setSlots, place, moveAway],
  );

  const claim = useCallback(async () => {
    const socket = socketRef.current;
    if (!socket || movedRef.current) return;
    received(await socket.emitWithAck('task:claim', { project: slug }));
  }, [slug, received]);

  /**
   * Fills both slots: the task on screen and the one after it, within the two leases a rater holds
   * (an answer held or on its way still holds its task's lease: a claim at the cap would hand that
   * task back, and the submit that sends it leases the next one anyway).
   */
  const fill = useCallback(async () => {
    for (let i = 0; i < MAX_HELD; i++) {
      const slots = slotsRef.current;
      const held = outbox.current.size + (slots.current ? 1 : 0) + (slots.next ? 1 : 0);
      if (movedRef.current || (slots.current && slots.next) || held >= MAX_HELD) return;
      await claim();
      if (slotsRef.current === slots) return; // nothing new for this rater
    }
  }, [claim]);

  /** Sends a held (or kept) answer now; with the next task leased in the same round trip unless this tab moved away. */
  const send = useCallback(
    (pending: Pending) => {
      const socket = socketRef.current;
      if (!socket || pending.sending) return;
      window.clearTimeout(pending.timer);
      pending.sending = true;
      const { annotation, task } = pending;
      if (stateRef.current.last?.annotationId === annotation.id) dispatch({ type: 'last', last: { ...stateRef.current.last, phase: 'sending' } });
      dispatch({ type: 'sent' });
      // the claim carried by the acknowledgement: nothing more to ask when it failed, found nothing, or filled the last slot
      let settled = false;
      const done = () => {
        outbox.current.delete(annotation.id);
        keepOutbox();
      };
      socket
        .emitWithAck('task:submit', { project: slug, taskId: task.id, annotation, next: !movedRef.current })
        .then((reply) => {
          if (failed(reply)) {
            done();
            dispatch({ type: 'acknowledged', ok: false, annotationId: annotation.id, sent: true });
            const notNeeded = NOT_NEEDED[reply.error.code];
            if (notNeeded) {
              forgetDrafts(task.id);
              dispatch({ type: 'notice', message: notNeeded });
            } else dispatch({ type: 'error', error: reply.error });
            return;
          }
          done();
          forgetDrafts(task.id);
          dispatch({ type: 'acknowledged', ok: true, annotationId: annotation.id, taskState: reply.taskState, sent: true });
          if (reply.next) {
            received(reply.next);
            settled = failed(reply.next) || !reply.next.task || Boolean(slotsRef.current.next);
          }
        })
        .catch(() => {
          // kept (here and in localStorage): sent again, with the same id, when the connection is back
          pending.sending = false;
          dispatch({ type: 'acknowledged', ok: false, annotationId: annotation.id, sent: true });
          dispatch({ type: 'notice', message: 'An answer could not be delivered yet: it is kept and will be sent again when the connection is back.' });
        })
        .finally(() => {
          if (!settled) void fill();
        });
    },
    [slug, fill, received, keepOutbox],
  );

  /** Every answer held here goes now (the undo window closes early: another answer came, the tab moved or is closing). */
  const flush = useCallback(() => {
    for (const pending of outbox.current.values()) send(pending);
  }, [send]);

  /**
   * Answers an earlier page, or another tab, gave and never saw acknowledged (kept in localStorage),
   * with this page's own whose window is over: their tasks are not shown again, and they go now, same ids.
   */
  const sendDue = useCallback(() => {
    for (const kept of readKept(keptKey)) {
      if (!outbox.current.has(kept.annotation.id)) outbox.current.set(kept.annotation.id, { ...kept, sendAt: Date.now() });
    }
    for (const pending of outbox.current.values()) if (!pending.timer || pending.sendAt <= Date.now()) send(pending);
  }, [keptKey, send]);

  /**
   * Comes back to the tasks this rater holds (the one this tab showed first, none answered and not
   * yet acknowledged) and takes the sitting; then sends what is due and fills the slots.
   */
  const resume = useCallback(async () => {
    const socket = socketRef.current;
    if (!socket) return;
    for (const kept of readKept(keptKey)) {
      if (!outbox.current.has(kept.annotation.id)) outbox.current.set(kept.annotation.id, { ...kept, sendAt: Date.now() });
    }
    const reply = await socket.emitWithAck('task:resume', { project: slug }).catch(() => null);
    if (!reply) return;
    if (failed(reply)) return received(reply);
    movedRef.current = false;
    dispatch({ type: 'moved', moved: false });
    let onScreen: string | null = null;
    try {
      onScreen = window.sessionStorage.getItem(onScreenKey(slug));
    } catch {
      onScreen = null;
    }
    const held = [...reply.tasks].sort((a, b) => Number(b.id === onScreen) - Number(a.id === onScreen));
    let slots = slotsRef.current;
    for (const task of held) slots = place(slots, task);
    setSlots(slots, true);
    sendDue();
    await fill();
  }, [slug, keptKey, place, setSlots, fill, received, sendDue]);

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
      if (movedRef.current) sendDue();
      else void resume();
    });
    socket.on('disconnect', (reason) => {
      if (revoked) return;
      dispatch({ type: 'connection', status: 'reconnecting' });
      for (const pending of outbox.current.values()) pending.sending = false;
      // socket.io reconnects by itself unless the server closed the socket on purpose: try once more (a revoked session is then refused at connect)
      if (reason === 'io server disconnect') window.setTimeout(() => socket.connect(), 1_000);
    });
    socket.on('connect_error', (error) => {
      if (/unauthenticated|forbidden/.test(error.message)) dispatch({ type: 'refused', message: 'Your session has ended: sign in again.' });
      else dispatch({ type: 'connection', status: 'reconnecting' });
    });
    socket.on('task:assigned', ({ task }) => {
      if (task.project === slug && !movedRef.current) setSlots(place(slotsRef.current, task));
    });
    socket.on('queue:stats', (pushed) => {
      if (pushed.project === slug) queryClient.setQueryData(queueStatsQuery(slug).queryKey, pushed);
    });
    socket.on('lease:expired', ({ taskId }) => {
      // the task is claimable again; take it back if nobody has (the answer is accepted while needed anyway)
      if (slotsRef.current.current?.id === taskId) void socket.emitWithAck('task:heartbeat', { project: slug, taskId }).catch(() => undefined);
    });
    socket.on('sitting:moved', ({ project }) => {
      if (project !== slug) return;
      // the other tab shows these tasks now; what this one held back goes at once, leasing nothing more
      moveAway();
      flush();
    });
    // a closing tab sends what it holds (and keeps it in localStorage in case the frames do not leave)
    const leaving = () => flush();
    window.addEventListener('pagehide', leaving);
    const pending = outbox.current;
    return () => {
      window.removeEventListener('pagehide', leaving);
      // leaving the page within the app: what is held goes now, leasing nothing (kept in localStorage until a page sees it acknowledged)
      for (const held of pending.values()) {
        window.clearTimeout(held.timer);
        if (socket.connected && !held.sending)
          socket.emit('task:submit', { project: slug, taskId: held.task.id, annotation: held.annotation, next: false }, () => undefined);
      }
      unwatch();
      socket.removeAllListeners();
      socket.close();
      socketRef.current = null;
    };
  }, [slug, setSlots, place, queryClient, flush, resume, moveAway, sendDue]);

  // the task on screen, remembered by this tab: a reload shows it again (not the one leased ahead)
  const currentId = state.current?.id;
  useEffect(() => {
    if (currentId) storeItem('session', onScreenKey(slug), currentId);
  }, [slug, currentId]);

  // keep the lease of the task on screen while the page is open
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
   * Answers the task on screen and shows the next at once. The answer is held for the project's
   * undo window (the one before it goes now), then sent; the task after the next is leased by
   * that submit, in the same round trip.
   */
  const submit = useCallback(
    (answer: ReviewRequestBody, timeSpentMs: number, summary: string) => {
      const task = slotsRef.current.current;
      if (!socketRef.current || !task) return;
      flush();
      setSlots({ current: slotsRef.current.next, next: null });
      const annotation = { id: crypto.randomUUID(), ...answer, timeSpentMs: Math.max(0, Math.round(timeSpentMs)) };
      const windowMs = (task.undoSeconds ?? DEFAULT_UNDO_SECONDS) * 1000;
      const pending: Pending = { task, annotation, summary, sendAt: Date.now() + windowMs };
      outbox.current.set(annotation.id, pending);
      keepOutbox();
      dispatch({ type: 'notice', message: null });
      dispatch({
        type: 'last',
        last: { taskId: task.id, annotationId: annotation.id, summary, phase: windowMs > 0 ? 'holding' : 'sending', sendAt: pending.sendAt, undoable: false },
      });
      if (windowMs > 0) pending.timer = window.setTimeout(() => send(pending), windowMs);
      else send(pending);
      // nothing was leased ahead: a lease is free for the next task while this answer waits
      void fill();
    },
    [setSlots, keepOutbox, send, flush, fill],
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
          if (failed(reply)) dispatch({ type: 'error', error: reply.error });
        })
        .catch(() => dispatch({ type: 'error', error: { code: 'network/unreachable', message: 'The skip could not be delivered.' } }))
        .finally(() => void fill());
    },
    [slug, fill, setSlots],
  );

  /**
   * Takes back the last answer: one still held here comes back with its choice and is never sent;
   * one stored, while its task waits for other raters, is taken back by the server.
   */
  const undo = useCallback(async () => {
    const socket = socketRef.current;
    const last = stateRef.current.last;
    if (!socket) return;
    if (!last) return dispatch({ type: 'notice', message: 'There is no answer to take back.' });
    const held = outbox.current.get(last.annotationId);
    if (last.phase === 'holding' && held && !held.sending) {
      window.clearTimeout(held.timer);
      outbox.current.delete(last.annotationId);
      keepOutbox();
      // the task comes back on screen (its lease was never given up), the one shown meanwhile goes next
      setSlots({ current: held.task, next: slotsRef.current.current ?? slotsRef.current.next });
      dispatch({ type: 'last', last: null });
      dispatch({ type: 'notice', message: `Taken back: “${last.summary}” was not sent. Change your answer and press Enter.` });
      return;
    }
    if (last.phase !== 'stored') return dispatch({ type: 'notice', message: 'Your last answer is on its way: try again in a moment.' });
    if (!last.undoable) return dispatch({ type: 'notice', message: 'Too late to undo: that answer was sent and its task had all the answers it needed.' });
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
  }, [slug, setSlots, keepOutbox]);

  const dismissError = useCallback(() => dispatch({ type: 'error', error: null }), []);

  /** This tab takes the sitting back from the other one. */
  const resumeHere = useCallback(() => void resume(), [resume]);

  return { state, stats: stats.data ?? null, submit, skip, undo, dismissError, resumeHere };
}

import type { Namespace, Socket } from 'socket.io';
import type { LabelingClientEvents, LabelingServerEvents } from '@backflow/contracts';
import type { UserPrincipal } from '../auth/principal';

export interface SocketState {
  token: string;
  user: UserPrincipal;
  checkedAt: number;
  /** projects where this rater's last claim found nothing: they get the next task pushed */
  idleIn: Set<string>;
  /** lease expiry timers by task id */
  leases: Map<string, { projectId: string; timer: NodeJS.Timeout }>;
  /** the access review running for this socket: reviews of one socket run one after another */
  review?: Promise<void>;
}

export type LabelingSocket = Socket<LabelingClientEvents, LabelingServerEvents, Record<string, never>, SocketState>;
export type LabelingNamespace = Namespace<LabelingClientEvents, LabelingServerEvents, Record<string, never>, SocketState>;

const PROJECT_ROOM_PREFIX = 'project:';
export const projectRoom = (projectId: string) => `${PROJECT_ROOM_PREFIX}${projectId}`;
// admins hear about exports as they are written
export const ADMINS_ROOM = 'admins';

// a rater's sitting in a project: the sockets of theirs labeling it; the one that resumed last labels, the others moved away
export const sittingRoom = (projectId: string, userId: string) => `sitting:${projectId}:${userId}`;
export const movedRoom = (projectId: string) => `moved:${projectId}`;

export const SITTING_MOVED = 'sitting:moved';
export interface SittingMove {
  projectId: string;
  slug: string;
  raterId: string;
  /** the socket that resumed: it keeps the sitting */
  socketId: string;
}

/**
 * On this node: the rater's other sockets in the project's sitting are told and stop getting
 * tasks there. Local and synchronous (a node applies its share when it hears of the move), so a
 * socket that joins the sitting after the move is never moved by it on the node it joined.
 */
export function moveSitting(namespace: LabelingNamespace, move: SittingMove): void {
  const others = namespace.local.in(sittingRoom(move.projectId, move.raterId)).except(move.socketId);
  others.emit('sitting:moved', { project: move.slug });
  others.socketsJoin(movedRoom(move.projectId));
}

/** The rater resumed this project on another socket of theirs: this one gets no task there (neither claimed nor pushed) until it resumes. */
export function movedAway(socket: LabelingSocket, projectId: string): boolean {
  return socket.rooms.has(movedRoom(projectId));
}

/** The projects a socket labels in: the rooms it joined on its first event in each. */
export function projectsOf(socket: LabelingSocket): string[] {
  return [...socket.rooms].filter((room) => room.startsWith(PROJECT_ROOM_PREFIX)).map((room) => room.slice(PROJECT_ROOM_PREFIX.length));
}

/** Still connected and still in the project's room (left when access to it went). */
export function serves(socket: LabelingSocket, projectId: string): boolean {
  return socket.connected && socket.rooms.has(projectRoom(projectId));
}

/** Who a socket's tasks are shown to (an admin may see personal data a project hides from raters). */
export const viewerOf = (socket: LabelingSocket) => ({ admin: socket.data.user?.role === 'admin' });

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

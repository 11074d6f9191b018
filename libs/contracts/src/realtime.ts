import { z } from 'zod';
import { Slug } from './common';
import type { ExportProgress } from './exports';
import {
  ClaimReply,
  HeldTasksReply,
  LeaseReply,
  QueueStats,
  SkipRequest,
  SubmitAnnotationReply,
  SubmitAnnotationRequest,
  TaskPayload,
  UndoReply,
} from './labeling';

/** The socket.io namespace raters connect to (authenticated at connect by the session token). */
export const LABELING_NAMESPACE = '/labeling';

export const SocketClaim = z.object({ project: Slug });
export const SocketSubmit = z.object({
  project: Slug,
  taskId: z.uuid(),
  annotation: SubmitAnnotationRequest,
  next: z.boolean().optional().describe("also lease the rater's next task: the reply carries the claim's reply as `next`, one round trip instead of two"),
});
export const SocketSkip = z.object({ project: Slug, taskId: z.uuid() }).extend(SkipRequest.shape);
export const SocketHeartbeat = z.object({ project: Slug, taskId: z.uuid() });
export const SocketUndo = z.object({ project: Slug, taskId: z.uuid(), annotationId: z.guid() });
export const SocketResume = z.object({ project: Slug });
export type SocketClaim = z.infer<typeof SocketClaim>;
export type SocketSubmit = z.infer<typeof SocketSubmit>;
export type SocketSkip = z.infer<typeof SocketSkip>;
export type SocketHeartbeat = z.infer<typeof SocketHeartbeat>;
export type SocketUndo = z.infer<typeof SocketUndo>;
export type SocketResume = z.infer<typeof SocketResume>;

/** Why a socket's session ended: the server disconnects the socket right after saying so. */
export const SessionEndReason = z.enum(['signed_out', 'user_disabled', 'session_expired', 'password_changed']);
export type SessionEndReason = z.infer<typeof SessionEndReason>;
export const SessionRevoked = z.object({ reason: SessionEndReason });
export type SessionRevoked = z.infer<typeof SessionRevoked>;

/** Why a rater may no longer label a project (removed from it, or no longer admin). */
export const AccessLossReason = z.enum(['membership_removed', 'role_lowered']);
export type AccessLossReason = z.infer<typeof AccessLossReason>;
export const AccessRevoked = z.object({ reason: AccessLossReason, project: Slug.optional().describe('the project lost; absent when the admin role was') });
export type AccessRevoked = z.infer<typeof AccessRevoked>;

/** Every acknowledgement is the REST reply, or the REST error body. */
export interface SocketError {
  error: { code: string; message: string; field?: string };
}
export type SocketReply<T> = T | SocketError;

/**
 * A submit's acknowledgement: the REST reply, and when the submit asked for it, the claim of the
 * next task (its reply, or why there is none: the answer is stored either way).
 */
export type SocketSubmitReply = SubmitAnnotationReply & { next?: SocketReply<ClaimReply> };

/** Client → server, each with an acknowledgement. */
export interface LabelingClientEvents {
  'task:claim': (request: SocketClaim, ack: (reply: SocketReply<ClaimReply>) => void) => void;
  'task:submit': (request: SocketSubmit, ack: (reply: SocketReply<SocketSubmitReply>) => void) => void;
  'task:skip': (request: SocketSkip, ack: (reply: SocketReply<{ taskId: string; taskState: string }>) => void) => void;
  'task:heartbeat': (request: SocketHeartbeat, ack: (reply: SocketReply<LeaseReply>) => void) => void;
  /** takes back the rater's last answer while the task is still open, and gives them the task again */
  'task:undo': (request: SocketUndo, ack: (reply: SocketReply<UndoReply>) => void) => void;
  /**
   * the tasks the rater holds in the project (a reloaded page comes back to them); this socket
   * becomes the rater's sitting in the project, and their other sockets there hear `sitting:moved`
   */
  'task:resume': (request: SocketResume, ack: (reply: SocketReply<HeldTasksReply>) => void) => void;
}

/** Server → client. */
export interface LabelingServerEvents {
  /** a task leased to this rater without asking: they were idle when it appeared */
  'task:assigned': (payload: { task: TaskPayload }) => void;
  'queue:stats': (stats: QueueStats) => void;
  'lease:expired': (payload: { project: string; taskId: string }) => void;
  /** to admins: an export's rows written so far, and its state */
  'export:progress': (progress: ExportProgress) => void;
  /** the session ended; the socket is disconnected right after, and its leases are released */
  'session:revoked': (payload: SessionRevoked) => void;
  /** the rater may no longer label `project` (its leases there are released); the socket is disconnected when it used no other project */
  'access:revoked': (payload: AccessRevoked) => void;
  /** the rater resumed labeling `project` in another tab or window: this socket gets no more tasks pushed there until it resumes again */
  'sitting:moved': (payload: { project: string }) => void;
}

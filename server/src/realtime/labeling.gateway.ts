import { Inject, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import { z } from 'zod';
import {
  ClaimReply,
  LABELING_NAMESPACE,
  MAX_JSON_DEPTH,
  SocketClaim,
  SocketError,
  SocketHeartbeat,
  SocketResume,
  SocketSkip,
  SocketSubmit,
  SocketSubmitReply,
  SocketUndo,
} from '@backflow/contracts';
import { AuthErrors } from '../auth/auth.errors';
import { DomainError, ValidationError } from '../common/errors';
import { asDomainError } from '../common/filters/error-envelope';
import { DomainEvents } from '../common/events/domain-events';
import { LOGGER } from '../common/logging/logger';
import { findJsonHazard } from '../common/validation/json-hazards';
import { fieldOf } from '../common/validation/zod-validation.pipe';
import { LabelingErrors } from '../labeling/labeling.errors';
import { TaskQueueService } from '../labeling/task-queue.service';
import type { ProjectEntity } from '../projects/project.entity';
import { LeaseTimers } from './lease-timers';
import {
  ADMINS_ROOM,
  LabelingNamespace,
  LabelingSocket,
  movedAway,
  movedRoom,
  moveSitting,
  projectRoom,
  serves,
  SITTING_MOVED,
  sittingRoom,
  type SittingMove,
  viewerOf,
} from './labeling-socket';
import { SocketAccess } from './socket-access';
import { TaskPushes } from './task-pushes';

function errorReply(error: unknown): SocketError {
  // the same mapping as HTTP: e.g. PostgreSQL away is `database/unavailable`, which a client retries
  const domain = asDomainError(error);
  if (domain) return { error: { code: domain.code, message: domain.message, ...(domain.field && { field: domain.field }) } };
  return { error: { code: 'internal', message: 'something went wrong on the server' } };
}

/**
 * Raters over socket.io: authenticated at connect with the same session as HTTP (SocketAccess),
 * every event admitted to its project by the same check as HTTP, the same operations as the REST
 * routes. Domain events become pushes (TaskPushes): a new task goes to an idle rater, queue stats to the project's room.
 */
@WebSocketGateway({ namespace: LABELING_NAMESPACE, cors: { origin: false }, transports: ['websocket', 'polling'] })
export class LabelingGateway implements OnGatewayInit, OnGatewayConnection, OnModuleInit, OnModuleDestroy {
  @WebSocketServer() private namespace!: LabelingNamespace;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly access: SocketAccess,
    private readonly pushes: TaskPushes,
    private readonly leases: LeaseTimers,
    private readonly taskQueue: TaskQueueService,
    private readonly events: DomainEvents,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  afterInit(namespace: Namespace): void {
    const labeling = namespace as LabelingNamespace;
    this.access.attach(labeling);
    this.pushes.attach(labeling);
    labeling.use((socket, next) => this.access.connect(socket, next));
    labeling.on(SITTING_MOVED, (move: SittingMove) => moveSitting(labeling, move));
  }

  onModuleInit(): void {
    this.unsubscribe.push(
      this.events.on('task.created', ({ projectId }) => this.pushes.tasksAvailable(projectId)),
      this.events.on('annotation.submitted', ({ projectId }) => this.pushes.scheduleStats(projectId)),
      this.events.on('annotation.undone', ({ projectId }) => this.pushes.scheduleStats(projectId)),
      this.events.on('export.progress', ({ projectId: _projectId, ...progress }) => this.pushes.exportProgress(progress)),
      // released in the revoking transaction, wherever it ran: this node offers them here and tells the others
      this.events.on('leases.released', ({ projectId }) => this.pushes.tasksAvailable(projectId)),
    );
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe) off();
  }

  /**
   * The client events, bound straight to the socket: each handler validates, checks access
   * and answers through the acknowledgement (Nest's per-message pipeline was about a sixth of
   * the server's CPU per claim + submit under the labeling benchmark).
   */
  handleConnection(socket: LabelingSocket): void {
    if (socket.data.user?.role === 'admin') void socket.join(ADMINS_ROOM);
    // a client may leave out the acknowledgement: it then gets no reply
    const answer =
      <R>(ack: ((reply: R) => void) | undefined) =>
      (reply: R) =>
        typeof ack === 'function' && ack(reply);
    socket.on('task:claim', (body, ack) => void this.claim(socket, body).then(answer(ack)));
    socket.on('task:submit', (body, ack) => void this.submit(socket, body).then(answer(ack)));
    socket.on('task:skip', (body, ack) => void this.skip(socket, body).then(answer(ack)));
    socket.on('task:heartbeat', (body, ack) => void this.heartbeat(socket, body).then(answer(ack)));
    socket.on('task:undo', (body, ack) => void this.undo(socket, body).then(answer(ack)));
    socket.on('task:resume', (body, ack) => void this.resume(socket, body).then(answer(ack)));
  }

  private async handle<T extends z.ZodType, R>(
    socket: LabelingSocket,
    schema: T,
    body: unknown,
    run: (request: z.infer<T>, project: ProjectEntity) => Promise<R>,
  ): Promise<R | SocketError> {
    try {
      // what an HTTP body's parser refuses, refused here too: text PostgreSQL cannot store, a number below the smallest double
      const hazard = findJsonHazard(body, { text: true, maxDepth: MAX_JSON_DEPTH });
      if (hazard) throw new DomainError(hazard.code, hazard.message, 400, hazard.field);
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ValidationError(`${fieldOf(issue)}: ${issue.message}`, fieldOf(issue));
      }
      const request = parsed.data as z.infer<T> & { project: string };
      const project = await this.access.admit(socket, request.project);
      const room = projectRoom(project.id);
      if (!socket.rooms.has(room)) void socket.join(room);
      return await run(request, project);
    } catch (error) {
      return this.failed(error);
    }
  }

  private failed(error: unknown): SocketError {
    if (!asDomainError(error)) this.logger.error({ err: error }, 'a labeling socket event failed');
    return errorReply(error);
  }

  private claim(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketClaim, body, (_request, project) => {
      // the rater labels this project on another socket now: a task leased here would sit unseen in their lease cap
      if (movedAway(socket, project.id)) throw LabelingErrors.sittingMoved(project.slug);
      return this.claimFor(socket, project);
    });
  }

  /**
   * The rater's held tasks (a reloaded page comes back to the task it showed), and this socket
   * becomes their sitting in the project: their other sockets there are told (on every node) and
   * get no task there until they resume in turn, so two tabs never show one task.
   */
  private resume(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketResume, body, async (_request, project) => {
      const rater = socket.data.user.userId;
      const move: SittingMove = { projectId: project.id, slug: project.slug, raterId: rater, socketId: socket.id };
      // here at once, so a tab resuming right after this one is not moved by it; the other nodes by a message
      moveSitting(this.namespace, move);
      try {
        this.namespace.serverSideEmit(SITTING_MOVED, move);
      } catch (error) {
        this.logger.debug({ err: error }, 'no other server to tell about a moved sitting');
      }
      await socket.leave(movedRoom(project.id));
      await socket.join(sittingRoom(project.id, rater));
      const reply = await this.taskQueue.held(project, rater, viewerOf(socket));
      for (const task of reply.tasks) this.pushes.watchLease(socket, project, task.id, new Date(task.leaseExpiresAt));
      return reply;
    });
  }

  /** The next task for this socket's rater (claimed now, or by `claimed`), its lease watched; none: the rater is idle in the project. */
  private async claimFor(
    socket: LabelingSocket,
    project: ProjectEntity,
    claimed: () => Promise<ClaimReply> = () => this.taskQueue.claim(project, socket.data.user.userId, 'open', Math.random, viewerOf(socket)),
  ): Promise<ClaimReply> {
    const reply = await claimed();
    // access went while the claim was on its way: the lease is not kept (a connection merely lost keeps it)
    if (reply.task && !serves(socket, project.id) && (await this.taskQueue.releaseForfeited(socket.data.user.userId, [reply.task.id]))) {
      throw AuthErrors.notAMember(project.slug);
    }
    if (reply.task) {
      socket.data.idleIn.delete(project.id);
      this.pushes.watchLease(socket, project, reply.task.id, new Date(reply.task.leaseExpiresAt));
    } else {
      socket.data.idleIn.add(project.id);
    }
    return reply;
  }

  private submit(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketSubmit, body, async (request, project): Promise<SocketSubmitReply> => {
      const rater = socket.data.user.userId;
      // a socket the rater moved away from answers what it shows, and leases nothing more
      if (!request.next || movedAway(socket, project.id)) {
        const reply = await this.taskQueue.submit(project, rater, request.taskId, request.annotation);
        this.leases.forget(socket, request.taskId);
        return reply;
      }
      const { reply, next } = await this.taskQueue.submitAndClaim(project, rater, request.taskId, request.annotation, Math.random, viewerOf(socket));
      this.leases.forget(socket, request.taskId);
      // the answer is stored: a claim that fails says so in `next`, not in place of the submit's reply
      return { ...reply, next: await this.claimFor(socket, project, next).catch((error: unknown) => this.failed(error)) };
    });
  }

  private skip(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketSkip, body, async (request, project) => {
      const reply = await this.taskQueue.skip(project, socket.data.user.userId, request.taskId, request);
      this.leases.forget(socket, request.taskId);
      return reply;
    });
  }

  private heartbeat(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketHeartbeat, body, async (request, project) => {
      const reply = await this.taskQueue.heartbeat(project, socket.data.user.userId, request.taskId);
      this.pushes.watchLease(socket, project, request.taskId, new Date(reply.leaseExpiresAt));
      return reply;
    });
  }

  private undo(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketUndo, body, async (request, project) => {
      const reply = await this.taskQueue.undo(project, socket.data.user.userId, request.taskId, request.annotationId, viewerOf(socket));
      if (reply.released) this.leases.forget(socket, reply.released);
      this.pushes.watchLease(socket, project, reply.task.id, new Date(reply.task.leaseExpiresAt));
      return reply;
    });
  }
}

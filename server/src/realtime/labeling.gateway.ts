import { Inject, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import {
  AccessLossReason,
  LABELING_NAMESPACE,
  LabelingClientEvents,
  LabelingServerEvents,
  SocketClaim,
  SocketError,
  SocketHeartbeat,
  SocketSkip,
  SocketSubmit,
  SocketUndo,
} from '@backflow/contracts';
import { AuthErrors } from '../auth/auth.errors';
import { SESSION_COOKIE } from '../auth/request-credentials';
import { AuthService } from '../auth/auth.service';
import { UsersService } from '../auth/users.service';
import type { UserPrincipal } from '../auth/principal';
import { AccessRevocations, Revocation } from '../common/cache/access-revocations';
import { DomainError, ValidationError } from '../common/errors';
import { asDomainError } from '../common/filters/error-envelope';
import { DomainEvents } from '../common/events/domain-events';
import { LOGGER } from '../common/logging/logger';
import { fieldOf } from '../common/validation/zod-validation.pipe';
import { TaskQueueService } from '../labeling/task-queue.service';
import { OperationsService } from '../labeling/operations.service';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectErrors } from '../projects/projects.errors';
import { ProjectsService } from '../projects/projects.service';

type LabelingSocket = Socket<LabelingClientEvents, LabelingServerEvents, Record<string, never>, SocketState>;

interface SocketState {
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

// revocations arrive as notifications; this is the backstop for a lost one: every socket's
// session and projects are re-checked this often, and memberships are cached this long
const RECHECK_MS = 15_000;
// a lease's expiry is checked by the database's clock: offer the task a moment after it
const LEASE_EXPIRY_GRACE_MS = 250;
const STATS_DEBOUNCE_MS = 500;
const TASKS_AVAILABLE = 'tasks:available';
const PROJECT_ROOM_PREFIX = 'project:';
const projectRoom = (projectId: string) => `${PROJECT_ROOM_PREFIX}${projectId}`;
// admins hear about exports as they are written
const ADMINS_ROOM = 'admins';

function tokenOf(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as { token?: unknown };
  if (typeof auth?.token === 'string' && auth.token) return auth.token;
  const header = socket.handshake.headers.authorization;
  const bearer = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) return bearer;
  const cookie = socket.handshake.headers.cookie ?? '';
  for (const part of cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function errorReply(error: unknown): SocketError {
  // the same mapping as HTTP: e.g. PostgreSQL away is `database/unavailable`, which a client retries
  const domain = asDomainError(error);
  if (domain) return { error: { code: domain.code, message: domain.message, ...(domain.field && { field: domain.field }) } };
  return { error: { code: 'internal', message: 'something went wrong on the server' } };
}

/**
 * Raters over socket.io: authenticated at connect with the same session as HTTP, every event
 * checked against project membership, the same operations as the REST routes. Domain events
 * become pushes: a new task goes to an idle rater, queue stats to the project's room.
 */
@WebSocketGateway({ namespace: LABELING_NAMESPACE, cors: { origin: false }, transports: ['websocket', 'polling'] })
export class LabelingGateway implements OnGatewayInit, OnGatewayConnection, OnModuleInit, OnModuleDestroy {
  @WebSocketServer() private namespace!: Namespace<LabelingClientEvents, LabelingServerEvents, Record<string, never>, SocketState>;
  private readonly memberships = new Map<string, { role: string | undefined; at: number }>();
  private readonly statsTimers = new Map<string, NodeJS.Timeout>();
  // every lease timer, connected socket or not: cleared when the module stops
  private readonly leaseTimers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: Array<() => void> = [];
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly projects: ProjectsService,
    private readonly labeling: TaskQueueService,
    private readonly operations: OperationsService,
    private readonly events: DomainEvents,
    private readonly revocations: AccessRevocations,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use((socket, next) => {
      const token = tokenOf(socket);
      if (!token) return next(new Error('unauthenticated: send the session token as auth.token'));
      this.auth
        .authenticate(token)
        .then((principal) => {
          if (principal.kind !== 'user') return next(new Error('forbidden: API keys cannot label'));
          Object.assign(socket.data, { token, user: principal, checkedAt: Date.now(), idleIn: new Set(), leases: new Map() } satisfies SocketState);
          next();
        })
        .catch((error: unknown) =>
          next(
            new Error(
              asDomainError(error)?.status === 503
                ? 'unavailable: the database is away; retry shortly'
                : 'unauthenticated: the session is unknown, expired or revoked',
            ),
          ),
        );
    });
    // another process created tasks: its idle raters are served there, ours here
    namespace.on(TASKS_AVAILABLE, (projectId: string) => this.serveIdle(projectId));
  }

  onModuleInit(): void {
    this.unsubscribe.push(
      this.events.on('task.created', ({ projectId }) => this.tasksAvailable(projectId)),
      this.events.on('annotation.submitted', ({ projectId }) => this.scheduleStats(projectId)),
      this.events.on('annotation.undone', ({ projectId }) => this.scheduleStats(projectId)),
      this.events.on('export.progress', ({ projectId: _projectId, ...progress }) => this.namespace.to(ADMINS_ROOM).emit('export:progress', progress)),
      // released in the revoking transaction, wherever it ran: this node offers them here and tells the others
      this.events.on('leases.released', ({ projectId }) => this.tasksAvailable(projectId)),
    );
    this.revocations.listen((revocation) => this.revoked(revocation));
    this.sweep = setInterval(() => {
      for (const socket of this.namespace?.sockets.values() ?? []) if (Date.now() - socket.data.checkedAt > RECHECK_MS) void this.review(socket);
    }, RECHECK_MS);
    this.sweep.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweep);
    for (const off of this.unsubscribe) off();
    for (const timer of this.statsTimers.values()) clearTimeout(timer);
    for (const timer of this.leaseTimers) clearTimeout(timer);
  }

  /**
   * The four client events, bound straight to the socket: each handler validates, checks access
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
  }

  /** Who is calling, for a project: the session re-checked when the last check is old, the membership cached briefly. */
  private async access(socket: LabelingSocket, slug: string): Promise<ProjectEntity> {
    const state = socket.data;
    if (Date.now() - state.checkedAt > RECHECK_MS) {
      await this.review(socket, { strict: true });
      if (!socket.connected) throw AuthErrors.unauthenticated();
    }
    const project = await this.projects.findBySlug(slug);
    if (!project) throw AuthErrors.notAMember(slug);
    if (state.user.role === 'admin') return project;
    const role = await this.membershipRole(state.user.userId, project.id);
    if (!role) throw AuthErrors.notAMember(slug);
    if (!['rater', 'reviewer'].includes(role)) throw AuthErrors.forbidden('labeling needs the project role rater or reviewer');
    return project;
  }

  /** A member's role, cached while this process hears every revocation (which drops the entry) and for RECHECK_MS at most. */
  private async membershipRole(userId: string, projectId: string, fresh = false): Promise<string | undefined> {
    const key = `${userId}:${projectId}`;
    const cached = this.revocations.live && !fresh ? this.memberships.get(key) : undefined;
    if (cached && Date.now() - cached.at <= RECHECK_MS) return cached.role;
    const membership = { role: await this.users.membershipRole(userId, projectId), at: Date.now() };
    this.memberships.set(key, membership);
    return membership.role;
  }

  /** A revocation committed somewhere (or, `undefined`, the channel was deaf): the sockets it may concern are reviewed now. */
  private revoked(revocation: Revocation | undefined): void {
    if (!revocation) this.memberships.clear();
    else if (revocation.kind === 'membership') this.memberships.delete(`${revocation.userId}:${revocation.projectId}`);
    else for (const key of this.memberships.keys()) if (key.startsWith(`${revocation.userId}:`)) this.memberships.delete(key);
    // the CLI runs the modules with no socket server
    for (const socket of this.namespace?.sockets.values() ?? []) {
      const user = socket.data.user;
      if (!user) continue;
      if (revocation && user.userId !== revocation.userId) continue;
      if (revocation?.kind === 'session' && user.sessionId !== revocation.sessionId) continue;
      void this.review(socket);
    }
  }

  /**
   * Re-checks what a socket uses against the database: a session that ended is told why and
   * cut; a project it may no longer label is told, left, and its leases there forgotten (the
   * revoking transaction released them); with nothing left to use, the socket is cut. A check
   * that fails (the database away) changes nothing, unless `strict` (a caller waits on it).
   */
  private review(socket: LabelingSocket, options: { strict?: boolean } = {}): Promise<void> {
    const state = socket.data;
    const run = (state.review ?? Promise.resolve()).then(() => (socket.connected ? this.reviewNow(socket) : undefined));
    state.review = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      if (options.strict) throw error;
      this.logger.debug({ err: error }, 'a socket could not be re-checked; it is tried again later');
    });
  }

  private async reviewNow(socket: LabelingSocket): Promise<void> {
    const state = socket.data;
    let principal;
    try {
      principal = await this.auth.authenticate(state.token);
    } catch (error) {
      // the database being away is no reason to cut anybody
      if (!(error instanceof DomainError)) throw error;
      socket.emit('session:revoked', { reason: await this.auth.sessionEndReason(state.user.sessionId) });
      return this.cut(socket, [...state.leases.keys()]);
    }
    if (principal.kind !== 'user') return;
    state.checkedAt = Date.now();
    const lostAdmin = state.user.role === 'admin' && principal.role !== 'admin';
    state.user = principal;
    if (principal.role === 'admin') void socket.join(ADMINS_ROOM);
    else void socket.leave(ADMINS_ROOM);
    if (lostAdmin && this.projectsOf(socket).length === 0) socket.emit('access:revoked', { reason: 'role_lowered' });
    let lost = lostAdmin;
    const forfeited: string[] = [];
    if (principal.role !== 'admin') {
      for (const projectId of this.projectsOf(socket)) {
        const role = await this.membershipRole(principal.userId, projectId, true);
        if (role === 'rater' || role === 'reviewer') continue;
        lost = true;
        void socket.leave(projectRoom(projectId));
        state.idleIn.delete(projectId);
        for (const [taskId, lease] of state.leases) if (lease.projectId === projectId) forfeited.push(taskId);
        const project = await this.projects.findById(projectId);
        if (project) socket.emit('access:revoked', { reason: lostAdmin ? 'role_lowered' : 'membership_removed', project: project.slug });
      }
    }
    if (!lost) return;
    // a socket is cut when it is left with nothing it used; else it keeps its other projects
    if (this.projectsOf(socket).length === 0 && !socket.rooms.has(ADMINS_ROOM)) return this.cut(socket, forfeited);
    for (const taskId of forfeited) this.forgetLease(socket, taskId);
    await this.labeling.releaseForfeited(principal.userId, forfeited);
  }

  /**
   * Disconnects a socket whose rater lost access. The leases were released in the revoking
   * transaction; `taskIds` are the ones this socket held, released again in case a claim
   * committed just after it (a no-op otherwise). Lease timers outlive the socket, as on any disconnect.
   */
  private async cut(socket: LabelingSocket, taskIds: string[]): Promise<void> {
    socket.data.idleIn.clear();
    // a namespace disconnect: after the events above, and the client knows not to reconnect by itself
    socket.disconnect();
    await this.labeling.releaseForfeited(socket.data.user.userId, taskIds);
  }

  private projectsOf(socket: LabelingSocket): string[] {
    return [...socket.rooms].filter((room) => room.startsWith(PROJECT_ROOM_PREFIX)).map((room) => room.slice(PROJECT_ROOM_PREFIX.length));
  }

  private async handle<T extends z.ZodType, R>(
    socket: LabelingSocket,
    schema: T,
    body: unknown,
    run: (request: z.infer<T>, project: ProjectEntity) => Promise<R>,
  ): Promise<R | SocketError> {
    try {
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ValidationError(`${fieldOf(issue)}: ${issue.message}`, fieldOf(issue));
      }
      const request = parsed.data as z.infer<T> & { project: string };
      const project = await this.access(socket, request.project);
      const room = projectRoom(project.id);
      if (!socket.rooms.has(room)) void socket.join(room);
      return await run(request, project);
    } catch (error) {
      if (!asDomainError(error)) this.logger.error({ err: error }, 'a labeling socket event failed');
      return errorReply(error);
    }
  }

  private claim(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketClaim, body, async (_request, project) => {
      const reply = await this.labeling.claim(project, socket.data.user.userId);
      // access went while the claim was on its way: the lease is not kept (a connection merely lost keeps it)
      if (reply.task && !this.serves(socket, project.id) && (await this.labeling.releaseForfeited(socket.data.user.userId, [reply.task.id]))) {
        throw AuthErrors.notAMember(project.slug);
      }
      if (reply.task) {
        socket.data.idleIn.delete(project.id);
        this.watchLease(socket, project, reply.task.id, new Date(reply.task.leaseExpiresAt));
      } else {
        socket.data.idleIn.add(project.id);
      }
      return reply;
    });
  }

  private submit(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketSubmit, body, async (request, project) => {
      const reply = await this.labeling.submit(project, socket.data.user.userId, request.taskId, request.annotation);
      this.forgetLease(socket, request.taskId);
      return reply;
    });
  }

  private skip(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketSkip, body, async (request, project) => {
      const reply = await this.labeling.skip(project, socket.data.user.userId, request.taskId, request);
      this.forgetLease(socket, request.taskId);
      return reply;
    });
  }

  private heartbeat(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketHeartbeat, body, async (request, project) => {
      const reply = await this.labeling.heartbeat(project, socket.data.user.userId, request.taskId);
      this.watchLease(socket, project, request.taskId, new Date(reply.leaseExpiresAt));
      return reply;
    });
  }

  private undo(socket: LabelingSocket, body: unknown) {
    return this.handle(socket, SocketUndo, body, async (request, project) => {
      const reply = await this.labeling.undo(project, socket.data.user.userId, request.taskId, request.annotationId);
      if (reply.released) this.forgetLease(socket, reply.released);
      this.watchLease(socket, project, reply.task.id, new Date(reply.task.leaseExpiresAt));
      return reply;
    });
  }

  /**
   * When a lease runs out (no sweeper: the task is claimable again anyway), tells the rater who
   * held it, if still connected, and offers the task to idle raters (on every server), so a
   * task left by a rater whose connection was cut reaches another one without anybody asking
   * (the timers outlive a disconnect for that).
   */
  private watchLease(socket: LabelingSocket, project: ProjectEntity, taskId: string, expiresAt: Date): void {
    this.forgetLease(socket, taskId);
    const timer = setTimeout(
      () => {
        this.leaseTimers.delete(timer);
        socket.data.leases.delete(taskId);
        if (socket.connected) socket.emit('lease:expired', { project: project.slug, taskId });
        this.tasksAvailable(project.id);
      },
      Math.max(0, expiresAt.getTime() - Date.now()) + LEASE_EXPIRY_GRACE_MS,
    );
    timer.unref();
    this.leaseTimers.add(timer);
    socket.data.leases.set(taskId, { projectId: project.id, timer });
  }

  private forgetLease(socket: LabelingSocket, taskId: string): void {
    const lease = socket.data.leases.get(taskId);
    if (!lease) return;
    clearTimeout(lease.timer);
    this.leaseTimers.delete(lease.timer);
    socket.data.leases.delete(taskId);
  }

  /** Still connected and still in the project's room (left when access to it went). */
  private serves(socket: LabelingSocket, projectId: string): boolean {
    return socket.connected && socket.rooms.has(projectRoom(projectId));
  }

  private tasksAvailable(projectId: string): void {
    this.scheduleStats(projectId);
    this.serveIdle(projectId);
    try {
      this.namespace.serverSideEmit(TASKS_AVAILABLE, projectId);
    } catch (error) {
      this.logger.debug({ err: error }, 'no other server to tell about new tasks');
    }
  }

  /** Leases new tasks to this process's idle raters of the project and pushes them; a failure is logged (the raters can still claim). */
  private serveIdle(projectId: string): void {
    this.pushToIdle(projectId).catch((error: unknown) => this.logger.warn({ err: error, projectId }, 'could not serve idle raters'));
  }

  private async pushToIdle(projectId: string): Promise<void> {
    const project = await this.projects.findById(projectId);
    if (!project) return;
    for (const socket of this.namespace.sockets.values()) {
      if (!socket.data.idleIn?.has(projectId)) continue;
      try {
        await this.access(socket, project.slug);
        const { task } = await this.labeling.claim(project, socket.data.user.userId);
        if (!task) return; // nothing left for the others either, most likely
        socket.data.idleIn.delete(projectId);
        if (!this.serves(socket, projectId) && (await this.labeling.releaseForfeited(socket.data.user.userId, [task.id]))) continue;
        this.watchLease(socket, project, task.id, new Date(task.leaseExpiresAt));
        socket.emit('task:assigned', { task });
      } catch (error) {
        socket.data.idleIn.delete(projectId);
        this.logger.debug({ err: error }, 'could not push a task to an idle rater');
      }
    }
  }

  private scheduleStats(projectId: string): void {
    if (this.statsTimers.has(projectId)) return;
    const timer = setTimeout(() => {
      this.statsTimers.delete(projectId);
      this.projects
        .findById(projectId)
        .then(async (project) => project && this.namespace.to(projectRoom(projectId)).emit('queue:stats', await this.operations.queueStats(project)))
        .catch((error: unknown) => this.logger.debug({ err: error }, 'queue stats not sent'));
    }, STATS_DEBOUNCE_MS);
    timer.unref();
    this.statsTimers.set(projectId, timer);
  }
}

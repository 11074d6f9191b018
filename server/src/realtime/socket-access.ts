import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { AuthErrors } from '../auth/auth.errors';
import { AuthService } from '../auth/auth.service';
import { handshakeCredentialOf } from '../auth/request-credentials';
import { AccessRevocations, Revocation } from '../common/cache/access-revocations';
import { DomainError } from '../common/errors';
import { asDomainError } from '../common/filters/error-envelope';
import { LOGGER } from '../common/logging/logger';
import { TaskQueueService } from '../labeling/task-queue.service';
import { ProjectAccess } from '../projects/project-access';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { LeaseTimers } from './lease-timers';
import { ADMINS_ROOM, LabelingNamespace, LabelingSocket, projectRoom, projectsOf, SocketState } from './labeling-socket';

// revocations arrive as notifications; this is the backstop for a lost one: every socket's
// session and projects are re-checked this often (memberships are cached no longer: ProjectAccess)
const RECHECK_MS = 15_000;
const LABELERS = ['rater', 'reviewer'] as const;

/**
 * Who a socket is and what it may label: authenticated at connect with the same credential and
 * check as HTTP, admitted to a project on every event by ProjectAccess, and re-checked when a
 * revocation concerns it (a session that ended or a project lost cuts it or takes the project away).
 */
@Injectable()
export class SocketAccess implements OnModuleInit, OnModuleDestroy {
  // the CLI runs the modules with no socket server: then there is no namespace
  private namespace?: LabelingNamespace;
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly auth: AuthService,
    private readonly projects: ProjectsService,
    private readonly access: ProjectAccess,
    private readonly taskQueue: TaskQueueService,
    private readonly leases: LeaseTimers,
    private readonly revocations: AccessRevocations,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  attach(namespace: LabelingNamespace): void {
    this.namespace = namespace;
  }

  onModuleInit(): void {
    this.revocations.listen((revocation) => this.revoked(revocation));
    this.sweep = setInterval(() => {
      for (const socket of this.namespace?.sockets.values() ?? []) if (Date.now() - socket.data.checkedAt > RECHECK_MS) void this.review(socket);
    }, RECHECK_MS);
    this.sweep.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweep);
  }

  /** The connection middleware: a user's session (an API key cannot label), or the connection is refused with why. */
  connect(socket: Socket, next: (error?: Error) => void): void {
    const credential = handshakeCredentialOf(socket.handshake);
    if (!credential) return next(new Error('unauthenticated: send the session token as auth.token'));
    this.auth
      .authenticate(credential.value)
      .then((principal) => {
        if (principal.kind !== 'user') return next(new Error('forbidden: API keys cannot label'));
        const state: SocketState = { token: credential.value, user: principal, checkedAt: Date.now(), idleIn: new Set(), leases: new Map() };
        Object.assign(socket.data as object, state);
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
  }

  /** The project a socket event names, if its user may label there: the session re-checked when the last check is old, the membership cached. */
  async admit(socket: LabelingSocket, slug: string): Promise<ProjectEntity> {
    const state = socket.data;
    if (Date.now() - state.checkedAt > RECHECK_MS) {
      await this.review(socket, { strict: true });
      if (!socket.connected) throw AuthErrors.unauthenticated();
    }
    const project = await this.projects.findBySlug(slug);
    if (!project) throw AuthErrors.notAMember(slug);
    await this.access.admit(state.user, project, LABELERS, 'cached');
    return project;
  }

  /** A revocation committed somewhere (or, `undefined`, the channel was deaf): the sockets it may concern are reviewed now. */
  private revoked(revocation: Revocation | undefined): void {
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
    if (lostAdmin && projectsOf(socket).length === 0) socket.emit('access:revoked', { reason: 'role_lowered' });
    const lost = principal.role === 'admin' ? undefined : await this.leaveLostProjects(socket, lostAdmin);
    if (!lostAdmin && !lost) return;
    const forfeited = lost ?? [];
    // a socket is cut when it is left with nothing it used; else it keeps its other projects
    if (projectsOf(socket).length === 0 && !socket.rooms.has(ADMINS_ROOM)) return this.cut(socket, forfeited);
    for (const taskId of forfeited) this.leases.forget(socket, taskId);
    await this.taskQueue.releaseForfeited(principal.userId, forfeited);
  }

  /** Leaves the projects the socket's user may no longer label, telling them; returns the leases held there, or undefined when none was lost. */
  private async leaveLostProjects(socket: LabelingSocket, lostAdmin: boolean): Promise<string[] | undefined> {
    const state = socket.data;
    let lost = false;
    const forfeited: string[] = [];
    for (const projectId of projectsOf(socket)) {
      const role = await this.access.roleOf(state.user, projectId, 'fresh');
      if (role === 'rater' || role === 'reviewer') continue;
      lost = true;
      void socket.leave(projectRoom(projectId));
      state.idleIn.delete(projectId);
      for (const [taskId, lease] of state.leases) if (lease.projectId === projectId) forfeited.push(taskId);
      const project = await this.projects.findById(projectId);
      if (project) socket.emit('access:revoked', { reason: lostAdmin ? 'role_lowered' : 'membership_removed', project: project.slug });
    }
    return lost ? forfeited : undefined;
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
    await this.taskQueue.releaseForfeited(socket.data.user.userId, taskIds);
  }
}

import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ExportProgress } from '@backflow/contracts';
import { LOGGER } from '../common/logging/logger';
import { OperationsService } from '../labeling/operations.service';
import { TaskQueueService } from '../labeling/task-queue.service';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { LeaseTimers } from './lease-timers';
import { ADMINS_ROOM, LabelingNamespace, LabelingSocket, movedAway, projectRoom, serves, viewerOf } from './labeling-socket';
import { SocketAccess } from './socket-access';

// a lease's expiry is checked by the database's clock: offer the task a moment after it
const LEASE_EXPIRY_GRACE_MS = 250;
const STATS_DEBOUNCE_MS = 500;
const TASKS_AVAILABLE = 'tasks:available';

/**
 * What the server pushes to raters without being asked: a task to each idle rater when one
 * becomes available (new, released, or its lease ran out), on every node; the queue's figures to
 * a project's room; export progress to admins.
 */
@Injectable()
export class TaskPushes implements OnModuleDestroy {
  // the CLI runs the modules with no socket server: then there is no namespace
  private namespace?: LabelingNamespace;
  private readonly statsTimers = new Map<string, NodeJS.Timeout>();
  // projects told of new tasks in this turn of the event loop: a batch that makes ten tasks tells once
  private readonly pendingAvailable = new Set<string>();

  constructor(
    private readonly projects: ProjectsService,
    private readonly taskQueue: TaskQueueService,
    private readonly operations: OperationsService,
    private readonly access: SocketAccess,
    private readonly leases: LeaseTimers,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  attach(namespace: LabelingNamespace): void {
    this.namespace = namespace;
    // another process made tasks available: its idle raters are served there, ours here
    namespace.on(TASKS_AVAILABLE, (projectId: string) => this.serveIdle(projectId));
  }

  onModuleDestroy(): void {
    for (const timer of this.statsTimers.values()) clearTimeout(timer);
  }

  /**
   * When a lease runs out (no sweeper: the task is claimable again anyway), tells the rater who
   * held it, if still connected, and offers the task to idle raters (on every server), so a
   * task left by a rater whose connection was cut reaches another one without anybody asking
   * (the timers outlive a disconnect for that).
   */
  watchLease(socket: LabelingSocket, project: ProjectEntity, taskId: string, expiresAt: Date): void {
    this.leases.watch(socket, project.id, taskId, Math.max(0, expiresAt.getTime() - Date.now()) + LEASE_EXPIRY_GRACE_MS, () => {
      if (socket.connected) socket.emit('lease:expired', { project: project.slug, taskId });
      this.tasksAvailable(project.id);
    });
  }

  /**
   * Offers a project's new (or freed) tasks to its idle raters here and on every other node.
   * Calls within one turn of the event loop are one offer (one message to the other nodes, one
   * pass over the idle raters, who each take a task while there are any).
   */
  tasksAvailable(projectId: string): void {
    if (this.pendingAvailable.has(projectId)) return;
    if (this.pendingAvailable.size === 0) setImmediate(() => this.offerPending());
    this.pendingAvailable.add(projectId);
  }

  private offerPending(): void {
    const projectIds = [...this.pendingAvailable];
    this.pendingAvailable.clear();
    for (const projectId of projectIds) {
      this.scheduleStats(projectId);
      this.serveIdle(projectId);
      try {
        this.namespace!.serverSideEmit(TASKS_AVAILABLE, projectId);
      } catch (error) {
        this.logger.debug({ err: error }, 'no other server to tell about new tasks');
      }
    }
  }

  exportProgress(progress: ExportProgress): void {
    this.namespace?.to(ADMINS_ROOM).emit('export:progress', progress);
  }

  /** Leases new tasks to this process's idle raters of the project and pushes them; a failure is logged (the raters can still claim). */
  private serveIdle(projectId: string): void {
    this.pushToIdle(projectId).catch((error: unknown) => this.logger.warn({ err: error, projectId }, 'could not serve idle raters'));
  }

  private async pushToIdle(projectId: string): Promise<void> {
    const project = await this.projects.findById(projectId);
    if (!project) return;
    for (const socket of this.namespace!.sockets.values()) {
      if (!socket.data.idleIn?.has(projectId) || movedAway(socket, projectId)) continue;
      try {
        await this.access.admit(socket, project.slug);
        const { task } = await this.taskQueue.claim(project, socket.data.user.userId, 'open', Math.random, viewerOf(socket));
        if (!task) return; // nothing left for the others either, most likely
        socket.data.idleIn.delete(projectId);
        if (!serves(socket, projectId) && (await this.taskQueue.releaseForfeited(socket.data.user.userId, [task.id]))) continue;
        this.watchLease(socket, project, task.id, new Date(task.leaseExpiresAt));
        socket.emit('task:assigned', { task });
      } catch (error) {
        socket.data.idleIn.delete(projectId);
        this.logger.debug({ err: error }, 'could not push a task to an idle rater');
      }
    }
  }

  scheduleStats(projectId: string): void {
    if (this.statsTimers.has(projectId)) return;
    const timer = setTimeout(() => {
      this.statsTimers.delete(projectId);
      this.projects
        .findById(projectId)
        .then(async (project) => project && this.namespace!.to(projectRoom(projectId)).emit('queue:stats', await this.operations.queueStats(project)))
        .catch((error: unknown) => this.logger.debug({ err: error }, 'queue stats not sent'));
    }, STATS_DEBOUNCE_MS);
    timer.unref();
    this.statsTimers.set(projectId, timer);
  }
}

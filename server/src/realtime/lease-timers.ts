import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { LabelingSocket } from './labeling-socket';

/**
 * A timer per lease a socket holds, run when the lease runs out. The timers outlive a
 * disconnect (a task left by a cut connection must still be offered again); all are cleared when the module stops.
 */
@Injectable()
export class LeaseTimers implements OnModuleDestroy {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `expired` after `delayMs`, replacing the socket's earlier timer on this task. */
  watch(socket: LabelingSocket, projectId: string, taskId: string, delayMs: number, expired: () => void): void {
    this.forget(socket, taskId);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      socket.data.leases.delete(taskId);
      expired();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
    socket.data.leases.set(taskId, { projectId, timer });
  }

  forget(socket: LabelingSocket, taskId: string): void {
    const lease = socket.data.leases.get(taskId);
    if (!lease) return;
    clearTimeout(lease.timer);
    this.timers.delete(lease.timer);
    socket.data.leases.delete(taskId);
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }
}

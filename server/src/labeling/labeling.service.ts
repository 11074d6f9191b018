import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainEvents } from '../common/events/domain-events';
import type { ProjectEntity } from '../projects/project.entity';
import { CreatedTask, LabelingRepository, NewTask } from './labeling.repository';

export type { CreatedTask, NewTask } from './labeling.repository';

/** Labeling's side of routing: the tasks raters will claim. */
@Injectable()
export class LabelingService {
  constructor(
    private readonly repository: LabelingRepository,
    private readonly events: DomainEvents,
  ) {}

  /** Creates tasks in the caller's transaction, each needing the project's overlap in annotations; skips predictions that have one. */
  createTasks(manager: EntityManager, project: ProjectEntity, tasks: NewTask[]): Promise<CreatedTask[]> {
    return this.repository.insertTasks(manager, project.id, project.overlap, tasks);
  }

  /** Raises the priority of existing open tasks; returns the predictions that already had a task. */
  raisePriority(manager: EntityManager, project: ProjectEntity, raises: Array<{ predictionId: string; priority: number }>): Promise<Set<string>> {
    return this.repository.raisePriority(manager, project.id, raises);
  }

  /** After the creating transaction commits: `task.created` for each (the realtime gateway pushes them). */
  announceCreated(projectId: string, tasks: CreatedTask[]): void {
    for (const task of tasks) this.events.emit('task.created', { projectId, taskId: task.id, predictionId: task.predictionId, reason: task.reason, priority: task.priority });
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { AfterCommit } from '../common/database/transaction';
import { DomainEvents } from '../common/events/domain-events';
import { LabelsService } from '../labels/labels.service';
import type { ProjectEntity } from '../projects/project.entity';
import { CreatedTask, ImportedTask, NewTask, TaskIntakeRepository } from './task-intake.repository';

export type { CreatedTask, ImportedTask, NewTask } from './task-intake.repository';

export interface ImportedWork extends ImportedTask {
  /** the final label the other tool's answers (or its reviewer) decided */
  label?: { value: string; source: 'consensus' | 'review' | 'gold'; agreement: number; answers?: Record<string, unknown> };
}

/**
 * Labeling as other modules see it: tasks coming in, from routing (created, raised in priority)
 * and from another labeling tool (answered already). The rater side is TaskQueueService.
 */
@Injectable()
export class LabelingService {
  constructor(
    private readonly repository: TaskIntakeRepository,
    private readonly labels: LabelsService,
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

  /**
   * Work done in another labeling tool (a Label Studio import), in the caller's transaction:
   * each prediction's task with its answers, and its final label (a label already current is
   * not recorded again). Returns what was stored now, and what to announce after commit.
   */
  async importAnswered(
    manager: EntityManager,
    project: ProjectEntity,
    work: ImportedWork[],
  ): Promise<{ answers: number; labels: number; afterCommit: AfterCommit[] }> {
    const { taskOf, answersStored } = await this.repository.importAnswered(manager, project.id, project.routingQuestion, work);
    const labeled = work.filter((w) => w.label);
    const current = await this.labels.currentFor(
      manager,
      project.id,
      labeled.map((w) => w.predictionId),
    );
    const afterCommit: AfterCommit[] = [];
    let labels = 0;
    for (const { predictionId, label } of labeled) {
      const existing = current.get(predictionId);
      if (existing && existing.value === label!.value && existing.source === label!.source) continue;
      await this.labels.recordHumanLabel(manager, project.id, {
        predictionId,
        value: label!.value,
        answers: label!.answers ?? { [project.routingQuestion]: label!.value },
        source: label!.source,
        agreement: label!.agreement,
        taskId: taskOf.get(predictionId)!,
      });
      afterCommit.push(() => this.events.emit('label.finalized', { projectId: project.id, predictionId, label: label!.value, source: label!.source }));
      labels++;
    }
    return { answers: answersStored, labels, afterCommit };
  }

  /** After the creating transaction commits: `task.created` for each (the realtime gateway pushes them). */
  announceCreated(projectId: string, tasks: CreatedTask[]): void {
    for (const task of tasks)
      this.events.emit('task.created', { projectId, taskId: task.id, predictionId: task.predictionId, reason: task.reason, priority: task.priority });
  }
}

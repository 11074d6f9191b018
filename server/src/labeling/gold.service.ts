import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AddGoldRequest, GoldReply, PromoteGoldRequest, SubmitAnnotationReply, SubmitAnnotationRequest } from '@backflow/contracts';
import type { Actor } from '../auth/users.service';
import { AuditService } from '../common/audit/audit.service';
import { ValidationError } from '../common/errors';
import type { ProjectEntity } from '../projects/project.entity';
import { GoldRepository } from './gold.repository';
import { LabelingErrors } from './labeling.errors';
import { inTransaction, type Transaction } from '../common/database/transaction';
import type { ReadAnswers } from './answers';
import { routingQuestion } from '../projects/project-questions';
import { RaterQualityService } from './rater-quality.service';
import { LockedTask, StoredAnnotation, TaskQueueRepository } from './task-queue.repository';

/** Gold items: inputs with their true label, mixed into raters' streams; an answer to one scores the rater. */
@Injectable()
export class GoldService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: GoldRepository,
    private readonly tasks: TaskQueueRepository,
    private readonly raterQuality: RaterQualityService,
    private readonly audit: AuditService,
  ) {}

  /** An answer to a gold task, in a transaction: it scores the rater, who may be paused. To the rater it looks like any answer. */
  async submit(project: ProjectEntity, raterId: string, taskId: string, request: SubmitAnnotationRequest, read: ReadAnswers): Promise<SubmitAnnotationReply> {
    return inTransaction(this.dataSource, async ({ manager, afterCommit }): Promise<SubmitAnnotationReply> => {
      const task = await this.tasks.lockTask(manager, project.id, taskId);
      if (!task?.goldItemId) throw LabelingErrors.taskNotFound(taskId);
      const { previous, answered, lease } = await this.tasks.submitContext(manager, taskId, raterId, request.id);
      if (previous) {
        if (previous.taskId !== taskId || previous.raterId !== raterId) throw LabelingErrors.annotationIdTaken();
        return {
          annotation: { id: previous.id, taskId, label: previous.label, answers: previous.answers, late: previous.late },
          taskState: 'completed',
          duplicate: true,
        };
      }
      if (answered) throw LabelingErrors.alreadyAnswered();
      if (lease === 'none') throw LabelingErrors.notClaimed();
      return this.answer(
        manager,
        project,
        task,
        { id: request.id, taskId, raterId, label: read.label, answers: read.answers, late: lease === 'expired', timeSpentMs: request.timeSpentMs ?? null },
        afterCommit,
      );
    });
  }

  private async answer(
    manager: EntityManager,
    project: ProjectEntity,
    task: LockedTask,
    annotation: StoredAnnotation & { timeSpentMs: number | null },
    afterCommit: Transaction['afterCommit'],
  ): Promise<SubmitAnnotationReply> {
    const record = await this.repository.answerGold(manager, task, annotation);
    await this.raterQuality.pauseIfBelowBar(manager, project, annotation.raterId, record, afterCommit);
    return {
      annotation: { id: annotation.id, taskId: task.id, label: annotation.label, answers: annotation.answers, late: annotation.late },
      taskState: 'completed',
      duplicate: false,
    };
  }

  /** Admins add gold items: inputs with their true label, each a gold task every rater may meet once. */
  async addGold(project: ProjectEntity, request: AddGoldRequest, actor: Actor): Promise<GoldReply> {
    const routing = routingQuestion(project);
    // a gold item is the true label of the routing question; other kinds have no gold yet
    if (routing.kind !== 'label')
      throw new ValidationError(`items: gold items give the label of a label question; the routing question "${routing.name}" is ${routing.kind}`, 'items');
    const names = project.labels.map((l) => l.name);
    request.items.forEach((item, index) => {
      if (!names.includes(item.label))
        throw new ValidationError(`items.${index}.label: "${item.label}" is not one of the project's labels`, `items.${index}.label`);
    });
    const created = await this.dataSource.transaction(async (manager) => {
      const count = await this.repository.insertGold(
        manager,
        project.id,
        actor.userId!,
        request.items.map((item) => ({
          input: item.input,
          label: item.label,
          answers: { [routing.name]: item.label },
          scores: item.scores ?? null,
          sourcePredictionId: null,
        })),
      );
      await this.recordAdded(manager, project, actor, 'gold.added', count);
      return count;
    });
    return { created, skipped: request.items.length - created };
  }

  /** Makes gold of predictions whose final label people decided; those without one, or already gold, are skipped. */
  async promoteToGold(project: ProjectEntity, request: PromoteGoldRequest, actor: Actor): Promise<GoldReply> {
    const created = await this.dataSource.transaction(async (manager) => {
      const finished = await this.repository.finishedLabels(manager, project.id, request.predictionIds);
      const count = await this.repository.insertGold(
        manager,
        project.id,
        actor.userId!,
        finished.map((f) => ({ input: f.input, label: f.label, answers: f.answers, scores: f.scores, sourcePredictionId: f.predictionId })),
      );
      await this.recordAdded(manager, project, actor, 'gold.promoted', count);
      return count;
    });
    return { created, skipped: new Set(request.predictionIds).size - created };
  }

  private recordAdded(manager: EntityManager, project: ProjectEntity, actor: Actor, action: 'gold.added' | 'gold.promoted', count: number): Promise<void> {
    return this.audit.record(
      { actorUserId: actor.userId, action, targetType: 'project', targetId: project.id, projectId: project.id, requestId: actor.requestId, details: { count } },
      manager,
    );
  }
}

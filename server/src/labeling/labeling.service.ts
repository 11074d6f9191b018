import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type {
  AddGoldRequest,
  ClaimReply,
  GoldReply,
  PromoteGoldRequest,
  QueueStats,
  RaterQualityList,
  SkipRequest,
  SubmitAnnotationReply,
  SubmitAnnotationRequest,
  TaskPayload,
  OperationsReply,
  UndoReply,
} from '@backflow/contracts';
import type { Actor } from '../auth/users.service';
import { AuditService } from '../common/audit/audit.service';
import { AccessRevocations } from '../common/cache/access-revocations';
import { type AfterCommit, inTransaction, type Transaction } from '../common/database/transaction';
import { poolOf } from '../database/data-source';
import { ValidationError } from '../common/errors';
import { DomainEvents } from '../common/events/domain-events';
import { LabelsService } from '../labels/labels.service';
import type { ProjectEntity } from '../projects/project.entity';
import { maskInput, topLabel } from './consensus';
import { LabelingErrors } from './labeling.errors';
import { CreatedTask, ImportedTask, LabelingRepository, LeasedView, LockedTask, NewTask, StoredAnnotation } from './labeling.repository';

export type { CreatedTask, ImportedTask, NewTask } from './labeling.repository';

export interface ImportedWork extends ImportedTask {
  /** the final label the other tool's answers (or its reviewer) decided */
  label?: { value: string; source: 'consensus' | 'review' | 'gold'; agreement: number };
}

// the task on screen and the pre-loaded next one
export const MAX_LEASES_PER_RATER = 2;

/** The rater side: tasks, leases, answers, consensus and review. */
@Injectable()
export class LabelingService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: LabelingRepository,
    private readonly labels: LabelsService,
    private readonly events: DomainEvents,
    private readonly audit: AuditService,
    revocations: AccessRevocations,
  ) {
    // released once, in the revoking transaction; the gateways push the freed tasks after commit
    revocations.join(async (manager, revocation) => {
      const released = await this.repository.releaseForfeited(manager, revocation.userId, {
        projectId: revocation.kind === 'membership' ? revocation.projectId : undefined,
      });
      return () => this.announceReleased(released);
    });
  }

  /**
   * Ends the leases among these that the rater may no longer hold (their access went while a
   * claim was on its way), and announces the freed tasks. Returns whether any was released.
   */
  async releaseForfeited(raterId: string, taskIds: string[]): Promise<boolean> {
    if (taskIds.length === 0) return false;
    const released = await this.repository.releaseForfeited(this.dataSource.manager, raterId, { taskIds });
    this.announceReleased(released);
    return released.length > 0;
  }

  private announceReleased(released: Array<{ projectId: string; taskId: string }>): void {
    const byProject = new Map<string, string[]>();
    for (const { projectId, taskId } of released) byProject.set(projectId, [...(byProject.get(projectId) ?? []), taskId]);
    for (const [projectId, taskIds] of byProject) this.events.emit('leases.released', { projectId, taskIds });
  }

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
    const { taskOf, answersStored } = await this.repository.importAnswered(manager, project.id, work);
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

  /**
   * Leases the next task to a rater (or, in review, the next task waiting for a reviewer).
   * A rater holding the most leases gets their oldest held task again instead of a new one.
   */
  async claim(project: ProjectEntity, raterId: string, queue: 'open' | 'review' = 'open', random = Math.random): Promise<ClaimReply> {
    const settings = project.labelingSettings;
    const ttl = settings.leaseSeconds;
    // one statement: its own transaction
    const claimed = await this.repository.claim(poolOf(this.dataSource), {
      projectId: project.id,
      raterId,
      ttlSeconds: ttl,
      maxHeld: MAX_LEASES_PER_RATER,
      review: queue === 'review',
      gold: queue === 'open' && settings.goldRate > 0 && random() < settings.goldRate,
    });
    if (claimed.paused) throw LabelingErrors.raterPaused(project.slug);
    if (!claimed.task) return { task: null };
    const task = this.payload(project, claimed.task);
    if (queue === 'review') {
      const { answers, reports } = await this.repository.reviewContext(this.dataSource.manager, task.id);
      const total = answers.reduce((sum, a) => sum + a.count, 0);
      task.review = {
        answers,
        agreement: total ? answers[0].count / total : 0,
        reports: reports.map((r) => r.replace(/^problem:?\s*/, '') || '(reported without a note)'),
      };
    }
    return { task };
  }

  private payload(project: ProjectEntity, view: LeasedView): TaskPayload {
    return {
      id: view.id,
      project: project.slug,
      input: maskInput(view.input, project.maskedFields),
      labels: project.labels,
      instructions: project.instructions,
      ...(project.labelingSettings.showPrediction &&
        view.scores && { suggestion: { label: view.predictedLabel ?? topLabel(view.scores), scores: view.scores } }),
      leaseExpiresAt: view.leaseExpiresAt.toISOString(),
    };
  }

  /**
   * Stores a rater's answer (idempotent by its id). Accepted after the lease expired while the
   * task still needs answers; refused once it has them all. The last answer decides: agreed
   * (the label is final), one more rater, or review. One statement (`backflow_submit_annotation`);
   * a gold task takes its own path.
   */
  async submit(project: ProjectEntity, raterId: string, taskId: string, request: SubmitAnnotationRequest): Promise<SubmitAnnotationReply> {
    const names = project.labels.map((l) => l.name);
    if (!names.includes(request.label)) throw LabelingErrors.unknownLabel(request.label, names);
    const settings = project.labelingSettings;
    const result = await this.repository.submit(poolOf(this.dataSource), {
      projectId: project.id,
      taskId,
      raterId,
      annotationId: request.id,
      label: request.label,
      timeSpentMs: request.timeSpentMs ?? null,
      agreementThreshold: settings.agreementThreshold,
      maxAnnotations: settings.maxAnnotations ?? project.overlap,
    });
    const annotation = (label: string) => ({ id: request.id, taskId, label, late: result.late ?? false });
    switch (result.outcome) {
      case 'not_found':
        throw LabelingErrors.taskNotFound(taskId);
      case 'gold':
        return this.submitGold(project, raterId, taskId, request);
      case 'id_taken':
        throw LabelingErrors.annotationIdTaken();
      case 'already_answered':
        throw LabelingErrors.alreadyAnswered();
      case 'complete':
        throw LabelingErrors.taskComplete();
      case 'not_claimed':
        throw LabelingErrors.notClaimed();
      case 'duplicate':
        return { annotation: annotation(result.label!), taskState: result.taskState, duplicate: true };
    }
    this.events.emit('annotation.submitted', { projectId: project.id, taskId, raterId, label: request.label });
    if (result.outcome === 'agreed')
      this.events.emit('label.finalized', { projectId: project.id, predictionId: result.predictionId!, label: result.label!, source: 'consensus' });
    if (result.outcome === 'review') this.events.emit('task.review_requested', { projectId: project.id, taskId });
    return { annotation: annotation(request.label), taskState: result.taskState, duplicate: false };
  }

  /** An answer to a gold task, in a transaction: it scores the rater, who may be paused. */
  private async submitGold(project: ProjectEntity, raterId: string, taskId: string, request: SubmitAnnotationRequest): Promise<SubmitAnnotationReply> {
    return inTransaction(this.dataSource, async ({ manager, afterCommit }): Promise<SubmitAnnotationReply> => {
      const task = await this.repository.lockTask(manager, project.id, taskId);
      if (!task?.goldItemId) throw LabelingErrors.taskNotFound(taskId);
      const { previous, answered, lease } = await this.repository.submitContext(manager, taskId, raterId, request.id);
      if (previous) {
        if (previous.taskId !== taskId || previous.raterId !== raterId) throw LabelingErrors.annotationIdTaken();
        return { annotation: { id: previous.id, taskId, label: previous.label, late: previous.late }, taskState: 'completed', duplicate: true };
      }
      if (answered) throw LabelingErrors.alreadyAnswered();
      if (lease === 'none') throw LabelingErrors.notClaimed();
      return this.answerGold(
        manager,
        project,
        task,
        { id: request.id, taskId, raterId, label: request.label, late: lease === 'expired', timeSpentMs: request.timeSpentMs ?? null },
        afterCommit,
      );
    });
  }

  /**
   * Takes back the rater's answer while the task is still open (it has not collected the
   * answers it asked for, nor been escalated or decided), and hands them the task again.
   */
  async undo(project: ProjectEntity, raterId: string, taskId: string, annotationId: string): Promise<UndoReply> {
    const result = await this.dataSource.transaction(async (manager) => {
      const task = await this.repository.lockTask(manager, project.id, taskId);
      if (!task) throw LabelingErrors.taskNotFound(taskId);
      const annotation = await this.repository.annotationOf(manager, annotationId);
      if (!annotation || annotation.taskId !== taskId || annotation.raterId !== raterId) throw LabelingErrors.annotationNotFound(annotationId);
      // a gold answer has scored the rater; an escalated or decided task has weighed the answer
      if (task.goldItemId || task.state !== 'queued' || task.annotationsCount >= task.requiredAnnotations) throw LabelingErrors.undoClosed();
      return this.repository.undo(manager, task, raterId, annotationId, project.labelingSettings.leaseSeconds, MAX_LEASES_PER_RATER);
    });
    this.events.emit('annotation.undone', { projectId: project.id, taskId, raterId });
    return { task: this.payload(project, result.task), released: result.released };
  }

  /** The project's last hour (or `minutes`) of work, a point a minute, for the operations chart. */
  async operations(project: ProjectEntity, minutes: number): Promise<OperationsReply> {
    const { points, activeRaters } = await this.repository.operations(this.dataSource.manager, project.id, minutes);
    return { project: project.slug, activeRaters, points: points.map((p) => ({ ...p, at: p.at.toISOString() })) };
  }

  /** A gold answer scores the rater; too many wrong ones pause them in the project. To the rater it looks like any answer. */
  private async answerGold(
    manager: EntityManager,
    project: ProjectEntity,
    task: LockedTask,
    annotation: StoredAnnotation & { timeSpentMs: number | null },
    afterCommit: Transaction['afterCommit'],
  ): Promise<SubmitAnnotationReply> {
    const settings = project.labelingSettings;
    const record = await this.repository.answerGold(manager, task, annotation);
    if (!record.paused && record.goldAnswers >= settings.goldMinAnswers && record.goldCorrect / record.goldAnswers < settings.goldMinAccuracy) {
      await this.repository.pause(manager, project.id, annotation.raterId);
      const accuracy = record.goldCorrect / record.goldAnswers;
      await this.audit.record(
        {
          actorUserId: null,
          action: 'rater.paused',
          targetType: 'user',
          targetId: annotation.raterId,
          projectId: project.id,
          details: { goldAnswers: record.goldAnswers, accuracy },
        },
        manager,
      );
      afterCommit(() => this.events.emit('rater.paused', { projectId: project.id, raterId: annotation.raterId, goldAnswers: record.goldAnswers, accuracy }));
    }
    return { annotation: { id: annotation.id, taskId: task.id, label: annotation.label, late: annotation.late }, taskState: 'completed', duplicate: false };
  }

  private async finalize(
    manager: EntityManager,
    project: ProjectEntity,
    task: LockedTask,
    label: string,
    source: 'consensus' | 'review',
    agreement: number,
    afterCommit: Transaction['afterCommit'],
  ): Promise<void> {
    await this.repository.complete(manager, task.id);
    const predictionId = task.predictionId!;
    await this.labels.recordHumanLabel(manager, project.id, { predictionId, value: label, source, agreement, taskId: task.id });
    afterCommit(() => this.events.emit('label.finalized', { projectId: project.id, predictionId, label, source }));
  }

  /** A reviewer's decision is final; its agreement is the share of raters who chose the same label. */
  async review(
    project: ProjectEntity,
    reviewerId: string,
    taskId: string,
    label: string,
  ): Promise<{ taskState: 'completed'; label: string; agreement: number }> {
    const names = project.labels.map((l) => l.name);
    if (!names.includes(label)) throw LabelingErrors.unknownLabel(label, names);
    const agreement = await inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const task = await this.repository.lockTask(manager, project.id, taskId);
      if (!task) throw LabelingErrors.taskNotFound(taskId);
      if (task.state !== 'review') throw LabelingErrors.notInReview();
      const answers = await this.repository.answers(manager, taskId);
      const share = answers.length ? answers.filter((a) => a === label).length / answers.length : 1;
      await this.finalize(manager, project, task, label, 'review', share, afterCommit);
      await this.repository.recordReview(manager, task, reviewerId, label);
      return share;
    });
    return { taskState: 'completed', label, agreement };
  }

  /** Gives a task back; "problem" sends it to review. */
  async skip(project: ProjectEntity, raterId: string, taskId: string, request: SkipRequest): Promise<{ taskId: string; taskState: string }> {
    const state = await inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const task = await this.repository.lockTask(manager, project.id, taskId);
      if (!task) throw LabelingErrors.taskNotFound(taskId);
      if ((await this.repository.lease(manager, taskId, raterId)) === 'none') throw LabelingErrors.notClaimed();
      await this.repository.skip(manager, taskId, raterId, request.note ? `${request.reason}: ${request.note}` : request.reason);
      if (request.reason === 'problem' && ['queued', 'escalated'].includes(task.state)) {
        await this.repository.setState(manager, taskId, 'review');
        afterCommit(() => this.events.emit('task.review_requested', { projectId: project.id, taskId }));
        return 'review';
      }
      return task.state;
    });
    return { taskId, taskState: state };
  }

  async heartbeat(project: ProjectEntity, raterId: string, taskId: string): Promise<{ taskId: string; leaseExpiresAt: string }> {
    const expiresAt = await this.repository.extendLease(this.dataSource.manager, taskId, raterId, project.labelingSettings.leaseSeconds);
    if (!expiresAt) throw LabelingErrors.leaseExpired();
    return { taskId, leaseExpiresAt: expiresAt.toISOString() };
  }

  /** Admins add gold items: inputs with their true label, each a gold task every rater may meet once. */
  async addGold(project: ProjectEntity, request: AddGoldRequest, actor: Actor): Promise<GoldReply> {
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
        request.items.map((item) => ({ input: item.input, label: item.label, scores: item.scores ?? null, sourcePredictionId: null })),
      );
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'gold.added',
          targetType: 'project',
          targetId: project.id,
          projectId: project.id,
          requestId: actor.requestId,
          details: { count },
        },
        manager,
      );
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
        finished.map((f) => ({ input: f.input, label: f.label, scores: f.scores, sourcePredictionId: f.predictionId })),
      );
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'gold.promoted',
          targetType: 'project',
          targetId: project.id,
          projectId: project.id,
          requestId: actor.requestId,
          details: { count },
        },
        manager,
      );
      return count;
    });
    return { created, skipped: new Set(request.predictionIds).size - created };
  }

  async raterQuality(project: ProjectEntity): Promise<RaterQualityList> {
    const rows = await this.repository.raterQuality(this.dataSource.manager, project.id);
    return {
      raters: rows.map((r) => ({
        raterId: r.raterId,
        email: r.email,
        annotations: r.annotations,
        goldAnswers: r.goldAnswers,
        goldAccuracy: r.goldAnswers ? r.goldCorrect / r.goldAnswers : null,
        medianTimeMs: r.medianTimeMs,
        agreement: r.agreement,
        pausedAt: r.pausedAt?.toISOString() ?? null,
      })),
    };
  }

  /** An admin lets a paused rater back in; their gold record starts afresh. */
  async resumeRater(project: ProjectEntity, raterId: string, actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.repository.resume(manager, project.id, raterId))) throw LabelingErrors.raterNotPaused();
      await this.audit.record(
        { actorUserId: actor.userId, action: 'rater.resumed', targetType: 'user', targetId: raterId, projectId: project.id, requestId: actor.requestId },
        manager,
      );
    });
  }

  async queueStats(project: ProjectEntity): Promise<QueueStats> {
    return { project: project.slug, ...(await this.repository.queueStats(this.dataSource.manager, project.id)) };
  }
}

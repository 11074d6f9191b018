import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  DEFAULT_UNDO_SECONDS,
  type ClaimReply,
  type HeldTasksReply,
  type SkipRequest,
  type SubmitAnnotationReply,
  type SubmitAnnotationRequest,
  type TaskLayout,
  type TaskPayload,
  type UndoReply,
} from '@backflow/contracts';
import { AccessRevocations } from '../common/cache/access-revocations';
import { poolOf } from '../database/data-source';
import { DomainEvents } from '../common/events/domain-events';
import { LabelsService } from '../labels/labels.service';
import type { ProjectEntity } from '../projects/project.entity';
import {
  answerText,
  decideAnswers,
  leftOf,
  maskPiiDeep,
  routingOutput,
  type Answers,
  type GenerationSuggestion,
  type RankingSuggestion,
} from '@backflow/questions';
import { maskInput, topLabel } from './consensus';
import { GoldService } from './gold.service';
import { LabelingErrors } from './labeling.errors';
import { checkSides, invalidAnswer, itemsMismatch, readAnswers, type ReadAnswers } from './answers';
import { asksOneLabel, routingQuestion } from '../projects/project-questions';
import { inTransaction, type Transaction } from '../common/database/transaction';
import { AloneDecision, LeasedView, LockedTask, SubmitOutcome, SubmitRequest, TaskQueueRepository } from './task-queue.repository';

// the task on screen and the pre-loaded next one
export const MAX_LEASES_PER_RATER = 2;

/**
 * What an answer decides when it is its task's only one (the submit finds out under the task's
 * lock; with an overlap of one it always is): every question's consensus of one answer, and the
 * routing answer as text. The SQL twin decides again over all the answers when there are more.
 */
function decisionAlone(project: ProjectEntity, answers: Answers, threshold: number, maxAnnotations: number): AloneDecision {
  const decision = decideAnswers(project.questions, [answers], threshold, maxAnnotations);
  if (decision.kind !== 'agreed') return { kind: decision.kind, agreement: decision.agreement, answers: null, label: null };
  const routed = decision.answers[project.routingQuestion];
  return {
    ...decision,
    label: routed === undefined || routed === null ? null : answerText(routingQuestion(project), routed),
  };
}

/**
 * The model's outputs a rater sees: all of them when the project shows predictions; else only
 * the texts a question pre-fills with, and a ranking's list (the items to grade, in the order
 * shown) without the model's scores.
 */
function suggestionsShown(project: ProjectEntity, view: LeasedView, shown: boolean): Pick<TaskPayload, 'suggestions'> {
  if (asksOneLabel(project)) return {};
  const stored = routingOutput(routingQuestion(project), view.scores, view.suggestions);
  const all: Record<string, unknown> = { ...view.suggestions, ...(stored !== undefined && { [project.routingQuestion]: stored }) };
  const suggestions: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(all)) {
    const question = project.questions.find((q) => q.name === name);
    // a generation's conversation and responses are what the rater reads and corrects
    if (shown || (question?.kind === 'text' && question.prefill) || question?.kind === 'generation') suggestions[name] = output;
    else if (question?.kind === 'ranking')
      suggestions[name] = { candidates: (output as RankingSuggestion).candidates.map(({ score: _score, ...candidate }) => candidate) };
  }
  // a preference: the two responses it compares, and the one its task shows on the left (drawn per task)
  for (const question of project.questions) {
    if (question.kind !== 'preference') continue;
    const responses = (all[question.of] as Partial<GenerationSuggestion> | undefined)?.responses;
    if (responses && responses.length >= 2) suggestions[question.name] = { left: leftOf(view.id), first: responses[0], second: responses[1] };
  }
  return Object.keys(suggestions).length > 0 ? { suggestions } : {};
}

/** The project's layout of an item as raters get it: a masked field is not named to them, even in the order. */
function layoutShown(project: ProjectEntity): { layout?: TaskLayout } {
  const layout = project.labelingSettings.layout;
  if (!layout) return {};
  const masked = new Set(project.maskedFields);
  return {
    layout: {
      fields: layout.fields.filter((field) => !masked.has(field)),
      primary: layout.primary !== null && masked.has(layout.primary) ? null : layout.primary,
    },
  };
}

/** Who a task is shown to: an admin sees personal data a project hides from raters, unless it hides it from admins too. */
export interface Viewer {
  admin: boolean;
}
const RATER: Viewer = { admin: false };

/** The rater side: claims and leases, answers, undo, skips, and the reviewer's decision. */
@Injectable()
export class TaskQueueService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: TaskQueueRepository,
    private readonly gold: GoldService,
    private readonly labels: LabelsService,
    private readonly events: DomainEvents,
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

  /**
   * Leases the next task to a rater (or, in review, the next task waiting for a reviewer).
   * A rater holding the most leases gets their oldest held task again instead of a new one.
   */
  async claim(project: ProjectEntity, raterId: string, queue: 'open' | 'review' = 'open', random = Math.random, viewer: Viewer = RATER): Promise<ClaimReply> {
    // one statement: its own transaction
    const claimed = await this.repository.claim(poolOf(this.dataSource), { projectId: project.id, raterId, ...this.claimSettings(project, queue, random) });
    const reply = this.leased(project, claimed, viewer);
    if (queue === 'review' && reply.task) {
      const task = reply.task;
      const { answers, reports, annotations } = await this.repository.reviewContext(this.dataSource.manager, task.id);
      const total = answers.reduce((sum, a) => sum + a.count, 0);
      task.review = {
        answers,
        agreement: total ? answers[0].count / total : 0,
        reports: reports.map((r) => r.replace(/^problem:?\s*/, '') || '(reported without a note)'),
        annotations,
      };
    }
    return reply;
  }

  /** The open tasks the rater holds in the project, the one on screen first: what a reloaded page comes back to. */
  async held(project: ProjectEntity, raterId: string, viewer: Viewer = RATER): Promise<HeldTasksReply> {
    const views = await this.repository.held(this.dataSource.manager, project.id, raterId);
    return { tasks: views.map((view) => this.payload(project, view, viewer)) };
  }

  /** How a claim leases: the lease's length, the cap on leases held, and whether this one draws a gold item (at the project's gold rate). */
  private claimSettings(project: ProjectEntity, queue: 'open' | 'review', random: () => number) {
    const settings = project.labelingSettings;
    return {
      ttlSeconds: settings.leaseSeconds,
      maxHeld: MAX_LEASES_PER_RATER,
      review: queue === 'review',
      gold: queue === 'open' && settings.goldRate > 0 && random() < settings.goldRate,
    };
  }

  /** What a claim's lease shows the rater; a paused rater is refused. */
  private leased(project: ProjectEntity, claimed: { paused: boolean; task?: LeasedView }, viewer: Viewer): ClaimReply {
    if (claimed.paused) throw LabelingErrors.raterPaused(project.slug);
    return { task: claimed.task ? this.payload(project, claimed.task, viewer) : null };
  }

  /** What a claimed task shows: masked fields left out, and personal data in its text hidden as the project says. */
  private payload(project: ProjectEntity, view: LeasedView, viewer: Viewer): TaskPayload {
    const pii = project.labelingSettings.pii;
    const patterns = pii && (!viewer.admin || pii.forAdmins) ? pii.patterns : [];
    const payload = this.shownPayload(project, view);
    if (patterns.length === 0) return payload;
    // the item's own text: its input and the model's outputs shown (never the project's questions or instructions)
    return {
      ...payload,
      input: maskPiiDeep(payload.input, patterns),
      ...(payload.suggestions && { suggestions: maskPiiDeep(payload.suggestions, patterns) }),
    };
  }

  private shownPayload(project: ProjectEntity, view: LeasedView): TaskPayload {
    const shown = project.labelingSettings.showPrediction;
    const routing = routingQuestion(project);
    return {
      id: view.id,
      project: project.slug,
      input: maskInput(view.input, project.maskedFields),
      labels: project.labels,
      questions: project.questions,
      instructions: project.instructions,
      ...(shown &&
        routing.kind === 'label' &&
        view.scores &&
        Object.keys(view.scores).length > 0 && { suggestion: { label: view.predictedLabel ?? topLabel(view.scores), scores: view.scores } }),
      ...suggestionsShown(project, view, shown),
      ...(shown && view.machineLabel ? { machineLabel: view.machineLabel } : {}),
      leaseExpiresAt: view.leaseExpiresAt.toISOString(),
      ...layoutShown(project),
      undoSeconds: project.labelingSettings.undoSeconds ?? DEFAULT_UNDO_SECONDS,
    };
  }

  /**
   * Stores a rater's answer (idempotent by its id). Accepted after the lease expired while the
   * task still needs answers; refused once it has them all. The last answer decides: agreed
   * (the label is final), one more rater, or review. One statement (`backflow_submit_annotation`);
   * a gold task takes its own path.
   */
  async submit(project: ProjectEntity, raterId: string, taskId: string, request: SubmitAnnotationRequest): Promise<SubmitAnnotationReply> {
    const read = readAnswers(project, request);
    checkSides(project, read.answers, taskId);
    const result = await this.repository.submit(poolOf(this.dataSource), this.submitRequest(project, raterId, taskId, request, read));
    return this.settle(project, raterId, taskId, request, read, result);
  }

  /**
   * A submit that goes on to the rater's next task, as the rater UI asks: the answer and the
   * next lease in one statement (`TaskQueueRepository.submitAndClaim`). The submit's reply, or its
   * refusal, as `submit`; the next task as a thunk whose failure (a paused rater) the caller
   * reports beside the stored answer. After a gold answer, the next task is claimed on its own.
   */
  async submitAndClaim(
    project: ProjectEntity,
    raterId: string,
    taskId: string,
    request: SubmitAnnotationRequest,
    random = Math.random,
    viewer: Viewer = RATER,
  ): Promise<{ reply: SubmitAnnotationReply; next: () => Promise<ClaimReply> }> {
    const read = readAnswers(project, request);
    checkSides(project, read.answers, taskId);
    const { submitted, claimed } = await this.repository.submitAndClaim(
      poolOf(this.dataSource),
      this.submitRequest(project, raterId, taskId, request, read),
      this.claimSettings(project, 'open', random),
    );
    const reply = await this.settle(project, raterId, taskId, request, read, submitted);
    return {
      reply,
      next: claimed ? () => Promise.resolve().then(() => this.leased(project, claimed, viewer)) : () => this.claim(project, raterId, 'open', random, viewer),
    };
  }

  private submitRequest(project: ProjectEntity, raterId: string, taskId: string, request: SubmitAnnotationRequest, read: ReadAnswers): SubmitRequest {
    const settings = project.labelingSettings;
    const maxAnnotations = settings.maxAnnotations ?? project.overlap;
    return {
      projectId: project.id,
      taskId,
      raterId,
      annotationId: request.id,
      label: read.label,
      answers: read.answers,
      // a project of one label question decides by the plain majority over labels
      alone: asksOneLabel(project) ? null : decisionAlone(project, read.answers, settings.agreementThreshold, maxAnnotations),
      routingQuestion: project.routingQuestion,
      spanEnds: read.spanEnds,
      rankedItems: read.rankedItems,
      timeSpentMs: request.timeSpentMs ?? null,
      agreementThreshold: settings.agreementThreshold,
      maxAnnotations,
    };
  }

  /** A submit's outcome as its reply (a refusal thrown), and the events of an answer stored. */
  private async settle(
    project: ProjectEntity,
    raterId: string,
    taskId: string,
    request: SubmitAnnotationRequest,
    read: ReadAnswers,
    result: SubmitOutcome,
  ): Promise<SubmitAnnotationReply> {
    const annotation = (label: string, answers: Record<string, unknown>) => ({ id: request.id, taskId, label, answers, late: result.late ?? false });
    switch (result.outcome) {
      case 'not_found':
        throw LabelingErrors.taskNotFound(taskId);
      case 'gold':
        return this.gold.submit(project, raterId, taskId, request, read);
      case 'span_out_of_range':
        throw invalidAnswer('answers', "a span ends past the end of its field's text");
      case 'items_mismatch':
        throw itemsMismatch(result.label!);
      case 'id_taken':
        throw LabelingErrors.annotationIdTaken();
      case 'already_answered':
        throw LabelingErrors.alreadyAnswered();
      case 'complete':
        throw LabelingErrors.taskComplete();
      case 'not_claimed':
        throw LabelingErrors.notClaimed();
      case 'duplicate':
        return { annotation: annotation(result.label!, result.answers ?? {}), taskState: result.taskState, duplicate: true };
    }
    this.events.emit('annotation.submitted', { projectId: project.id, taskId, raterId, label: read.label });
    if (result.outcome === 'agreed')
      this.events.emit('label.finalized', { projectId: project.id, predictionId: result.predictionId!, label: result.label!, source: 'consensus' });
    if (result.outcome === 'review') this.events.emit('task.review_requested', { projectId: project.id, taskId });
    return { annotation: annotation(read.label, read.answers), taskState: result.taskState, duplicate: false };
  }

  /**
   * Takes back the rater's answer while the task is still open (it has not collected the
   * answers it asked for, nor been escalated or decided), and hands them the task again.
   */
  async undo(project: ProjectEntity, raterId: string, taskId: string, annotationId: string, viewer: Viewer = RATER): Promise<UndoReply> {
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
    return { task: this.payload(project, result.task, viewer), released: result.released };
  }

  private async finalize(
    manager: EntityManager,
    project: ProjectEntity,
    task: LockedTask,
    decided: { label: string; answers: Record<string, unknown> },
    source: 'consensus' | 'review',
    agreement: number,
    afterCommit: Transaction['afterCommit'],
  ): Promise<void> {
    await this.repository.complete(manager, task.id);
    const predictionId = task.predictionId!;
    const label = decided.label;
    await this.labels.recordHumanLabel(manager, project.id, { predictionId, value: label, answers: decided.answers, source, agreement, taskId: task.id });
    afterCommit(() => this.events.emit('label.finalized', { projectId: project.id, predictionId, label, source }));
  }

  /** A reviewer's decision is final; its agreement is the share of raters whose routing answer was the same. */
  async review(
    project: ProjectEntity,
    reviewerId: string,
    taskId: string,
    body: { label?: string; answers?: Record<string, unknown> },
  ): Promise<{ taskState: 'completed'; label: string; answers: Record<string, unknown>; agreement: number }> {
    const decided = await inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const task = await this.repository.lockTask(manager, project.id, taskId);
      if (!task) throw LabelingErrors.taskNotFound(taskId);
      if (task.state !== 'review') throw LabelingErrors.notInReview();
      const item = task.predictionId ? await this.repository.itemOf(manager, task) : undefined;
      const read = readAnswers(project, body, item?.input);
      checkSides(project, read.answers, taskId);
      for (const [question, items] of Object.entries(read.rankedItems ?? {})) {
        const candidates = (item?.suggestions?.[question] as { candidates?: Array<{ item: string }> } | undefined)?.candidates ?? [];
        const listed = candidates.map((c) => c.item).sort();
        if (listed.length !== items.length || listed.some((id, i) => id !== items[i])) throw itemsMismatch(question);
      }
      const answers = await this.repository.answers(manager, taskId);
      const share = answers.length ? answers.filter((a) => a === read.label).length / answers.length : 1;
      await this.finalize(manager, project, task, read, 'review', share, afterCommit);
      await this.repository.recordReview(manager, task, reviewerId, read.label, read.answers);
      return { ...read, agreement: share };
    });
    return { taskState: 'completed', label: decided.label, answers: decided.answers, agreement: decided.agreement };
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
}

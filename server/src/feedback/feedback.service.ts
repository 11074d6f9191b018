import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { FeedbackReapplyReply, FeedbackReapplyRequest, IngestReply } from '@backflow/contracts';
import type { Actor } from '../auth/users.service';
import { AuditService } from '../common/audit/audit.service';
import { type AfterCommit, inTransaction } from '../common/database/transaction';
import { DomainError } from '../common/errors';
import { DomainEventMap, DomainEvents } from '../common/events/domain-events';
import { TransactionEvents } from '../common/events/transaction-events';
import { partition } from '../common/ingest/batch';
import { areValuesClean } from '../common/validation/json-hazards';
import { groupBy } from '../common/group-by';
import { JobsService } from '../common/jobs/jobs.service';
import { LabelsService, NewFeedbackLabel } from '../labels/labels.service';
import type { PredictionFacts } from '../predictions/predictions.repository';
import type { PredictionsStored } from '../predictions/predictions.events';
import { PredictionsService } from '../predictions/predictions.service';
import { RoutingService } from '../routing/routing.service';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { routingQuestion } from '../projects/project-questions';
import { absenceClosesAt, decideAnswer, decideAnswerByAbsence, editDistances, routeRequest, type FeedbackAnswerDecision } from './feedback-rules';
import { validateFeedback } from './feedback-validation';
import { FeedbackRepository } from './feedback.repository';
import { FeedbackPartitions } from './feedback-partitions';

type Contradiction = DomainEventMap['prediction.contradicted'];

/** What deciding predictions' feedback did: the work that waits for the commit, and the feedback labels that became current. */
interface Applied {
  afterCommit: AfterCommit[];
  labeled: number;
}
const nothingApplied = (): Applied => ({ afterCommit: [], labeled: 0 });

const MAX_BATCH = 10_000;
// rows handled per transaction by the scheduled job
const JOB_CHUNK = 500;

@Injectable()
export class FeedbackService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly predictions: PredictionsService,
    private readonly projects: ProjectsService,
    private readonly labels: LabelsService,
    private readonly routing: RoutingService,
    private readonly events: DomainEvents,
    private readonly transactionEvents: TransactionEvents,
    private readonly jobs: JobsService,
    private readonly repository: FeedbackRepository,
    private readonly partitions: FeedbackPartitions,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.transactionEvents.on('predictions.stored', {
      // a project with an absence rule opens a window for every new prediction
      wantsTransaction: (project) => Boolean(project.feedbackRules.absence),
      handle: (stored) => this.onPredictionsStored(stored),
    });
    this.jobs.schedule('feedback-reconcile', '* * * * *', () => this.reconcile());
    this.events.on('predictions.retired', ({ projectId, before }) => this.partitions.dropBefore(projectId, before));
    this.events.on('project.deleted', ({ projectId }) => this.partitions.dropProject(projectId));
    this.jobs.schedule('feedback-orphans', '41 * * * *', () => this.partitions.dropOrphans());
  }

  /**
   * In the capture's transaction: opens the new predictions' absence windows, and joins the
   * feedback that arrived before its prediction.
   */
  private async onPredictionsStored({ manager, project, predictions, feedbackWaiting }: PredictionsStored): Promise<AfterCommit[]> {
    const windows = predictions.flatMap((row) => {
      const closesAt = absenceClosesAt(row.occurredAt, project.feedbackRules);
      return closesAt ? [{ predictionId: row.id, closesAt }] : [];
    });
    await this.repository.openWindows(manager, project.id, windows);
    return feedbackWaiting.length ? (await this.apply(manager, project, feedbackWaiting)).afterCommit : [];
  }

  /** One event or an array of them: all-or-nothing, or with `partial` the valid ones. */
  async ingest(project: ProjectEntity, body: unknown, partial: boolean): Promise<IngestReply> {
    const items = Array.isArray(body) ? body : [body];
    if (items.length > MAX_BATCH)
      throw new DomainError('feedback/batch_too_large', `a batch holds at most ${MAX_BATCH} events`, 413, 'body', { limit: MAX_BATCH });
    const now = new Date();
    const valuesChecked = areValuesClean(body);
    const { valid, rejected } = partition(items, (raw) => validateFeedback(raw, project, now, valuesChecked));
    if (rejected.length && !partial) {
      const [first] = rejected;
      if (!Array.isArray(body)) throw new DomainError(first.code, first.message, 400, first.field);
      throw new DomainError(
        'feedback/batch_rejected',
        `${rejected.length} of ${items.length} events are invalid, so none was stored; first: item ${first.index}: ${first.message}`,
        400,
        `${first.index}.${first.field}`,
        { rejected },
      );
    }
    const accepted = await inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const inserted = await this.partitions.write(manager, project, valid, () => this.repository.insertEvents(manager, project.id, valid));
      const touched = [...new Set(valid.filter((row) => inserted.has(row.id)).map((row) => row.predictionId))];
      afterCommit(...(await this.apply(manager, project, touched)).afterCommit);
      return inserted.size;
    });
    return { accepted, duplicates: valid.length - accepted, ...(partial ? { rejected } : {}) };
  }

  /**
   * Re-decides the feedback label of each prediction from all its events, under the
   * prediction's row lock (its task's taken first). Events whose prediction has not arrived
   * stay unapplied.
   */
  private async apply(manager: EntityManager, project: ProjectEntity, predictionIds: string[]): Promise<Applied> {
    await this.labels.lockTasksOf(manager, project.id, predictionIds);
    const facts = await this.predictions.lockFacts(manager, project.id, predictionIds);
    if (facts.length === 0) return nothingApplied();
    const ids = facts.map((f) => f.id);
    const events = await this.repository.eventsOf(manager, project.id, ids);
    const byPrediction = new Map<string, typeof events>();
    for (const event of events) byPrediction.set(event.predictionId, [...(byPrediction.get(event.predictionId) ?? []), event]);
    const routing = routingQuestion(project);
    const decided: Array<{ facts: (typeof facts)[number]; decision: FeedbackAnswerDecision }> = [];
    const asked: PredictionFacts[] = [];
    for (const fact of facts) {
      const own = byPrediction.get(fact.id) ?? [];
      const decision = decideAnswer(fact.occurredAt, own, project.feedbackRules, routing, fact.predictedLabel);
      if (decision) decided.push({ facts: fact, decision });
      if (routeRequest(fact.occurredAt, own, project.feedbackRules)) asked.push(fact);
    }
    await this.repository.recordEditDistances(manager, project.id, editDistances(routing, project.feedbackRules, facts, events));
    const applied = await this.record(manager, project, decided, asked);
    await this.repository.markApplied(manager, project.id, ids);
    // an event-made label settles the prediction: its absence window has nothing left to decide
    if (decided.length) {
      await this.repository.closeWindows(
        manager,
        project.id,
        decided.map((d) => d.facts.id),
      );
    }
    return applied;
  }

  /**
   * "Apply the rules to past feedback": decides again, under the project's current rules, the
   * feedback label of the next `limit` predictions that have events (in key order after
   * `cursor`), as `apply` does when an event arrives, in one transaction. Every label goes
   * through the one writer: a label the rules decided before is not written again (a second run
   * labels nothing), and one beside a human label is kept as history only. A label no rule gives
   * any more stays; predictions whose events wait for them are left to capture.
   */
  async reapply(project: ProjectEntity, request: FeedbackReapplyRequest, actor: Actor): Promise<FeedbackReapplyReply> {
    return inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const total = request.cursor ? undefined : await this.repository.countPredictionsWithEvents(manager, project.id);
      const predictionIds = await this.repository.predictionsWithEvents(manager, project.id, request.cursor ?? null, request.limit);
      const applied = predictionIds.length ? await this.apply(manager, project, predictionIds) : nothingApplied();
      afterCommit(...applied.afterCommit);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'feedback.reapply',
          targetType: 'project',
          targetId: project.id,
          projectId: project.id,
          requestId: actor.requestId,
          details: { ...request, examined: predictionIds.length, labeled: applied.labeled },
        },
        manager,
      );
      return {
        examined: predictionIds.length,
        labeled: applied.labeled,
        ...(total !== undefined && { total }),
        nextCursor: predictionIds.length === request.limit ? predictionIds[predictionIds.length - 1] : null,
      };
    });
  }

  /**
   * Records the decided feedback labels, and routes to raters the predictions whose new label
   * contradicts a confident model and those a `route` rule's event asked for (`asked`: a
   * thumbs-down, a regenerate), each once, within the budget.
   */
  private async record(
    manager: EntityManager,
    project: ProjectEntity,
    decided: Array<{ facts: PredictionFacts; decision: FeedbackAnswerDecision }>,
    asked: readonly PredictionFacts[] = [],
  ): Promise<Applied> {
    if (decided.length === 0 && asked.length === 0) return nothingApplied();
    const labels: NewFeedbackLabel[] = decided.map(({ facts, decision }) => ({
      predictionId: facts.id,
      value: decision.label,
      answers: { [project.routingQuestion]: decision.answer },
      rule: decision.rule,
      feedbackEventId: decision.eventId,
    }));
    const becameCurrent = labels.length ? await this.labels.recordFeedbackLabels(manager, project, labels) : [];
    const factsById = new Map([...asked, ...decided.map((d) => d.facts)].map((facts) => [facts.id, facts]));
    const contradicted = becameCurrent.filter((label) => label.contradictsPrediction);
    const toRoute = [...new Set([...contradicted.map((label) => label.predictionId), ...asked.map((facts) => facts.id)])];
    if (toRoute.length === 0) return { afterCommit: [], labeled: becameCurrent.length };
    const contradictions: Contradiction[] = contradicted.map((label) => {
      const facts = factsById.get(label.predictionId)!;
      return {
        projectId: project.id,
        predictionId: label.predictionId,
        predictedLabel: facts.predictedLabel,
        confidence: facts.confidence,
        label: label.value,
        rule: label.rule,
      };
    });
    // the task is made with the label, so a crash cannot leave a contradiction unrouted
    const routed = await this.routing.routeContradictions(
      manager,
      project,
      toRoute.map((predictionId) => ({
        predictionId,
        uncertainty: factsById.get(predictionId)!.uncertainty,
        slice: factsById.get(predictionId)!.slice,
      })),
    );
    return { afterCommit: [() => this.announce(contradictions), routed.announce], labeled: becameCurrent.length };
  }

  private announce(contradictions: Contradiction[]): void {
    for (const contradiction of contradictions) this.events.emit('prediction.contradicted', contradiction);
  }

  /** The scheduled pass: closes due absence windows, and applies events whose prediction arrived since. */
  async reconcile(now = new Date()): Promise<{ windowsClosed: number; eventsApplied: number }> {
    let windowsClosed = 0;
    for (;;) {
      const closed = await this.closeDueWindows(now);
      windowsClosed += closed;
      if (closed < JOB_CHUNK) break;
    }
    let eventsApplied = 0;
    for (;;) {
      const applied = await this.applyWaitingEvents();
      eventsApplied += applied;
      if (applied < JOB_CHUNK) break;
    }
    return { windowsClosed, eventsApplied };
  }

  private async closeDueWindows(now: Date): Promise<number> {
    return inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const due = await this.repository.takeDueWindows(manager, now, JOB_CHUNK);
      for (const [projectId, predictionIds] of groupBy(
        due,
        (d) => d.projectId,
        (d) => d.predictionId,
      )) {
        const project = await this.projects.findById(projectId);
        if (!project?.feedbackRules.absence) continue;
        const routing = routingQuestion(project);
        await this.labels.lockTasksOf(manager, projectId, predictionIds);
        const facts = await this.predictions.lockFacts(manager, projectId, predictionIds);
        const current = await this.labels.currentFor(manager, projectId, predictionIds);
        const unlabeled = facts.filter((f) => !current.has(f.id));
        const decided = unlabeled.flatMap((facts) => {
          const decision = decideAnswerByAbsence(project.feedbackRules, routing, facts.predictedLabel);
          return decision ? [{ facts, decision }] : [];
        });
        afterCommit(...(await this.record(manager, project, decided)).afterCommit);
      }
      return due.length;
    });
  }

  private async applyWaitingEvents(): Promise<number> {
    return inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const waiting = await this.repository.joinableEvents(manager, JOB_CHUNK);
      for (const [projectId, predictionIds] of groupBy(
        waiting,
        (w) => w.projectId,
        (w) => w.predictionId,
      )) {
        const project = await this.projects.findById(projectId);
        if (project) afterCommit(...(await this.apply(manager, project, predictionIds)).afterCommit);
      }
      return waiting.length;
    });
  }
}

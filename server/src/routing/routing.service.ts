import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import {
  TASK_REASONS,
  type RoutingBackfillReply,
  type RoutingBackfillRequest,
  type RoutingPolicy,
  type RoutingPreviewReply,
  type RoutingPreviewRequest,
  type TaskReason,
  type WeakSupervisionSettings,
} from '@backflow/contracts';
import { AuditService } from '../common/audit/audit.service';
import { inTransaction } from '../common/database/transaction';
import { JobsService } from '../common/jobs/jobs.service';
import { LOGGER } from '../common/logging/logger';
import type { Actor } from '../auth/users.service';
import { CreatedTask, LabelingService, NewTask } from '../labeling/labeling.service';
import { METRICS, Metrics } from '../common/metrics/metrics';
import type { ProjectEntity } from '../projects/project.entity';
import { routingQuestion } from '../projects/project-questions';
import { routingOutput } from '@backflow/questions';
import { applyLabelModel, compileLabelingFunction, type LabelingFunction, type LabelModelParameters } from '@backflow/weak';
import { weakSupervisionOf } from '../projects/projects.service';
import {
  allocateBudget,
  BudgetLine,
  budgetLines,
  type CommitteeScores,
  budgetKey,
  CLOCK_PERIODS,
  decide,
  explorationDraw,
  GLOBAL_SCOPE,
  MAX_BOOST,
  priorityOf,
  RoutingDecision,
  sliceBoost,
  uncertaintyOf,
  windowScope,
} from './routing-policy';

const ALERT_BOOSTS_CACHE_MS = 5_000;
// the weak module fits its label model every minute
const LABEL_MODEL_CACHE_MS = 60_000;
import { inputFingerprint, simulateRouting } from './routing-preview';
import { BacklogCursor, PredictionWindow, RoutingRepository } from './routing.repository';
import { RoutingErrors } from './routing.errors';
import { type ModelThreshold, RoutingThresholds } from './routing-thresholds';
import { spreadOrder, withoutNearDuplicates } from './diversity';

/** What routing needs of a prediction. */
export interface RoutablePrediction {
  id: string;
  modelName: string;
  modelVersion: string;
  scores: Record<string, number>;
  slice: Record<string, string>;
  input: unknown;
  uncertainty: number;
  /** the input's embedding, when the model server sent one */
  embedding?: number[] | null;
  /** the model's outputs by question (a generation's responses tell champion from challenger) */
  suggestions?: Record<string, unknown> | null;
}

/** Whether a generation's first two responses come from two different model versions (a champion and a challenger). */
function comparesVersions(output: unknown): boolean {
  const responses = (output as { responses?: Array<{ model?: { version?: unknown } }> } | undefined)?.responses;
  const [a, b] = [responses?.[0]?.model?.version, responses?.[1]?.model?.version];
  return typeof a === 'string' && typeof b === 'string' && a !== b;
}

export interface ContradictedPrediction {
  predictionId: string;
  uncertainty: number;
  slice: Record<string, string>;
}

export interface RoutingOutcome {
  created: CreatedTask[];
  byReason: Record<TaskReason, number>;
  droppedByBudget: number;
  deduplicated: number;
  /** announce the new tasks; call once the routing transaction has committed */
  announce: () => void;
}

/** A project's labeling functions as routing runs them, for one version of its settings. */
interface CompiledFunctions {
  at: number;
  settings: WeakSupervisionSettings;
  functions: LabelingFunction[];
  names: string[];
}

interface Candidate extends NewTask {
  lines: BudgetLine[];
  fingerprint?: string;
  embedding?: number[] | null;
}

// near-duplicates are looked for among at most this many recently routed embeddings
const MAX_RECENT_EMBEDDINGS = 2_000;

/** How a routing pass counts against the budgets that are not kept per clock period. */
export interface RouteOptions {
  /** new predictions (their scores feed the target-rate estimate, and they count into the window of predictions); false for a backfill or a restore */
  observe: boolean;
  /** tasks made earlier in the same request (a stream routes chunk by chunk), counted against `perBatch` */
  batchUsed?: number;
}

const SAVE_EVERY_MS = 5_000;

function encodeCursor(cursor: BacklogCursor): string {
  return Buffer.from(`${cursor.receivedAt}|${cursor.id}`).toString('base64url');
}

function decodeCursor(text: string): BacklogCursor {
  const [receivedAt, id] = Buffer.from(text, 'base64url').toString().split('|');
  if (!receivedAt || Number.isNaN(Date.parse(receivedAt)) || !/^[0-9a-f-]{36}$/i.test(id ?? '')) throw RoutingErrors.invalidCursor();
  return { receivedAt, id };
}

@Injectable()
export class RoutingService implements OnModuleInit, OnModuleDestroy {
  private readonly thresholds: RoutingThresholds;
  private saveTimer?: NodeJS.Timeout;
  private readonly alertBoosts = new Map<string, { readAt: number; boosts: Record<string, number> }>();
  private readonly compiled = new Map<string, CompiledFunctions>();
  private readonly labelModels = new Map<
    string,
    { readAt: number; settingsAt: number; model?: LabelModelParameters & { functions: Array<{ name: string }> } }
  >();
  private readonly decisions;
  private readonly dropped;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: RoutingRepository,
    private readonly labeling: LabelingService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) metrics: Metrics,
  ) {
    this.thresholds = new RoutingThresholds(repository, logger);
    this.decisions = metrics.routedTasks;
    this.dropped = metrics.routingDropped;
  }

  onModuleInit(): void {
    this.saveTimer = setInterval(() => void this.thresholds.save(), SAVE_EVERY_MS);
    this.saveTimer.unref();
    this.jobs.schedule('routing-prune', '17 * * * *', () => this.repository.prune());
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.saveTimer);
    await this.thresholds.save();
  }

  /**
   * The slice boosts monitoring alerts hold now ("key=value" → factor), read at most every
   * few seconds per project; a new boost is seen by this process at once. Read on the caller's
   * connection: a second one taken inside a transaction that holds locks can starve the pool.
   */
  private async alertBoostsOf(manager: EntityManager, projectId: string): Promise<Record<string, number>> {
    const cached = this.alertBoosts.get(projectId);
    if (cached && cached.readAt > Date.now() - ALERT_BOOSTS_CACHE_MS) return cached.boosts;
    const boosts: Record<string, number> = {};
    for (const b of await this.repository.activeBoosts(manager, projectId)) boosts[b.slice] = Math.min(MAX_BOOST, (boosts[b.slice] ?? 1) * b.factor);
    this.alertBoosts.set(projectId, { readAt: Date.now(), boosts });
    return boosts;
  }

  /** Monitoring: a slice that is going wrong gets more routing for a while (one boost per alert, so a repeat is a no-op). */
  async boostSlices(manager: EntityManager, projectId: string, boosts: Array<{ alertId: string; slice: string; factor: number; until: Date }>): Promise<void> {
    if (boosts.length === 0) return;
    await this.repository.addBoosts(manager, projectId, boosts);
    this.alertBoosts.delete(projectId);
  }

  async activeBoosts(projectId: string): Promise<Array<{ slice: string; factor: number; until: Date }>> {
    return this.repository.activeBoosts(this.dataSource.manager, projectId);
  }

  /**
   * The label model the weak module fitted last, read at most every minute per project, on the
   * caller's connection (as the alert boosts are).
   */
  private async labelModelOf(manager: EntityManager, project: ProjectEntity) {
    const cached = this.labelModels.get(project.id);
    // (none yet is asked again sooner; a change of the settings asks again at once)
    const fresh = cached?.model ? LABEL_MODEL_CACHE_MS : ALERT_BOOSTS_CACHE_MS;
    if (cached && cached.settingsAt === project.updatedAt.getTime() && cached.readAt > Date.now() - fresh) return cached.model;
    const model = await this.repository.labelModel(manager, project.id);
    this.labelModels.set(project.id, { readAt: Date.now(), settingsAt: project.updatedAt.getTime(), model });
    return model;
  }

  /**
   * Whether the project's labeling functions send a prediction to people (undefined when they
   * route nothing): they vote different labels on it (`routeConflicts`), or the label model gives
   * its votes' label less than `routeBelow`. Compiled once per version of the project's settings.
   */
  private async weakRouteOf(manager: EntityManager, project: ProjectEntity): Promise<((prediction: RoutablePrediction) => boolean) | undefined> {
    // the settings read and the functions compiled once per version of the project (this runs for every prediction routed)
    const at = project.updatedAt.getTime();
    let cached = this.compiled.get(project.id);
    if (!cached || cached.at !== at) {
      const settings = weakSupervisionOf(project);
      const enabled = settings.functions.filter((f) => f.enabled);
      cached = { at, settings, functions: enabled.map(compileLabelingFunction), names: enabled.map((f) => f.name) };
      this.compiled.set(project.id, cached);
    }
    const { settings, functions, names } = cached;
    const conflicts = settings.routeConflicts && functions.length >= 2;
    const model = settings.routeBelow !== undefined && functions.length > 0 ? await this.labelModelOf(manager, project) : undefined;
    if (!conflicts && !model) return undefined;
    // the model's functions, in its order, as they stand now (one it knows that is gone abstains)
    const modelOrder = model?.functions.map((f) => names.indexOf(f.name)) ?? [];
    return (prediction) => {
      const votes = functions.map((f) => f(prediction));
      let first: string | null = null;
      for (const vote of votes) {
        if (vote === null) continue;
        if (first === null) first = vote;
        else if (conflicts && vote !== first) return true;
      }
      if (!model || first === null) return false;
      const { probability } = applyLabelModel(
        model,
        modelOrder.map((j) => (j < 0 ? null : votes[j])),
      );
      return probability < settings.routeBelow!;
    };
  }

  /** A prediction the labeling functions disagree on (or whose label the label model is unsure of), when nothing else routed it: a task with reason `weak`, chosen for sure. */
  private conflictDecision(policy: RoutingPolicy, prediction: RoutablePrediction): Omit<RoutingDecision, 'reason'> & { reason: 'weak' } {
    return { reason: 'weak', inclusionProbability: 1, priority: priorityOf('weak', prediction.uncertainty, sliceBoost(policy, prediction.slice)) };
  }

  /** The routing strategy's uncertainty score, stored with the prediction. */
  uncertaintyOf(project: ProjectEntity, output: unknown, committee?: CommitteeScores): number {
    return uncertaintyOf(project.routing, routingQuestion(project), output, committee);
  }

  /**
   * Whether this prediction would be routed now, before budget and dedupe: capture stores the
   * others in one statement. A budget over a window of predictions counts every prediction, so
   * then each one goes through routing.
   */
  async mayRoute(project: ProjectEntity, prediction: RoutablePrediction): Promise<boolean> {
    if (project.routing.budget.perPredictions) return true;
    if ((await this.weakRouteOf(this.dataSource.manager, project))?.(prediction)) return true;
    const threshold = await this.thresholds.thresholdFor(project.id, project.routing, prediction);
    const alertBoosts = await this.alertBoostsOf(this.dataSource.manager, project.id);
    return (
      decide(
        project.routing,
        threshold,
        { uncertainty: prediction.uncertainty, slice: prediction.slice, draw: explorationDraw(project.id, prediction.id) },
        alertBoosts,
      ) !== null
    );
  }

  /** A prediction stored without routing (capture's one-statement path): its score still feeds the target-rate estimate. */
  async observe(project: ProjectEntity, prediction: RoutablePrediction): Promise<void> {
    await this.thresholds.thresholdFor(project.id, project.routing, prediction);
    this.thresholds.observe(project.id, project.routing, prediction, prediction.uncertainty);
  }

  /**
   * Routes newly stored predictions in the transaction that stored them: decides each one
   * (uncertain, explored or neither), then dedupe and budget, then creates the tasks.
   */
  async route(
    manager: EntityManager,
    project: ProjectEntity,
    predictions: readonly RoutablePrediction[],
    options: RouteOptions = { observe: true },
  ): Promise<RoutingOutcome> {
    const policy = project.routing;
    const candidates: Candidate[] = [];
    // a window of predictions: new ones count into it one after another; a backfill's fall in the current one
    const window = await this.lockWindow(manager, project);
    let received = window?.received ?? 0;
    // the estimates of the model versions in the batch, loaded once each (by name, then version: no key string made per prediction)
    const thresholds = new Map<string, Map<string, ModelThreshold>>();
    for (const prediction of predictions) {
      let versions = thresholds.get(prediction.modelName);
      if (!versions) thresholds.set(prediction.modelName, (versions = new Map<string, ModelThreshold>()));
      if (versions.has(prediction.modelVersion)) continue;
      await this.thresholds.thresholdFor(project.id, policy, prediction, manager);
      versions.set(prediction.modelVersion, this.thresholds.of(project.id, policy, prediction));
    }
    const alertBoosts = await this.alertBoostsOf(manager, project.id);
    const weakRoute = await this.weakRouteOf(manager, project);
    // champion and challenger: a generation answered by two versions is explored at least at the challenger rate
    const question = routingQuestion(project);
    const challenger =
      question.kind === 'generation' && (policy.challengerRate ?? 0) > policy.explorationRate
        ? { ...policy, explorationRate: policy.challengerRate! }
        : undefined;
    for (const prediction of predictions) {
      const model = thresholds.get(prediction.modelName)!.get(prediction.modelVersion)!;
      const threshold = model.threshold();
      const decision = decide(
        challenger && comparesVersions(prediction.suggestions?.[question.name]) ? challenger : policy,
        threshold,
        { uncertainty: prediction.uncertainty, slice: prediction.slice, draw: explorationDraw(project.id, prediction.id) },
        alertBoosts,
      );
      if (options.observe) model.observe(prediction.uncertainty);
      const index = window && Math.floor(received / window.size);
      if (options.observe) received++;
      if (decision) candidates.push(this.candidate(policy, prediction, decision, index));
      else if (weakRoute?.(prediction)) candidates.push(this.candidate(policy, prediction, this.conflictDecision(policy, prediction), index));
    }
    return this.admit(manager, project, candidates, { batchUsed: options.batchUsed ?? 0, window: window && { ...window, received } });
  }

  private async lockWindow(manager: EntityManager, project: ProjectEntity): Promise<PredictionWindow | undefined> {
    const size = project.routing.budget.perPredictions?.predictions;
    return size === undefined ? undefined : this.repository.lockWindow(manager, project.id, size);
  }

  private candidate(
    policy: RoutingPolicy,
    prediction: RoutablePrediction,
    decision: Omit<RoutingDecision, 'reason'> & { reason: RoutingDecision['reason'] | 'weak' },
    window?: number,
  ): Candidate {
    return {
      predictionId: prediction.id,
      reason: decision.reason,
      priority: decision.priority,
      inclusionProbability: decision.inclusionProbability,
      uncertainty: prediction.uncertainty,
      lines: budgetLines(policy, prediction.slice, window),
      fingerprint: policy.dedupeWindowMinutes > 0 ? inputFingerprint(prediction.input) : undefined,
      embedding: prediction.embedding,
    };
  }

  /**
   * Tasks for predictions whose feedback contradicts a confident model (in the transaction
   * that recorded the contradicting label): a new task with reason `contradiction`, or a
   * raised priority when the prediction already has one.
   */
  async routeContradictions(manager: EntityManager, project: ProjectEntity, contradicted: readonly ContradictedPrediction[]): Promise<RoutingOutcome> {
    const policy = project.routing;
    const window = contradicted.length ? await this.lockWindow(manager, project) : undefined;
    const wanted = contradicted.map((c) => ({
      predictionId: c.predictionId,
      reason: 'contradiction' as const,
      priority: priorityOf('contradiction', c.uncertainty, sliceBoost(policy, c.slice)),
      inclusionProbability: 1,
      uncertainty: c.uncertainty,
      lines: budgetLines(policy, c.slice, window && Math.floor(window.received / window.size)),
    }));
    const tasked = await this.labeling.raisePriority(manager, project, wanted);
    return this.admit(
      manager,
      project,
      wanted.filter((c) => !tasked.has(c.predictionId)),
      { batchUsed: 0, window },
    );
  }

  /**
   * Dedupe, then budget (highest priority first), then the tasks. `batchUsed`: the request's
   * tasks so far; `window`: the window of predictions locked for this pass, with `received`
   * already moved past the new predictions (it is written back whether or not a task is made).
   */
  private async admit(
    manager: EntityManager,
    project: ProjectEntity,
    candidates: Candidate[],
    counts: { batchUsed: number; window?: PredictionWindow },
  ): Promise<RoutingOutcome> {
    const byReason = Object.fromEntries(TASK_REASONS.map((reason) => [reason, 0])) as Record<TaskReason, number>;
    const outcome = { created: [] as CreatedTask[], byReason, droppedByBudget: 0, deduplicated: 0, announce: () => undefined };
    const { window } = counts;
    if (candidates.length === 0) {
      if (window) await this.repository.saveWindow(manager, project.id, window, new Map());
      return outcome;
    }
    const policy = project.routing;

    let admitted = candidates;
    const withFingerprint = candidates.filter((c) => c.fingerprint);
    if (withFingerprint.length) {
      // one per input within the batch (the highest priority), then one per input within the window
      const best = new Map<string, Candidate>();
      for (const c of withFingerprint) if ((best.get(c.fingerprint!)?.priority ?? -Infinity) < c.priority) best.set(c.fingerprint!, c);
      const claimed = await this.repository.claimFingerprints(manager, project.id, [...best.keys()], policy.dedupeWindowMinutes);
      admitted = candidates.filter((c) => !c.fingerprint || (best.get(c.fingerprint) === c && claimed.has(c.fingerprint)));
      outcome.deduplicated = candidates.length - admitted.length;
    }
    // near-duplicates by embedding: of one kept in this pass, or of one routed within the dedupe window
    const minDistance = policy.diversity?.minDistance;
    if (minDistance !== undefined && admitted.some((c) => c.embedding)) {
      const recent = await this.repository.recentEmbeddings(manager, project.id, policy.dedupeWindowMinutes, MAX_RECENT_EMBEDDINGS);
      const { kept, dropped } = withoutNearDuplicates(admitted, recent, minDistance);
      admitted = kept;
      outcome.deduplicated += dropped.length;
      await this.repository.releaseFingerprints(
        manager,
        project.id,
        dropped.flatMap((c) => (c.fingerprint ? [c.fingerprint] : [])),
      );
    }

    const lines = new Map<string, BudgetLine>();
    for (const c of admitted) for (const line of c.lines) lines.set(budgetKey(line), line);
    const used = new Map<string, number>();
    if (lines.size) {
      const clock = [...lines.values()].filter((line) => CLOCK_PERIODS.has(line.period));
      for (const [key, count] of clock.length ? await this.repository.lockBudget(manager, project.id, clock) : []) used.set(key, count);
      // the other counters: the request's tasks so far, and the tasks the window locked for this pass has
      used.set(budgetKey({ period: 'batch', scope: GLOBAL_SCOPE }), counts.batchUsed);
      if (window) used.set(budgetKey({ period: 'predictions', scope: windowScope(window.index) }), window.used);
      const before = new Map(used);
      // when the budget has room for fewer than the pass brings, the room goes to candidates spread over the embedding space
      const room = Math.min(...[...lines.values()].map((line) => line.cap - (used.get(budgetKey(line)) ?? 0)));
      const spread = policy.diversity?.spread !== false && policy.diversity !== undefined && room < admitted.length && admitted.some((c) => c.embedding);
      const granted = spread ? allocateBudget(spreadOrder(admitted, room), used, { ordered: true }) : allocateBudget(admitted, used);
      const grantedSet = new Set(granted);
      const refused = admitted.filter((c) => !grantedSet.has(c));
      outcome.droppedByBudget = refused.length;
      await this.repository.addBudgetUsage(
        manager,
        project.id,
        clock.map((line) => ({ ...line, count: (used.get(budgetKey(line)) ?? 0) - (before.get(budgetKey(line)) ?? 0) })).filter((u) => u.count > 0),
      );
      await this.repository.releaseFingerprints(
        manager,
        project.id,
        refused.flatMap((c) => (c.fingerprint ? [c.fingerprint] : [])),
      );
      for (const c of refused) this.dropped.inc({ reason: c.reason, cause: 'budget' });
      admitted = granted;
    }
    if (window) await this.repository.saveWindow(manager, project.id, window, used);

    const created = await this.labeling.createTasks(
      manager,
      project,
      admitted.map(({ lines: _lines, fingerprint: _fingerprint, embedding: _embedding, ...task }) => task),
    );
    for (const task of created) {
      byReason[task.reason]++;
      this.decisions.inc({ reason: task.reason });
    }
    return { ...outcome, created, announce: () => this.labeling.announceCreated(project.id, created) };
  }

  /** What a candidate policy would route over the latest stored predictions (nothing is written). */
  async preview(project: ProjectEntity, request: RoutingPreviewRequest): Promise<RoutingPreviewReply> {
    const predictions = await this.repository.latestPredictions(project.id, request.limit);
    const { limit: _limit, ...policy } = request;
    return simulateRouting(policy, routingQuestion(project), project.id, predictions);
  }

  /**
   * Routes older predictions that have no task under the current policy (capped; budget and
   * dedupe apply as for new ones). Backfilled scores do not feed the target-rate estimate.
   */
  async backfill(project: ProjectEntity, request: RoutingBackfillRequest, actor: Actor): Promise<RoutingBackfillReply> {
    const outcome = await inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const since = request.since ? new Date(request.since) : undefined;
      const { predictions: backlog, oldest } = await this.repository.untasked(
        manager,
        project.id,
        since,
        request.cursor ? decodeCursor(request.cursor) : undefined,
        request.limit,
      );
      const question = routingQuestion(project);
      const routable = backlog.map((p) => ({
        ...p,
        uncertainty: uncertaintyOf(project.routing, question, routingOutput(question, p.scores, p.suggestions), p.committee),
      }));
      const routed = await this.route(manager, project, routable, { observe: false });
      afterCommit(routed.announce);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'routing.backfill',
          targetType: 'project',
          targetId: project.id,
          projectId: project.id,
          requestId: actor.requestId,
          details: { ...request, examined: backlog.length, created: routed.created.length },
        },
        manager,
      );
      return { ...routed, examined: backlog.length, oldest };
    });
    return {
      examined: outcome.examined,
      routed: { total: outcome.created.length, uncertain: outcome.byReason.uncertain, exploration: outcome.byReason.exploration },
      droppedByBudget: outcome.droppedByBudget,
      deduplicated: outcome.deduplicated,
      nextCursor: outcome.examined === request.limit && outcome.oldest ? encodeCursor(outcome.oldest) : null,
    };
  }
}

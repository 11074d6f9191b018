import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { createWindowThreshold, isWindowThreshold, WindowThreshold } from '@backflow/sampling';
import type { RoutingPolicy } from '@backflow/contracts';
import type { EstimatorKey, RoutingRepository } from './routing.repository';

interface Estimator {
  key: EstimatorKey;
  window: WindowThreshold;
  dirty: boolean;
}

/** A model's threshold now, and its estimate to add a score to (nothing for a fixed threshold or none). */
export interface ModelThreshold {
  threshold(): number | undefined;
  observe(score: number): void;
}

const fixedThreshold = (threshold: number | undefined): ModelThreshold => ({ threshold: () => threshold, observe: () => undefined });

export interface ModelOf {
  modelName: string;
  modelVersion: string;
}

/** An estimate's key as one string (looked up twice a prediction: a template, not JSON.stringify). */
const idOf = (key: EstimatorKey) => `${key.projectId}\u0000${key.modelName}\u0000${key.modelVersion}\u0000${key.strategy}\u0000${key.targetRate}`;

/**
 * The thresholds behind target rates: per project, model version, strategy and rate, the exact
 * quantile of the version's last 10,000 scores (`WindowThreshold`), so a new model version gets
 * its own threshold however confident it is. A version's first scores are few: a warm start (the
 * window of the version routed before it under the same strategy and rate, else the project's
 * recent scores) fills in until it has enough of its own, so the rate holds from its first
 * prediction. Kept in memory, resumed from and saved to the database (a few seconds of scores
 * can be lost in a crash; the threshold barely moves).
 */
export class RoutingThresholds {
  private readonly estimators = new Map<string, Promise<Estimator>>();
  private readonly loaded = new Map<string, Estimator>();

  constructor(
    private readonly repository: RoutingRepository,
    private readonly logger: Logger,
  ) {}

  private keyOf(projectId: string, policy: RoutingPolicy, model: ModelOf): EstimatorKey | undefined {
    if (policy.targetRate === undefined) return undefined;
    return { projectId, modelName: model.modelName, modelVersion: model.modelVersion, strategy: policy.strategy, targetRate: policy.targetRate };
  }

  private estimator(key: EstimatorKey, manager?: EntityManager): Promise<Estimator> {
    const id = idOf(key);
    let estimator = this.estimators.get(id);
    if (!estimator) {
      estimator = this.repository.loadEstimator(key, manager).then(async (saved) => {
        // a saved window of this rate resumes; anything else (none, or the streaming estimate kept before issue 24) starts warm
        const state =
          isWindowThreshold(saved) && saved.rate === key.targetRate
            ? saved
            : createWindowThreshold(key.targetRate, await this.repository.warmScores(key, manager));
        const loaded = { key, window: new WindowThreshold(state), dirty: state !== saved };
        this.loaded.set(id, loaded);
        return loaded;
      });
      // a failed load is retried by the next caller
      estimator.catch(() => this.estimators.delete(id));
      this.estimators.set(id, estimator);
    }
    return estimator;
  }

  /** The current threshold for a prediction of this model: the policy's fixed one, the estimate for a target rate, or none. */
  /** `manager`: the connection of a transaction the caller holds, so the load takes no second one from the pool. */
  async thresholdFor(projectId: string, policy: RoutingPolicy, model: ModelOf, manager?: EntityManager): Promise<number | undefined> {
    if (policy.threshold !== undefined) return policy.threshold;
    const key = this.keyOf(projectId, policy, model);
    if (!key) return undefined;
    // route everything: the quantile of a 100% rate is the minimum, which P² cannot hold
    if (key.targetRate >= 1) return 0;
    return (await this.estimator(key, manager)).window.threshold();
  }

  /**
   * One model's threshold and estimate, looked up once for a batch of its predictions (after `thresholdFor`, which loads
   * it), without waiting and without building the estimate's key for each prediction (nothing while it is not loaded).
   */
  of(projectId: string, policy: RoutingPolicy, model: ModelOf): ModelThreshold {
    if (policy.threshold !== undefined) return fixedThreshold(policy.threshold);
    const key = this.keyOf(projectId, policy, model);
    if (!key) return fixedThreshold(undefined);
    if (key.targetRate >= 1) return fixedThreshold(0);
    const estimator = this.loaded.get(idOf(key));
    if (!estimator) return fixedThreshold(undefined);
    return {
      threshold: () => estimator.window.threshold(),
      observe: (score) => {
        estimator.window.add(score);
        estimator.dirty = true;
      },
    };
  }

  /** Adds a routed-or-not prediction's score to its estimate (after `thresholdFor`, which loads it). */
  observe(projectId: string, policy: RoutingPolicy, model: ModelOf, score: number): void {
    this.of(projectId, policy, model).observe(score);
  }

  /** Saves the estimates that moved since the last save. */
  async save(): Promise<void> {
    const dirty = [...this.loaded.values()].filter((e) => e.dirty);
    if (dirty.length === 0) return;
    for (const estimator of dirty) estimator.dirty = false;
    try {
      await this.repository.saveEstimators(dirty.map((e) => ({ key: e.key, state: e.window.snapshot() })));
    } catch (error) {
      for (const estimator of dirty) estimator.dirty = true;
      this.logger.warn({ err: error }, 'routing thresholds not saved; retrying later');
    }
  }
}

import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { addP2, createP2, P2State, valueP2 } from '@backflow/sampling';
import type { RoutingPolicy } from '@backflow/contracts';
import { targetQuantile } from './routing-policy';
import type { EstimatorKey, RoutingRepository } from './routing.repository';

interface Estimator {
  key: EstimatorKey;
  state: P2State;
  dirty: boolean;
}

export interface ModelOf {
  modelName: string;
  modelVersion: string;
}

/**
 * The thresholds behind target rates: one streaming quantile of the uncertainty score per
 * project, model version, strategy and rate, so a new model version starts its own and the
 * rate holds however confident it is. Kept in memory, resumed from and saved to the
 * database (a few seconds of observations can be lost in a crash; the estimate barely moves).
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
    const id = JSON.stringify(key);
    let estimator = this.estimators.get(id);
    if (!estimator) {
      estimator = this.repository.loadEstimator(key, manager).then((saved) => {
        const loaded = { key, state: saved ?? createP2(targetQuantile(key.targetRate)), dirty: false };
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
    return valueP2((await this.estimator(key, manager)).state);
  }

  /** The same, without waiting: for a model whose estimate `thresholdFor` has loaded (none otherwise). */
  currentThreshold(projectId: string, policy: RoutingPolicy, model: ModelOf): number | undefined {
    if (policy.threshold !== undefined) return policy.threshold;
    const key = this.keyOf(projectId, policy, model);
    if (!key) return undefined;
    if (key.targetRate >= 1) return 0;
    const estimator = this.loaded.get(JSON.stringify(key));
    return estimator && valueP2(estimator.state);
  }

  /** Adds a routed-or-not prediction's score to its estimate (after `thresholdFor`, which loads it). */
  observe(projectId: string, policy: RoutingPolicy, model: ModelOf, score: number): void {
    const key = this.keyOf(projectId, policy, model);
    if (!key || key.targetRate >= 1) return;
    const estimator = this.loaded.get(JSON.stringify(key));
    if (!estimator) return;
    addP2(estimator.state, score);
    estimator.dirty = true;
  }

  /** Saves the estimates that moved since the last save. */
  async save(): Promise<void> {
    const dirty = [...this.loaded.values()].filter((e) => e.dirty);
    if (dirty.length === 0) return;
    for (const estimator of dirty) estimator.dirty = false;
    try {
      await this.repository.saveEstimators(dirty.map((e) => ({ key: e.key, state: structuredClone(e.state) })));
    } catch (error) {
      for (const estimator of dirty) estimator.dirty = true;
      this.logger.warn({ err: error }, 'routing thresholds not saved; retrying later');
    }
  }
}

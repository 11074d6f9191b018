import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { TaskReason } from '@backflow/contracts';

/** Every domain event with its payload; emitted after the transaction that caused it commits. */
export interface DomainEventMap {
  'prediction.contradicted': {
    projectId: string;
    predictionId: string;
    predictedLabel: string;
    confidence: number;
    label: string;
    rule: string;
  };
  'label.finalized': { projectId: string; predictionId: string; label: string; source: string };
  'annotation.submitted': { projectId: string; taskId: string; raterId: string; label: string };
  'task.review_requested': { projectId: string; taskId: string };
  'annotation.undone': { projectId: string; taskId: string; raterId: string };
  'rater.paused': { projectId: string; raterId: string; goldAnswers: number; accuracy: number };
  'export.progress': {
    projectId: string;
    project: string;
    job: string;
    span: number;
    version: number;
    rowsWritten: number;
    rows: number;
    state: 'writing' | 'completed' | 'failed';
  };
  'task.created': { projectId: string; taskId: string; predictionId: string; reason: TaskReason; priority: number };
  /** leases ended before their time (their rater lost access): the tasks are claimable again */
  'leases.released': { projectId: string; taskIds: string[] };
  /**
   * retention removed a project's predictions of the days before `before` (YYYY-MM-DD) that
   * nothing needs, after rolling them up: what other modules keep only for them can go too
   */
  'predictions.retired': { projectId: string; before: string };
  /** a project and its settings are gone: what other modules keep of it by its id can go too */
  'project.deleted': { projectId: string; slug: string };
}

export type DomainEventName = keyof DomainEventMap;

/** In-process typed events: features announce what happened without importing who listens. */
@Injectable()
export class DomainEvents {
  private readonly emitter = new EventEmitter();
  private readonly logger = new Logger('DomainEvents');

  emit<K extends DomainEventName>(name: K, payload: DomainEventMap[K]): void {
    for (const listener of this.emitter.listeners(name)) {
      Promise.resolve()
        .then(() => (listener as (p: DomainEventMap[K]) => unknown)(payload))
        .catch((error: unknown) => this.logger.error(`a ${name} listener failed: ${String(error)}`));
    }
  }

  on<K extends DomainEventName>(name: K, listener: (payload: DomainEventMap[K]) => unknown): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}

@Global()
@Module({ providers: [DomainEvents], exports: [DomainEvents] })
export class DomainEventsModule {}

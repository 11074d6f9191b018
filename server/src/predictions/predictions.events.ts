import type { EntityManager } from 'typeorm';
import type { ProjectEntity } from '../projects/project.entity';
import type { PredictionRow } from './prediction-validation';

/** New predictions, stored in the capture's transaction; `feedbackWaiting`: those whose feedback arrived before them. */
export interface PredictionsStored {
  manager: EntityManager;
  project: ProjectEntity;
  predictions: ReadonlyArray<Pick<PredictionRow, 'id' | 'occurredAt'>>;
  feedbackWaiting: string[];
}

declare module '../common/events/transaction-events' {
  interface TransactionEventMap {
    'predictions.stored': PredictionsStored;
  }
}

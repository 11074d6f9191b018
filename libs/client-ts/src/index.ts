export { BackflowClient } from './client';
export { BackflowIngestError } from './ingest-error';
export type { IngestErrorDetails } from './ingest-error';
export type {
  ClientOptions,
  ClientStats,
  DroppedItems,
  FeatureScalar,
  FeatureValue,
  FeedbackEvent,
  FetchFunction,
  IngestKind,
  Prediction,
  RejectedItem,
  RejectedItems,
} from './types';

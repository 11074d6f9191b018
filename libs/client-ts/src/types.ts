import type { FeatureValue as WireFeatureValue, FeedbackInputBody, PredictionInputBody, RejectedItem as WireRejectedItem } from '@backflow/contracts';
import type { BackflowIngestError } from './ingest-error';

export type FeatureScalar = Exclude<WireFeatureValue, readonly unknown[]>;
/** A feature as the caller holds it: an array may be readonly, it is sent as it is. */
export type FeatureValue = WireFeatureValue | readonly FeatureScalar[];

/** One prediction of a model in production, as the ingestion API takes it; a Date timestamp is sent as its ISO 8601 string. */
export type Prediction = Omit<PredictionInputBody, 'input' | 'timestamp'> & { input: Record<string, FeatureValue>; timestamp?: string | Date };

/** One implicit feedback event (a click, a purchase, a correction) about a prediction; its `id` is the idempotency key. */
export type FeedbackEvent = Omit<FeedbackInputBody, 'occurredAt'> & { occurredAt?: string | Date };

export type IngestKind = 'prediction' | 'feedback';

/** An item the server refused, with the reason it gave (the server names it by its index in the batch; this is the item itself). */
export type RejectedItem<Item> = Omit<WireRejectedItem, 'index'> & { item: Item };

export type RejectedItems = [kind: 'prediction', rejected: RejectedItem<Prediction>[]] | [kind: 'feedback', rejected: RejectedItem<FeedbackEvent>[]];

export interface DroppedItems {
  kind: IngestKind;
  count: number;
}

/** The part of `fetch` the client uses: `globalThis.fetch` fits, and so does any compatible implementation. */
export type FetchFunction = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface ClientOptions {
  /** Where the Backflow server listens, such as `https://backflow.example.com`. */
  baseUrl: string;
  /** The secret of an API key with the `ingest` scope. */
  apiKey: string;
  /** The project slug the key belongs to. */
  project: string;
  /** Items per request; a full buffer of this size is sent at once. Default 500. */
  batchSize?: number;
  /** How often buffered items are sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Items held (buffered and in flight) before new ones are dropped. Default 100 000. */
  maxBufferSize?: number;
  /** Attempts after the first for a network error, 5xx or 429. Default 8. */
  maxRetries?: number;
  /** Upper bound of the first backoff; it doubles per attempt (full jitter). Default 200 ms. */
  initialBackoffMs?: number;
  /** Longest wait between attempts, Retry-After included. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** A request that takes longer is aborted and retried. Default 30 000 ms. */
  requestTimeoutMs?: number;
  fetch?: FetchFunction;
  /** Items refused because the buffer was full. */
  onDrop?: (dropped: DroppedItems) => void;
  /** Items the server refused (invalid, unknown label, …): never retried. */
  onRejected?: (...rejected: RejectedItems) => void;
  /** A batch given up on: a 4xx, or a transient failure that outlasted the retries. */
  onError?: (error: BackflowIngestError) => void;
}

export interface ClientStats {
  /** Items held by the client: waiting or in flight. */
  buffered: number;
  /** Items the server answered for: accepted + duplicates + rejected. */
  sent: number;
  /** Items stored by the server now. */
  accepted: number;
  /** Items the server had stored before under the same id. */
  duplicates: number;
  rejected: number;
  /** Items refused because the buffer was full. */
  dropped: number;
  /** Requests sent again after a transient failure. */
  retries: number;
  /** Items given up on: a 4xx, or retries exhausted. */
  failed: number;
}

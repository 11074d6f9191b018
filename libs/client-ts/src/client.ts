import type { ErrorBody, IngestReply } from '@backflow/contracts';
import { backoffDelayMs, retryAfterMs } from './backoff';
import { BackflowIngestError, type IngestErrorDetails } from './ingest-error';
import type { ClientOptions, ClientStats, FeedbackEvent, FetchFunction, IngestKind, Prediction, RejectedItem } from './types';

/** An item as buffered: serialized once, when it is handed over, so later edits by the caller cannot change what is sent. */
interface BufferedItem<Item> {
  item: Item;
  json: string;
}

type Attempt = { kind: 'reply'; status: number; body: unknown; retryAfter: string | null } | { kind: 'network_error'; error: unknown };

/** What could be read of an error body, with the largest batch the server takes when it sends a 413. */
type ErrorReply = Partial<Omit<ErrorBody, 'details'>> & { limit?: number };

const DEFAULTS = {
  batchSize: 500,
  flushIntervalMs: 1000,
  maxBufferSize: 100_000,
  maxRetries: 8,
  initialBackoffMs: 200,
  maxBackoffMs: 30_000,
  requestTimeoutMs: 30_000,
} as const;

type Limits = { -readonly [Name in keyof typeof DEFAULTS]: number };

/**
 * Buffers predictions and feedback and sends them in batches, retrying transient failures with the same ids
 * (the server stores an id once), with a bounded buffer. Call `close()` before the process exits.
 */
export class BackflowClient {
  private readonly limits: Limits;
  private readonly apiKey: string;
  private readonly endpoints: Record<IngestKind, string>;
  private readonly fetchFunction: FetchFunction;
  private readonly options: ClientOptions;

  private readonly buffers: { prediction: BufferedItem<Prediction>[]; feedback: BufferedItem<FeedbackEvent>[] } = { prediction: [], feedback: [] };
  private inFlight = 0;
  private readonly counters: Omit<ClientStats, 'buffered'> = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, dropped: 0, retries: 0, failed: 0 };
  private readonly unreportedDrops: Record<IngestKind, number> = { prediction: 0, feedback: 0 };

  private sending: Promise<void> | null = null;
  private nextSending: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private readonly flushTimer: ReturnType<typeof setInterval>;

  constructor(options: ClientOptions) {
    this.options = options;
    this.limits = validatedLimits(options);
    const baseUrl = requiredText(options.baseUrl, 'baseUrl').replace(/\/+$/, '');
    if (!isUrl(baseUrl)) throw new TypeError(`BackflowClient: baseUrl is not a URL: ${baseUrl}`);
    this.apiKey = requiredText(options.apiKey, 'apiKey');
    const project = `${baseUrl}/api/v1/projects/${encodeURIComponent(requiredText(options.project, 'project'))}`;
    this.endpoints = { prediction: `${project}/predictions/batch?partial=true`, feedback: `${project}/feedback?partial=true` };
    // looked up at call time and called unbound: a browser's fetch refuses to run with `this` set to another object
    this.fetchFunction = options.fetch ?? ((url, init) => globalThis.fetch(url, init));

    this.flushTimer = setInterval(() => {
      if (this.buffers.prediction.length + this.buffers.feedback.length > 0) void this.flush();
    }, this.limits.flushIntervalMs);
    // Node: the timer alone must not keep the process alive (browsers return a number)
    if (typeof this.flushTimer === 'object' && typeof this.flushTimer.unref === 'function') this.flushTimer.unref();
  }

  /**
   * Buffers a prediction and returns its id. The id and the timestamp are assigned now when
   * absent, so that every retry sends the same ones: the server knows a prediction by its id and
   * the day of its timestamp, exactly at any distance.
   */
  predict(prediction: Prediction): string {
    this.assertOpen('predict');
    if (!isObject(prediction)) {
      this.enqueue('prediction', this.buffers.prediction, prediction);
      // refused when sent, through onRejected: its id is only what the caller would have been told
      return globalThis.crypto.randomUUID();
    }
    const id = prediction.id ?? globalThis.crypto.randomUUID();
    this.enqueue('prediction', this.buffers.prediction, { ...prediction, id, timestamp: prediction.timestamp ?? new Date() });
    return id;
  }

  /** Buffers a feedback event; its `id` is the idempotency key. */
  feedback(event: FeedbackEvent): void {
    this.assertOpen('feedback');
    this.enqueue('feedback', this.buffers.feedback, event);
  }

  /** Sends everything buffered so far, waiting for sends already in flight. Never rejects: failures go to the callbacks. */
  flush(): Promise<void> {
    if (this.nextSending) return this.nextSending;
    if (!this.sending) return this.startSending();
    // a send is in progress with a snapshot taken earlier: one more round, shared by every caller until it starts
    const next = this.sending.then(() => {
      this.nextSending = null;
      return this.startSending();
    });
    this.nextSending = next;
    return next;
  }

  /** Stops the timer and sends what is buffered; predict() and feedback() throw afterwards. */
  close(): Promise<void> {
    if (!this.closing) {
      clearInterval(this.flushTimer);
      this.closing = this.flush();
    }
    return this.closing;
  }

  stats(): ClientStats {
    return { buffered: this.held(), ...this.counters };
  }

  private held(): number {
    return this.buffers.prediction.length + this.buffers.feedback.length + this.inFlight;
  }

  private assertOpen(method: string): void {
    if (this.closing) throw new Error(`BackflowClient.${method}() called after close(): create a new client to send more`);
  }

  private enqueue<Item>(kind: IngestKind, buffer: BufferedItem<Item>[], item: Item): void {
    if (this.held() >= this.limits.maxBufferSize) {
      this.counters.dropped++;
      this.reportDrop(kind);
      return;
    }
    let json: string | undefined;
    try {
      json = isObject(item) ? JSON.stringify(item) : undefined;
    } catch (error) {
      this.fail(`a ${kind} cannot be serialized to JSON`, { kind, itemCount: 1, code: 'client/invalid_item', cause: error });
      return;
    }
    if (json === undefined) {
      this.fail(`a ${kind} must be an object`, { kind, itemCount: 1, code: 'client/invalid_item' });
      return;
    }
    buffer.push({ item, json });
    if (buffer.length >= this.limits.batchSize) void this.flush();
  }

  // drops come in bursts: one report per kind for all the drops of the same tick
  private reportDrop(kind: IngestKind): void {
    if (this.unreportedDrops[kind]++ > 0) return;
    queueMicrotask(() => {
      const count = this.unreportedDrops[kind];
      this.unreportedDrops[kind] = 0;
      this.notify(() => this.options.onDrop?.({ kind, count }));
    });
  }

  private startSending(): Promise<void> {
    const sending = this.sendBuffered().finally(() => {
      this.sending = null;
    });
    this.sending = sending;
    return sending;
  }

  private async sendBuffered(): Promise<void> {
    const predictions = this.buffers.prediction.splice(0);
    const feedback = this.buffers.feedback.splice(0);
    this.inFlight += predictions.length + feedback.length;
    // predictions first: the feedback of this round may refer to them
    for (const batch of chunks(predictions, this.limits.batchSize)) await this.sendCounted('prediction', batch);
    for (const batch of chunks(feedback, this.limits.batchSize)) await this.sendCounted('feedback', batch);
  }

  private async sendCounted<Item>(kind: IngestKind, batch: BufferedItem<Item>[]): Promise<void> {
    try {
      await this.sendBatch(kind, batch);
    } finally {
      this.inFlight -= batch.length;
    }
  }

  private async sendBatch<Item>(kind: IngestKind, batch: BufferedItem<Item>[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.post(kind, batch);
      if (result.kind === 'reply' && result.status >= 200 && result.status < 300) {
        this.record(kind, batch, result.body);
        return;
      }
      const body = result.kind === 'reply' ? readErrorBody(result.body) : {};
      if (result.kind === 'reply' && result.status === 413 && batch.length > 1) {
        const limit = body.limit;
        const size = typeof limit === 'number' && limit >= 1 && limit < batch.length ? limit : Math.ceil(batch.length / 2);
        for (const part of chunks(batch, size)) await this.sendBatch(kind, part);
        return;
      }
      const transient = result.kind === 'network_error' || result.status === 408 || result.status === 429 || result.status >= 500;
      if (!transient || attempt >= this.limits.maxRetries) {
        const details: IngestErrorDetails =
          result.kind === 'network_error'
            ? { kind, itemCount: batch.length, code: 'client/network_error', cause: result.error }
            : {
                kind,
                itemCount: batch.length,
                code: body.code ?? `http/${result.status}`,
                status: result.status,
                field: body.field,
                requestId: body.requestId,
              };
        const reason = result.kind === 'network_error' ? describe(result.error) : `${result.status} ${details.code}: ${body.message ?? 'no message'}`;
        const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : '';
        this.fail(`sending ${batch.length} ${kind} item(s) failed${tries}: ${reason}`, details);
        return;
      }
      const requested = result.kind === 'reply' ? retryAfterMs(result.retryAfter) : undefined;
      const wait =
        requested === undefined
          ? backoffDelayMs(attempt, this.limits.initialBackoffMs, this.limits.maxBackoffMs)
          : Math.min(requested, this.limits.maxBackoffMs);
      this.counters.retries++;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async post<Item>(kind: IngestKind, batch: BufferedItem<Item>[]): Promise<Attempt> {
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(new Error(`no reply within ${this.limits.requestTimeoutMs} ms`)), this.limits.requestTimeoutMs);
    try {
      const response = await this.fetchFunction(this.endpoints[kind], {
        method: 'POST',
        headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: `[${batch.map((buffered) => buffered.json).join(',')}]`,
        signal: abort.signal,
      });
      const text = await response.text();
      return { kind: 'reply', status: response.status, body: parseJson(text), retryAfter: response.headers.get('retry-after') };
    } catch (error) {
      return { kind: 'network_error', error: abort.signal.aborted ? abort.signal.reason : error };
    } finally {
      clearTimeout(timeout);
    }
  }

  private record<Item>(kind: IngestKind, batch: BufferedItem<Item>[], replyBody: unknown): void {
    this.counters.sent += batch.length;
    const body = readIngestReply(replyBody);
    if (!body) {
      this.notify(() =>
        this.options.onError?.(
          new BackflowIngestError(`the server answered a ${kind} batch with an unexpected body`, {
            kind,
            itemCount: batch.length,
            code: 'client/unexpected_reply',
          }),
        ),
      );
      return;
    }
    this.counters.accepted += body.accepted;
    this.counters.duplicates += body.duplicates;
    this.counters.rejected += body.rejected.length;
    if (body.rejected.length === 0) return;
    const rejected = body.rejected.flatMap(({ index, code, field, message }) => (batch[index] ? [{ item: batch[index].item, code, field, message }] : []));
    this.notify(() => {
      const onRejected = this.options.onRejected;
      if (!onRejected) return;
      // the batch holds items of `kind`: predictions for 'prediction', feedback events for 'feedback'
      if (kind === 'prediction') onRejected('prediction', rejected as RejectedItem<Prediction>[]);
      else onRejected('feedback', rejected as RejectedItem<FeedbackEvent>[]);
    });
  }

  private fail(message: string, details: IngestErrorDetails): void {
    this.counters.failed += details.itemCount;
    this.notify(() => this.options.onError?.(new BackflowIngestError(message, details)));
  }

  // a throwing callback must not stop the client from sending what remains
  private notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // the caller's bug; nothing here can report it better than its own code
    }
  }
}

function validatedLimits(options: ClientOptions): Limits {
  const limits = { ...DEFAULTS } as Limits;
  const minimum: Limits = { batchSize: 1, flushIntervalMs: 1, maxBufferSize: 1, maxRetries: 0, initialBackoffMs: 0, maxBackoffMs: 0, requestTimeoutMs: 1 };
  for (const name of Object.keys(DEFAULTS) as Array<keyof Limits>) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum[name]) {
      throw new RangeError(`BackflowClient: ${name} must be a number of at least ${minimum[name]}, got ${String(value)}`);
    }
    limits[name] = name === 'batchSize' || name === 'maxBufferSize' || name === 'maxRetries' ? Math.floor(value) : value;
  }
  return limits;
}

function requiredText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`BackflowClient: ${name} is required`);
  return value;
}

// not URL.canParse: older browsers lack it
function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readIngestReply(body: unknown): Required<IngestReply> | undefined {
  if (!isObject(body) || typeof body.accepted !== 'number' || typeof body.duplicates !== 'number') return undefined;
  const rejected = body.rejected ?? [];
  if (!Array.isArray(rejected)) return undefined;
  return {
    accepted: body.accepted,
    duplicates: body.duplicates,
    rejected: rejected.filter(isObject).map((entry) => ({
      index: typeof entry.index === 'number' ? entry.index : -1,
      code: text(entry.code) ?? 'unknown',
      field: text(entry.field) ?? '',
      message: text(entry.message) ?? '',
    })),
  };
}

function readErrorBody(body: unknown): ErrorReply {
  if (!isObject(body)) return {};
  const limit = isObject(body.details) && typeof body.details.limit === 'number' ? body.details.limit : undefined;
  return { code: text(body.code), message: text(body.message), field: text(body.field), requestId: text(body.requestId), limit };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return text;
  }
}

function* chunks<Item>(items: Item[], size: number): Generator<Item[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

import type { IngestKind } from './types';

export interface IngestErrorDetails {
  kind: IngestKind;
  /** Items of the batch given up on. */
  itemCount: number;
  /** The server's stable error code, or `client/…` when there was no usable reply. */
  code: string;
  /** HTTP status; absent when no response came back. */
  status?: number;
  field?: string;
  requestId?: string;
  cause?: unknown;
}

/** A batch the client gave up on, reported through `onError`. */
export class BackflowIngestError extends Error {
  override readonly name = 'BackflowIngestError';
  readonly kind: IngestKind;
  readonly itemCount: number;
  readonly code: string;
  readonly status?: number;
  readonly field?: string;
  readonly requestId?: string;

  constructor(message: string, details: IngestErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = details.kind;
    this.itemCount = details.itemCount;
    this.code = details.code;
    this.status = details.status;
    this.field = details.field;
    this.requestId = details.requestId;
  }
}

import { Transform, TransformCallback } from 'node:stream';
import { DomainError } from '../errors';

// a body must bring at least this much per window, or it is cut
export const BODY_MIN_BYTES_PER_WINDOW = 1024;

export const bodyTimeout = (seconds: number) =>
  new DomainError(
    'http/body_timeout',
    `the request body stalled: less than ${BODY_MIN_BYTES_PER_WINDOW} bytes arrived in ${seconds} s (REQUEST_BODY_TIMEOUT_SECONDS)`,
    408,
    'body',
  );

/**
 * Passes a request body through, and fails it when a window of `windowMs` brings less than
 * BODY_MIN_BYTES_PER_WINDOW bytes: a stalled or trickled body (one byte every few seconds) is cut,
 * a long NDJSON stream that keeps flowing is not. Fastify's content-type parsers read from it.
 */
export class BodyDeadline extends Transform {
  /** Fastify compares this with content-length, as it does for the raw request */
  receivedEncodedLength = 0;
  private inWindow = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs: number) {
    super();
    this.timer = setInterval(() => {
      // a full buffer means the reader is slow (a batch being written), not the sender
      const waitingOnReader = this.readableLength >= this.readableHighWaterMark || this.writableLength > 0;
      if (this.inWindow < BODY_MIN_BYTES_PER_WINDOW && !waitingOnReader) this.destroy(bodyTimeout(windowMs / 1000));
      this.inWindow = 0;
    }, windowMs);
    this.timer.unref();
    // the reader reports the error; with none left (the reply went out), it must not crash the process
    this.on('error', () => undefined);
  }

  /** No more of the body is wanted (the reply has gone out). */
  stop(): void {
    clearInterval(this.timer);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    this.inWindow += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    clearInterval(this.timer);
    done();
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    clearInterval(this.timer);
    done(error);
  }
}

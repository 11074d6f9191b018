import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FeatureStatistics } from '@backflow/drift';
import type { MaskedFieldPolicy } from '@backflow/contracts';
import type { Question } from '@backflow/questions';
import type { ExportRow, ExportValue, FeatureSpec } from './example-row';
import { ExportColumns } from './fixed-columns';
import type { Split } from './split';
import { FinishedStatistics, SplitStatistics, type SpanStatisticsResult } from './tfdv-artifacts';

/*
 * A span's TFDV statistics are a third of the export's work on its one thread (a million rows:
 * about 9 s of 31 s of CPU, measured). For a large span they are computed on a worker thread
 * instead: the rows' COPY lines go to it in batches and it reads them again as the export does
 * (parsed, masked, each feature's values worked out), in the same order, through the same code,
 * so the statistics are the same bytes; the export's thread goes on writing the files meanwhile.
 */

/** What a worker needs to read a span's rows as the export does. */
export interface StatisticsWork {
  questions: readonly Question[];
  routingQuestion: string;
  features: readonly FeatureSpec[];
  masking: { policy: MaskedFieldPolicy; fields: readonly string[]; key: Uint8Array };
  trainPercent: number;
  /** the span has TFRecord: a float is counted as the float32 its tf.Example holds */
  float32: boolean;
}

/** Where a span's statistics are counted: on the export's thread, or on a worker fed the rows' lines. */
export interface SpanStatistics {
  /** Counts a row (masked, its values worked out); a promise when the caller must wait before the next. */
  add(row: ExportRow, split: Split, values: ExportValue[][]): Promise<void> | undefined;
  /** Every row added: the statistics. */
  finish(): Promise<SpanStatisticsResult>;
  /** Lets go of a pass that stopped early or failed. */
  abort(): Promise<void>;
}

export type StatisticsThreadMode = 'auto' | 'on' | 'off';

// the worker's module, compiled beside this one (absent when the code runs from TypeScript sources, as under Jest)
const WORKER_FILE = path.join(__dirname, 'statistics-worker.js');
// spans smaller than this are counted in place under `auto` (a worker takes about 0.1 s to start)
export const THREAD_MIN_ROWS = 20_000;
// lines sent to the worker at a time: a message of a thousand (about 450 KB) is a large object in
// both heaps, freed only by a full collection; at a hundred the worker's heap peaked at 111 MB, not 184
const BATCH_LINES = 100;
// the worker's young generation: at V8's default the worker's heap reached 111 MB, at 4 MB 48 MB,
// for the same CPU (the export's peak RSS 397 MB against 525 MB, measured on a million rows)
const WORKER_YOUNG_GENERATION_MB = 4;
// rows sent and not yet counted past which the export waits (about 20 MB of lines at the benchmark's rows)
const BACKLOG_ROWS = 40_000;

/** Whether a span of `rows` has its statistics counted on a worker thread. */
export function statisticsOnThread(mode: StatisticsThreadMode, rows: number): boolean {
  if (mode === 'off' || !existsSync(WORKER_FILE)) return false;
  return mode === 'on' || (rows >= THREAD_MIN_ROWS && availableParallelism() > 1);
}

/** A span's statistics, counted on a worker thread when `onThread` (the rows must then carry their COPY lines). */
export function spanStatistics(work: StatisticsWork, onThread: boolean, workerFile = WORKER_FILE): SpanStatistics {
  return onThread ? new ThreadStatistics(work, workerFile) : new InPlaceStatistics(work);
}

class InPlaceStatistics implements SpanStatistics {
  private readonly statistics: SplitStatistics;

  constructor(work: StatisticsWork) {
    this.statistics = new SplitStatistics(new ExportColumns(work.questions, work.routingQuestion), work.features, { float32: work.float32 });
  }

  add(row: ExportRow, split: Split, values: ExportValue[][]): undefined {
    this.statistics.add(row, split, values);
    return undefined;
  }

  finish(): Promise<SpanStatisticsResult> {
    return Promise.resolve(this.statistics);
  }

  abort(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the worker sends back. */
export type WorkerReply =
  | { counted: number }
  | { statistics: { train: ReturnType<SplitStatistics['result']>; eval: ReturnType<SplitStatistics['result']>; summary: FeatureStatistics[] } }
  | { error: string };

/** What the worker is sent: rows' lines (joined by newlines: COPY escapes a newline inside a value), or the end of the rows. */
export type WorkerRequest = { lines: string } | { finish: true };

class ThreadStatistics implements SpanStatistics {
  private readonly worker: Worker;
  private lines: string[] = [];
  private sent = 0;
  private counted = 0;
  private failure: Error | undefined;
  private draining: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private finishing: { resolve: (result: SpanStatisticsResult) => void; reject: (error: Error) => void } | undefined;

  constructor(work: StatisticsWork, workerFile: string) {
    this.worker = new Worker(workerFile, { workerData: work, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    this.worker.on('message', (reply: WorkerReply) => this.received(reply));
    this.worker.on('error', (error: Error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the export's statistics worker stopped (exit code ${code})`)));
  }

  add(row: ExportRow): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (row.line === undefined) throw new Error('a span row reached the statistics worker without its COPY line');
    this.lines.push(row.line);
    if (this.lines.length < BATCH_LINES) return undefined;
    this.send();
    if (this.sent - this.counted <= BACKLOG_ROWS) return undefined;
    return new Promise<void>((resolve, reject) => (this.draining = { resolve, reject }));
  }

  finish(): Promise<SpanStatisticsResult> {
    if (this.failure) return Promise.reject(this.failure);
    this.send();
    return new Promise<SpanStatisticsResult>((resolve, reject) => {
      this.finishing = { resolve, reject };
      this.worker.postMessage({ finish: true } satisfies WorkerRequest);
    });
  }

  async abort(): Promise<void> {
    this.failure ??= new Error('the export stopped');
    await this.worker.terminate();
  }

  private send(): void {
    if (this.lines.length === 0) return;
    this.worker.postMessage({ lines: this.lines.join('\n') } satisfies WorkerRequest);
    this.sent += this.lines.length;
    this.lines = [];
  }

  private received(reply: WorkerReply): void {
    if ('error' in reply) return this.fail(new Error(`export statistics: ${reply.error}`));
    if ('counted' in reply) {
      this.counted += reply.counted;
      if (this.draining && this.sent - this.counted <= BACKLOG_ROWS / 2) {
        this.draining.resolve();
        this.draining = undefined;
      }
      return;
    }
    const { train, eval: evaluation, summary } = reply.statistics;
    this.finishing?.resolve(new FinishedStatistics({ train, eval: evaluation }, summary));
    this.finishing = undefined;
    void this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.draining?.reject(this.failure);
    this.finishing?.reject(this.failure);
    this.draining = undefined;
    this.finishing = undefined;
  }
}

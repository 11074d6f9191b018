import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createWriteStream, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { ParquetReader, ParquetSchema, ParquetWriter } from '@dsnp/parquetjs';
import type { ObjectStore } from '../common/storage/object-store';
import type { ScoredPrediction } from './predictions.repository';

/** One raw prediction as retention archives it: JSON columns as their text, times in microseconds since the epoch. */
export interface ArchivedPrediction {
  id: string;
  model_name: string;
  model_version: string;
  input: string;
  scores: string;
  predicted_label: string;
  confidence: number;
  slice: string;
  metadata: string | null;
  occurred_at: bigint;
  received_at: bigint;
  uncertainty: number | null;
  suggestions: string | null;
  committee: string | null;
  /** the embedding as JSON text (`array_to_json` of the real[]: the float32 values' shortest decimals) */
  embedding: string | null;
  /** the caller's id when it is not the key's text (ADR 0043) */
  external_id: string | null;
  occurred_on: string;
}

/**
 * The archive's columns: every column of `predictions` but the project (the folder names it;
 * `id` is the key, `external_id` the caller's id when it is not the key's text, so a reader takes
 * `coalesce(external_id, id)` for the id as sent),
 * JSON as the text PostgreSQL holds (so a large integer keeps every digit), times as microsecond timestamps
 * (PostgreSQL's precision, so nothing is rounded), the day as the Hive partition folder; every
 * column GZIP-compressed (Parquet's codec that every reader has).
 */
const SCHEMA = new ParquetSchema({
  id: { type: 'UTF8', compression: 'GZIP' },
  model_name: { type: 'UTF8', compression: 'GZIP' },
  model_version: { type: 'UTF8', compression: 'GZIP' },
  input: { type: 'UTF8', compression: 'GZIP' },
  scores: { type: 'UTF8', compression: 'GZIP' },
  predicted_label: { type: 'UTF8', compression: 'GZIP' },
  confidence: { type: 'DOUBLE', compression: 'GZIP' },
  slice: { type: 'UTF8', compression: 'GZIP' },
  metadata: { type: 'UTF8', optional: true, compression: 'GZIP' },
  occurred_at: { type: 'TIMESTAMP_MICROS', compression: 'GZIP' },
  received_at: { type: 'TIMESTAMP_MICROS', compression: 'GZIP' },
  uncertainty: { type: 'DOUBLE', optional: true, compression: 'GZIP' },
  suggestions: { type: 'UTF8', optional: true, compression: 'GZIP' },
  committee: { type: 'UTF8', optional: true, compression: 'GZIP' },
  embedding: { type: 'UTF8', optional: true, compression: 'GZIP' },
  external_id: { type: 'UTF8', optional: true, compression: 'GZIP' },
});

/** A day's archive file, closed: its day and where it lies on the local disk until it is stored. */
export interface ArchivedDay {
  day: string;
  file: string;
}

/**
 * The day files of one partition's archive as they are written: rows appended in day order to
 * `<directory>/<day>.parquet`, a day's file closed when the next day's first row comes (or at the
 * end). Parquet's shredding and GZIP are synchronous CPU work (a row group at a time): the server
 * runs this on a worker thread (archive-worker.ts) and in place only when the worker is not built.
 */
export class ArchiveDays {
  private current: { day: string; file: string; writer: ParquetWriter } | undefined;

  constructor(private readonly directory: string) {}

  /** Appends rows; the days they closed. */
  async add(rows: readonly ArchivedPrediction[]): Promise<ArchivedDay[]> {
    const closed: ArchivedDay[] = [];
    for (const { occurred_on: on, ...row } of rows) {
      if (this.current?.day !== on) {
        // a day seen again would overwrite its file
        if (this.current && on < this.current.day) throw new Error(`archive rows out of day order: ${on} after ${this.current.day}`);
        closed.push(...(await this.finish()));
        const file = path.join(this.directory, `${on}.parquet`);
        this.current = { day: on, file, writer: await ParquetWriter.openFile(SCHEMA, file) };
      }
      await this.current.writer.appendRow(row);
    }
    return closed;
  }

  /** Closes the day being written; the day it closed, if any. */
  async finish(): Promise<ArchivedDay[]> {
    if (!this.current) return [];
    const { day, file, writer } = this.current;
    this.current = undefined;
    await writer.close();
    return [{ day, file }];
  }

  /** Lets go of the file being written, after a failure (its rows are not archived: the partition is not removed). */
  async close(): Promise<void> {
    const writer = this.current?.writer;
    this.current = undefined;
    await writer?.close().catch(() => undefined);
  }
}

/** What the archive's worker is sent: rows to append, the end of the rows, or a failure elsewhere. */
export type ArchiveRequest = { rows: readonly ArchivedPrediction[] } | { finish: true } | { close: true };
/** What it answers, once per request, in order: the days closed, or why it failed. */
export type ArchiveReply = { closed: ArchivedDay[] } | { error: string };

// the worker's module, compiled beside this one (absent when the code runs from TypeScript sources, as under Jest)
const WORKER_FILE = path.join(__dirname, 'archive-worker.js');

/** The archive's day files written on a worker thread: the same `ArchiveDays`, fed the rows by message. */
class ThreadArchiveDays {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: (closed: ArchivedDay[]) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;

  constructor(directory: string, workerFile: string) {
    this.worker = new Worker(workerFile, { workerData: { directory } });
    this.worker.on('message', (reply: ArchiveReply) => {
      if ('error' in reply) return this.fail(new Error(`archive: ${reply.error}`));
      this.waiting.shift()?.resolve(reply.closed);
    });
    this.worker.on('error', (error: Error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the archive's worker stopped (exit code ${code})`)));
  }

  add(rows: readonly ArchivedPrediction[]): Promise<ArchivedDay[]> {
    return this.request({ rows });
  }

  finish(): Promise<ArchivedDay[]> {
    return this.request({ finish: true });
  }

  /** Ends the worker, after it let go of its file (at once when it failed). */
  async close(): Promise<void> {
    if (!this.failure) await this.request({ close: true }).catch(() => undefined);
    this.failure ??= new Error('the archive is closed');
    await this.worker.terminate();
  }

  private request(message: ArchiveRequest): Promise<ArchivedDay[]> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<ArchivedDay[]>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.worker.postMessage(message);
    return reply;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.splice(0)) waiting.reject(this.failure);
  }
}

/**
 * Writes raw predictions before retention removes them: Parquet, Hive-partitioned by the UTC day
 * of their timestamp, `<project>/date=YYYY-MM-DD/part-<partition>.parquet` under the archive root
 * (a directory or a bucket), so DuckDB (`read_parquet('…/*\/date=*\/*.parquet', hive_partitioning = true)`),
 * Spark and BigQuery read it as one table. A file is named after the partition it comes from: a
 * retention run that is retried writes the same names again, never a second copy.
 *
 * The rows come a batch at a time, in day order, and go to the day's file as they come: a day of
 * a busy project does not fit in memory (at 1,000 predictions a second, 86 million rows). The
 * files are encoded on a worker thread (`workerFile`, when it exists), a batch at a time while the
 * next is read: the server that archives goes on serving capture meanwhile (encoded in place, the
 * event loop waited up to 150–260 ms at a time; on the worker, about 20: `npm run bench -- archive`).
 */
export async function archivePredictions(
  store: ObjectStore,
  project: string,
  partition: string,
  batches: AsyncIterable<readonly ArchivedPrediction[]>,
  workerFile = WORKER_FILE,
): Promise<string[]> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'backflow-archive-'));
  const days = existsSync(workerFile) ? new ThreadArchiveDays(directory, workerFile) : new ArchiveDays(directory);
  const keys: string[] = [];
  const keep = async (closed: ArchivedDay[]) => {
    for (const { day, file } of closed) {
      const key = `${project}/date=${day}/part-${partition}.parquet`;
      await store.putFile(file, key);
      keys.push(key);
      // a day of a busy project is gigabytes: its file goes as soon as it is stored
      await fs.rm(file, { force: true });
    }
  };
  // the batch being encoded while the next is read
  let encoding: Promise<ArchivedDay[]> | undefined;
  try {
    for await (const batch of batches) {
      if (encoding) await keep(await encoding);
      encoding = days.add(batch);
      // awaited above or below; a failure must not go unhandled meanwhile (when reading the next batch fails first)
      encoding.catch(() => undefined);
    }
    if (encoding) await keep(await encoding);
    await keep(await days.finish());
  } finally {
    await days.close();
    await fs.rm(directory, { recursive: true, force: true });
  }
  return keys;
}

/** The archive files of a project for the days from `from` to `to` (inclusive), oldest first. */
export async function archivedFiles(store: ObjectStore, project: string, from: string, to: string): Promise<string[]> {
  const objects = await store.list(project);
  return objects
    .map((o) => ({ key: o.key, day: /\/date=(\d{4}-\d{2}-\d{2})\/[^/]+\.parquet$/.exec(o.key)?.[1] }))
    .filter((o): o is { key: string; day: string } => o.day !== undefined && o.day >= from && o.day <= to)
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.key < b.key ? -1 : 1))
    .map((o) => o.key);
}

/** An archived JSON column back as a value (null stays null). */
const json = (text: unknown) => (text === null || text === undefined ? null : (JSON.parse(text as string) as Record<string, unknown>));

/**
 * One archive file's predictions, as capture would store them again (the day from the file's
 * folder, times to the microsecond as archived), `batch` at a time: a day's file may hold more
 * than fits in memory.
 */
export async function* readArchived(store: ObjectStore, key: string, batch: number): AsyncGenerator<Array<Omit<ScoredPrediction, 'routingOutput'>>> {
  const object = await store.read(key);
  if (!object) return;
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'backflow-restore-'));
  const file = path.join(directory, 'part.parquet');
  try {
    await pipeline(object.body, createWriteStream(file));
    const reader = await ParquetReader.openFile(file);
    try {
      const cursor = reader.getCursor();
      let rows: Array<Omit<ScoredPrediction, 'routingOutput'>> = [];
      for (let row = (await cursor.next()) as Record<string, unknown> | null; row; row = (await cursor.next()) as Record<string, unknown> | null) {
        rows.push({
          id: row.id as string,
          // (an archive written before callers' own ids has no such column)
          externalId: (row.external_id as string | null | undefined) ?? null,
          modelName: row.model_name as string,
          modelVersion: row.model_version as string,
          input: json(row.input)!,
          scores: json(row.scores)! as Record<string, number>,
          predictedLabel: row.predicted_label as string,
          confidence: row.confidence as number,
          suggestions: json(row.suggestions),
          // (an archive written before committees has no such column)
          committee: (json(row.committee ?? null) as ScoredPrediction['committee']) ?? null,
          embedding: (json(row.embedding ?? null) as number[] | null) ?? null,
          slice: json(row.slice)! as Record<string, string>,
          metadata: json(row.metadata),
          occurredAt: row.occurred_at as Date,
          timestamped: true,
          uncertainty: (row.uncertainty as number | null) ?? 1 - (row.confidence as number),
        });
        if (rows.length === batch) {
          yield rows;
          rows = [];
        }
      }
      if (rows.length) yield rows;
    } finally {
      await reader.close();
    }
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
}

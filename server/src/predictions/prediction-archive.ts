import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
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

/**
 * Writes raw predictions before retention removes them: Parquet, Hive-partitioned by the UTC day
 * of their timestamp, `<project>/date=YYYY-MM-DD/part-<partition>.parquet` under the archive root
 * (a directory or a bucket), so DuckDB (`read_parquet('…/*\/date=*\/*.parquet', hive_partitioning = true)`),
 * Spark and BigQuery read it as one table. A file is named after the partition it comes from: a
 * retention run that is retried writes the same names again, never a second copy.
 *
 * The rows come a batch at a time, in day order, and go to the day's file as they come: a day of
 * a busy project does not fit in memory (at 1,000 predictions a second, 86 million rows), and
 * the server that archives it goes on serving capture meanwhile.
 */
export async function archivePredictions(
  store: ObjectStore,
  project: string,
  partition: string,
  batches: AsyncIterable<readonly ArchivedPrediction[]>,
): Promise<string[]> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'backflow-archive-'));
  const keys: string[] = [];
  let day: { name: string; file: string; writer: ParquetWriter } | undefined;
  const finishDay = async () => {
    if (!day) return;
    const { name, file, writer } = day;
    day = undefined;
    await writer.close();
    const key = `${project}/date=${name}/part-${partition}.parquet`;
    await store.putFile(file, key);
    keys.push(key);
  };
  try {
    for await (const batch of batches) {
      for (const { occurred_on: on, ...row } of batch) {
        if (day?.name !== on) {
          // a day seen again would overwrite its file
          if (day && on < day.name) throw new Error(`archive rows out of day order: ${on} after ${day.name}`);
          await finishDay();
          const file = path.join(directory, `${on}.parquet`);
          day = { name: on, file, writer: await ParquetWriter.openFile(SCHEMA, file) };
        }
        await day.writer.appendRow(row);
      }
    }
    await finishDay();
  } finally {
    await day?.writer.close().catch(() => undefined);
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

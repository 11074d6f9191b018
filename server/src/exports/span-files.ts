import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { finished } from 'node:stream/promises';
import { ParquetSchema, ParquetWriter } from '@dsnp/parquetjs';
import { stringify } from 'csv-stringify/sync';
import { TfRecordWriter, type WrittenFile } from '@backflow/tfrecord';
import { syncPath } from '../common/storage/local-store';
import { columnsOf, jsonText, toCsvRecord, toExample, toJson, toParquetRow, type ExportRow, type FeatureSpec } from './example-row';
import type { ColumnLayout } from './fixed-columns';
import { isFineTuningFormat, type FineTuning } from './fine-tuning';
import type { RankedLists } from './ranked-lists';
import type { Split } from './split';

// text is handed to the file in chunks of about this size (one write per row would wait for the disk thread every 16 KiB)
const TEXT_CHUNK_BYTES = 256 * 1024;

/** A text file (JSONL, CSV) written as a stream, hashed on the way, fsynced on close; never over an existing file. */
class TextFileWriter {
  private readonly file;
  private readonly hash = createHash('sha256');
  private pending: string[] = [];
  private pendingLength = 0;
  private records = 0;
  private bytes = 0;

  constructor(readonly path: string) {
    this.file = createWriteStream(path, { flags: 'wx' });
  }

  /** Appends text; `record` false for what is not a row (a CSV header). */
  async write(line: string, record = true): Promise<void> {
    this.pending.push(line);
    this.pendingLength += line.length;
    if (record) this.records++;
    if (this.pendingLength >= TEXT_CHUNK_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.file.write(chunk)) await new Promise<void>((resolve) => this.file.once('drain', resolve));
  }

  async close(): Promise<WrittenFile> {
    await this.flush();
    this.file.end();
    await finished(this.file);
    await syncPath(this.path);
    return { path: this.path, records: this.records, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Stops writing (the caller removes the file). */
  abort(): void {
    this.file.destroy();
  }
}

/** One open file of a version: a format's shard of a split. */
export interface FormatWriter {
  format: string;
  split: Split;
  /** a promise when the row must be waited for before the next (a TFRecord shard's usually is not) */
  write(row: ExportRow): Promise<void> | undefined;
  close(): Promise<WrittenFile>;
  /** Stops writing and lets go of the file, which the caller removes with the working directory. */
  abort(): Promise<void>;
}

export const shardName = (format: string, shard: number, shards: number, suffix: string) =>
  `data_${format}-${String(shard).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}${suffix}`;

export async function writeSynced(file: string, text: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A shard of a split in one format, in `directory` (its count of shards written as 00000, renamed
 * once known). A ranking's list formats need its `lists`: `elwc` writes a list as one
 * ExampleListWithContext, `item_<format>` a row per candidate in that format.
 */
export function openFormatWriter(
  format: string,
  split: Split,
  directory: string,
  shard: number,
  features: readonly FeatureSpec[],
  columns: ColumnLayout,
  lists?: RankedLists,
  fineTuning?: FineTuning,
): FormatWriter {
  if (isFineTuningFormat(format)) {
    if (!fineTuning) throw new Error(`${format} writes a generation's labels: the project's routing question is not a generation`);
    if (format === 'sft_tfrecord' || format === 'dpo_tfrecord')
      return tfRecordWriter(format, split, directory, shard, async (records, row) => {
        for (const example of fineTuning.examples(format, row)) await records.writeExample(example);
      });
    const writer = new TextFileWriter(path.join(directory, shardName(format, shard, 0, '.jsonl')));
    return {
      format,
      split,
      write: async (row) => {
        for (const line of fineTuning.lines(format, row)) await writer.write(line);
      },
      close: () => writer.close(),
      abort: () => Promise.resolve(writer.abort()),
    };
  }
  if (format === 'elwc' || format.startsWith('item_')) {
    if (!lists) throw new Error(`${format} writes ranked lists: the project's routing question is not a ranking`);
    if (format === 'elwc') return tfRecordWriter('elwc', split, directory, shard, (records, row) => records.write(lists.elwc(row, features)));
    const items = openFileWriter(format.slice('item_'.length), format, split, directory, shard, [...features, ...lists.itemFeatures], lists.items);
    return {
      ...items,
      write: async (row) => {
        for (const itemRow of lists.itemRows(row, features)) await items.write(itemRow);
      },
    };
  }
  return openFileWriter(format, format, split, directory, shard, features, columns);
}

/** A GZIP TFRecord shard named after `format`, each row written as `write` turns it into records. */
function tfRecordWriter(
  format: string,
  split: Split,
  directory: string,
  shard: number,
  write: (records: TfRecordWriter, row: ExportRow) => Promise<void> | undefined,
): FormatWriter {
  const records = new TfRecordWriter(path.join(directory, shardName(format, shard, 0, '.gz')));
  return {
    format,
    split,
    write: (row) => write(records, row),
    close: () => records.close(),
    abort: () => Promise.resolve(records.destroy()),
  };
}

/** A shard of one of the row formats (tfrecord, parquet, csv, jsonl), its files named after `name`. */
function openFileWriter(
  format: string,
  name: string,
  split: Split,
  directory: string,
  shard: number,
  features: readonly FeatureSpec[],
  columns: ColumnLayout,
): FormatWriter {
  if (format === 'tfrecord') return tfRecordWriter(name, split, directory, shard, (records, row) => records.writeExample(toExample(row, features, columns)));
  if (format === 'parquet') return parquetWriter(name, path.join(directory, shardName(name, shard, 0, '.parquet')), split, features, columns);
  if (format === 'csv') {
    const writer = new TextFileWriter(path.join(directory, shardName(name, shard, 0, '.csv')));
    let header = false;
    return {
      format: name,
      split,
      write: async (row) => {
        if (!header) {
          header = true;
          await writer.write(stringify([columnsOf(features, columns)]), false);
        }
        await writer.write(stringify([toCsvRecord(row, features, columns)]));
      },
      close: async () => {
        if (!header) await writer.write(stringify([columnsOf(features, columns)]), false);
        return writer.close();
      },
      abort: () => Promise.resolve(writer.abort()),
    };
  }
  const writer = new TextFileWriter(path.join(directory, shardName(name, shard, 0, '.jsonl')));
  return {
    format: name,
    split,
    write: (row) => writer.write(`${jsonText(toJson(row, features, columns))}\n`),
    close: () => writer.close(),
    abort: () => Promise.resolve(writer.abort()),
  };
}

const PARQUET_TYPES = { int: 'INT64', float: 'DOUBLE', bytes: 'UTF8' } as const;

/** A Parquet shard: rows buffered into row groups by the library, the file hashed and fsynced once closed. */
function parquetWriter(format: string, file: string, split: Split, features: readonly FeatureSpec[], columns: ColumnLayout): FormatWriter {
  const schema = new ParquetSchema({
    // a list column repeated, an answer a question may leave blank optional
    ...Object.fromEntries(
      columns.list.map((column) => [
        column.name,
        { type: PARQUET_TYPES[column.type], ...(column.list ? { repeated: true } : column.optional ? { optional: true } : {}) },
      ]),
    ),
    ...Object.fromEntries(features.map((f) => [columns.exportedName(f.name), { type: PARQUET_TYPES[f.type], repeated: true }])),
  });
  const opened = ParquetWriter.openFile(schema, file, { flags: 'wx' });
  let rows = 0;
  return {
    format,
    split,
    write: async (row) => {
      rows++;
      await (await opened).appendRow(toParquetRow(row, features, columns));
    },
    close: async () => {
      await (await opened).close();
      const bytes = await fs.readFile(file);
      await syncPath(file);
      return { path: file, records: rows, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    },
    // the library has no abort: closing lets go of the file
    abort: async () => {
      await (await opened).close();
    },
  };
}

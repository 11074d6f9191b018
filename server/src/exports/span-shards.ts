import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ExportRow, FeatureSpec } from './example-row';
import type { ColumnLayout } from './fixed-columns';
import type { ManifestFile } from './manifest';
import type { FineTuning } from './fine-tuning';
import type { RankedLists } from './ranked-lists';
import { openFormatWriter, type FormatWriter } from './span-files';
import type { Split } from './split';

export const SPLITS: Split[] = ['train', 'eval'];

interface OpenShard {
  writer: FormatWriter;
  rows: number;
  shard: number;
}

/**
 * The files of a version's splits in every format: one open writer per format and split, a
 * new shard once one holds `shardRows` rows, each named with its split's shard count at the end.
 */
export class SpanShards {
  private readonly open = new Map<string, OpenShard>();
  private readonly written: ManifestFile[] = [];
  /** each split's keys of `open`, in the formats' order */
  private readonly keys: Record<Split, string[]>;

  constructor(
    private readonly directory: string,
    private readonly formats: readonly string[],
    private readonly features: readonly FeatureSpec[],
    private readonly columns: ColumnLayout,
    private readonly shardRows: number,
    private readonly lists?: RankedLists,
    private readonly fineTuning?: FineTuning,
  ) {
    this.keys = { train: formats.map((format) => `${format}/train`), eval: formats.map((format) => `${format}/eval`) };
  }

  /** Makes the split directories the shards go to. */
  async create(): Promise<void> {
    await fs.mkdir(this.directory, { recursive: true });
    for (const split of SPLITS) await fs.mkdir(path.join(this.directory, `Split-${split}`));
  }

  /**
   * Writes a row to its split's shard in every format, from the `from`th. A promise when a
   * shard is closed or opened or a writer asks to be waited for; most rows need none.
   */
  write(split: Split, row: ExportRow, from = 0): Promise<void> | undefined {
    const keys = this.keys[split];
    for (let i = from; i < keys.length; i++) {
      const entry = this.open.get(keys[i]);
      if (!entry || entry.rows >= this.shardRows) return this.nextShard(split, i).then(() => this.write(split, row, i));
      entry.rows++;
      const pending = entry.writer.write(row);
      if (pending) return i + 1 < keys.length ? pending.then(() => this.write(split, row, i + 1)) : pending;
    }
    return undefined;
  }

  /** The `i`th format's shard of a split closed when it is full, and the next one opened. */
  private async nextShard(split: Split, i: number): Promise<void> {
    const format = this.formats[i];
    const entry = this.open.get(this.keys[split][i]);
    if (entry) await this.close(entry);
    this.openShard(format, split, entry ? entry.shard + 1 : 0);
  }

  /** Closes every shard, gives an empty split its (empty) file, and names each shard with its split's count; the files by path. */
  async finish(): Promise<ManifestFile[]> {
    for (const [key, entry] of this.open) {
      this.open.delete(key);
      await this.close(entry);
    }
    // a split with no rows still gets its (empty) file, so ExampleGen's patterns always match
    for (const format of this.formats) {
      for (const split of SPLITS) {
        if (!this.written.some((f) => f.format === format && f.split === split)) await this.close({ writer: this.writerOf(format, split, 0) });
      }
    }
    for (const format of this.formats) for (const split of SPLITS) await this.nameWithCount(format, split);
    return this.written.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Stops every open shard (the caller removes the directory). */
  async abort(): Promise<void> {
    for (const entry of this.open.values()) await entry.writer.abort().catch(() => undefined);
    this.open.clear();
  }

  private writerOf(format: string, split: Split, shard: number): FormatWriter {
    return openFormatWriter(format, split, path.join(this.directory, `Split-${split}`), shard, this.features, this.columns, this.lists, this.fineTuning);
  }

  private openShard(format: string, split: Split, shard: number): OpenShard {
    const entry = { writer: this.writerOf(format, split, shard), rows: 0, shard };
    this.open.set(`${format}/${split}`, entry);
    return entry;
  }

  private async close(entry: { writer: FormatWriter }): Promise<void> {
    const file = await entry.writer.close();
    this.written.push({
      path: path.relative(this.directory, file.path),
      format: entry.writer.format,
      split: entry.writer.split,
      rows: file.records,
      bytes: file.bytes,
      sha256: file.sha256,
    });
  }

  /** Each shard's final name: -of-<the split's shard count>. */
  private async nameWithCount(format: string, split: Split): Promise<void> {
    const files = this.written.filter((f) => f.format === format && f.split === split).sort((a, b) => a.path.localeCompare(b.path));
    for (const file of files) {
      const renamed = file.path.replace(/-of-00000(\.[a-z.]+)$/, `-of-${String(files.length).padStart(5, '0')}$1`);
      await fs.rename(path.join(this.directory, file.path), path.join(this.directory, renamed));
      file.path = renamed;
    }
  }
}

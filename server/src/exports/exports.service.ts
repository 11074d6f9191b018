import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { finished } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { ExportSettings } from '@backflow/contracts';
import { encodeExample, TfRecordWriter, type WrittenFile } from '@backflow/tfrecord';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { poolOf } from '../database/data-source';
import type { ProjectEntity } from '../projects/project.entity';
import { schemaText, toExample, toJson, type ExportRow, type FeatureSpec } from './example-row';
import { ExportsRepository, type VersionToWrite } from './exports.repository';
import { splitOf, type Split } from './split';

// rows per file: a split with more is written in several shards
export const DEFAULT_SHARD_ROWS = 100_000;
const SPLITS: Split[] = ['train', 'eval'];

export interface ExportedVersion {
  span: number;
  version: number;
  directory: string;
  rows: number;
  manifest: Manifest;
}

export interface Manifest {
  project: string;
  span: number;
  version: number;
  formats: string[];
  rows: number;
  splits: Record<Split, number>;
  labels: Record<string, number>;
  sources: Record<string, number>;
  agreement: { labelsWithAgreement: number; mean: number | null; min: number | null };
  labelTimeRange: { from: string | null; to: string | null };
  features: FeatureSpec[];
  settings: ExportSettings;
  files: Array<{ path: string; format: string; split: Split; rows: number; bytes: number; sha256: string }>;
}

/** A text file (JSONL) written as a stream, hashed on the way, fsynced on close; never over an existing file. */
class TextFileWriter {
  private readonly file;
  private readonly hash = createHash('sha256');
  private records = 0;
  private bytes = 0;

  constructor(readonly path: string) {
    this.file = createWriteStream(path, { flags: 'wx' });
  }

  async write(line: string): Promise<void> {
    const chunk = Buffer.from(line);
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.records++;
    if (!this.file.write(chunk)) await new Promise<void>((resolve) => this.file.once('drain', resolve));
  }

  async close(): Promise<WrittenFile> {
    this.file.end();
    await finished(this.file);
    const handle = await fs.open(this.path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { path: this.path, records: this.records, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

interface FormatWriter {
  format: string;
  split: Split;
  write(row: ExportRow): Promise<void>;
  close(): Promise<WrittenFile>;
}

const shardName = (format: string, shard: number, shards: number, suffix: string) => `data_${format}-${String(shard).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}${suffix}`;

async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Exports: a span claims the labels not yet exported (exactly once), and each version of it is
 * written to a temporary directory, fsynced, renamed into `<root>/<project>/span-N/version-M`
 * and marked with `_SUCCESS` last. The same span and settings always give the same bytes.
 */
@Injectable()
export class ExportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ExportsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Claims the next span and writes its first version; undefined when no label waits. */
  async exportNext(project: ProjectEntity, options: { shardRows?: number; onProgress?: (rows: number, total: number) => void } = {}): Promise<ExportedVersion | undefined> {
    const claimed = await this.dataSource.transaction((manager) => this.repository.claimSpan(manager, project.id, project.exportSettings));
    if (!claimed) return undefined;
    return this.writeVersion(project, claimed.versionId, options);
  }

  /** The directory of a span's version. */
  directoryOf(project: ProjectEntity, span: number, version: number): string {
    return path.join(this.config.exportRoot, project.slug, `span-${span}`, `version-${version}`);
  }

  /**
   * Writes (or, after a crash, writes again) a version's files. Nothing is visible under the
   * final name until every file is complete and synced; `_SUCCESS` comes last.
   */
  async writeVersion(project: ProjectEntity, versionId: string, options: { shardRows?: number; onProgress?: (rows: number, total: number) => void } = {}): Promise<ExportedVersion> {
    const target = await this.repository.version(this.dataSource.manager, versionId);
    if (!target) throw new Error(`export version ${versionId} is unknown`);
    const directory = this.directoryOf(project, target.span, target.version);
    const success = path.join(directory, '_SUCCESS');
    const done = await fs.stat(success).then(() => true, () => false);
    if (target.state === 'complete' && done) {
      const manifest = JSON.parse(await fs.readFile(path.join(directory, 'manifest.json'), 'utf8')) as Manifest;
      return { span: target.span, version: target.version, directory, rows: target.rows, manifest };
    }
    const temporary = path.join(this.config.exportRoot, project.slug, `.writing-span-${target.span}-version-${target.version}`);
    try {
      // a crashed run's leftovers: the partial files, or a renamed directory without its _SUCCESS
      await fs.rm(temporary, { recursive: true, force: true });
      if (!done) await fs.rm(directory, { recursive: true, force: true });
      const manifest = await this.writeFiles(project, target, temporary, options);
      await fs.mkdir(path.dirname(directory), { recursive: true });
      await fs.rename(temporary, directory);
      await syncDirectory(path.dirname(directory));
      const handle = await fs.open(success, 'wx');
      await handle.sync();
      await handle.close();
      await syncDirectory(directory);
      await this.repository.complete(this.dataSource.manager, versionId, manifest);
      return { span: target.span, version: target.version, directory, rows: target.rows, manifest };
    } catch (error) {
      await this.repository.fail(this.dataSource.manager, versionId, error instanceof Error ? error.message : String(error)).catch(() => undefined);
      throw error;
    }
  }

  private async writeFiles(project: ProjectEntity, target: VersionToWrite, temporary: string, options: { shardRows?: number; onProgress?: (rows: number, total: number) => void }): Promise<Manifest> {
    const settings = target.settings;
    const shardRows = options.shardRows ?? DEFAULT_SHARD_ROWS;
    const labels = project.labels.map((l) => l.name);
    const features = settings.features ?? (await this.repository.inferFeatures(this.dataSource.manager, target.spanId));
    const train = await this.repository.trainRows(this.dataSource.manager, target.spanId, settings.splits.train);
    const counts: Record<Split, number> = { train, eval: target.rows - train };
    const unsupported = settings.formats.filter((f) => f !== 'tfrecord' && f !== 'jsonl');
    if (unsupported.length) throw new Error(`export formats not written yet: ${unsupported.join(', ')}`);

    await fs.mkdir(temporary, { recursive: true });
    for (const split of SPLITS) await fs.mkdir(path.join(temporary, `Split-${split}`));
    const shards = (split: Split) => Math.max(1, Math.ceil(counts[split] / shardRows));
    const written: Manifest['files'] = [];
    const tally = { labels: {} as Record<string, number>, sources: {} as Record<string, number>, agreementSum: 0, agreementCount: 0, agreementMin: null as number | null };

    // one open writer per format and split; a shard closes when it holds shardRows rows
    const open = new Map<string, { writer: FormatWriter; rows: number; shard: number }>();
    const openWriter = (format: string, split: Split, shard: number): FormatWriter => {
      const dir = path.join(temporary, `Split-${split}`);
      if (format === 'tfrecord') {
        const writer = new TfRecordWriter(path.join(dir, shardName('tfrecord', shard, shards(split), '.gz')));
        return { format, split, write: (row) => writer.write(encodeExample(toExample(row, features, labels))), close: () => writer.close() };
      }
      const writer = new TextFileWriter(path.join(dir, shardName('jsonl', shard, shards(split), '.jsonl')));
      return { format, split, write: (row) => writer.write(`${JSON.stringify(toJson(row, features, labels))}\n`), close: () => writer.close() };
    };
    const closeWriter = async (entry: { writer: FormatWriter }) => {
      const file = await entry.writer.close();
      written.push({ path: path.relative(temporary, file.path), format: entry.writer.format, split: entry.writer.split, rows: file.records, bytes: file.bytes, sha256: file.sha256 });
    };

    const client = (await poolOf(this.dataSource).connect()) as PoolClient;
    let rowsWritten = 0;
    try {
      for await (const batch of this.repository.rows(client, target.spanId)) {
        for (const row of batch) {
          const split = splitOf(row.bucket, settings.splits.train);
          for (const format of settings.formats) {
            const key = `${format}/${split}`;
            let entry = open.get(key);
            if (entry && entry.rows >= shardRows) {
              await closeWriter(entry);
              entry = { writer: openWriter(format, split, entry.shard + 1), rows: 0, shard: entry.shard + 1 };
              open.set(key, entry);
            }
            if (!entry) {
              entry = { writer: openWriter(format, split, 0), rows: 0, shard: 0 };
              open.set(key, entry);
            }
            await entry.writer.write(row);
            entry.rows++;
          }
          tally.labels[row.label] = (tally.labels[row.label] ?? 0) + 1;
          tally.sources[row.source] = (tally.sources[row.source] ?? 0) + 1;
          if (row.agreement !== null) {
            tally.agreementSum += row.agreement;
            tally.agreementCount++;
            tally.agreementMin = Math.min(tally.agreementMin ?? 1, row.agreement);
          }
        }
        rowsWritten += batch.length;
        options.onProgress?.(rowsWritten, target.rows);
        await this.repository.progress(this.dataSource.manager, target.versionId, rowsWritten);
      }
      for (const entry of open.values()) await closeWriter(entry);
    } finally {
      client.release();
    }
    // a split with no rows still gets its (empty) file, so ExampleGen's patterns always match
    for (const format of settings.formats) {
      for (const split of SPLITS) {
        if (!open.has(`${format}/${split}`)) await closeWriter({ writer: openWriter(format, split, 0) });
      }
    }
    if (rowsWritten !== target.rows) throw new Error(`span ${target.span} has ${target.rows} labels but ${rowsWritten} rows were read`);

    written.sort((a, b) => a.path.localeCompare(b.path));
    const manifest: Manifest = {
      project: project.slug,
      span: target.span,
      version: target.version,
      formats: settings.formats,
      rows: target.rows,
      splits: counts,
      labels: Object.fromEntries(Object.entries(tally.labels).sort(([a], [b]) => a.localeCompare(b))),
      sources: Object.fromEntries(Object.entries(tally.sources).sort(([a], [b]) => a.localeCompare(b))),
      agreement: { labelsWithAgreement: tally.agreementCount, mean: tally.agreementCount ? tally.agreementSum / tally.agreementCount : null, min: tally.agreementMin },
      labelTimeRange: { from: target.labelFrom?.toISOString() ?? null, to: target.labelTo?.toISOString() ?? null },
      features: [...features],
      settings,
      files: written,
    };
    await writeSynced(path.join(temporary, 'schema.pbtxt'), schemaText(features, labels));
    await writeSynced(path.join(temporary, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const split of SPLITS) await syncDirectory(path.join(temporary, `Split-${split}`));
    await syncDirectory(temporary);
    return manifest;
  }
}

async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { type ExampleFeatures, type PreparedExample, prepareExample, writeExample } from './example';
import { FRAME_OVERHEAD, sealFrame, unframeRecords, writeFramedRecord } from './framing';

export interface WrittenFile {
  path: string;
  records: number;
  /** bytes on disk (compressed) */
  bytes: number;
  /** sha256 of the bytes on disk, hex */
  sha256: string;
}

/**
 * A GZIP TFRecord file written as a stream: records go through gzip to the file, hashed on the
 * way; `close` waits for the last byte, fsyncs, and reports the file. The gzip header carries no
 * time or name, so the same records give the same bytes.
 */
// records are handed to gzip in chunks of about this size: one small write per record would wait
// for zlib's thread once every 16 KiB
const CHUNK_BYTES = 256 * 1024;
// chunks gzip has finished with, kept for the next ones: a fresh 256 KiB buffer per chunk is
// memory outside V8's heap that is only given back at a collection, and the allocator's heap
// grew with the file under it
const SPARE_CHUNKS = 4;
// zlib's fast levels (1–3) take a third of level 6's CPU on tf.Examples and write files about a
// tenth larger (a 49 MB shard of the export benchmark: 210 ms and 5.4 MB at level 1, 650 ms and
// 4.9 MB at 6); an export shares its cores with PostgreSQL, so the time is worth more than the bytes
const GZIP_LEVEL = 1;

/** `then` after `first` when it is a promise, at once when it is not. */
function settled(first: Promise<void> | undefined, then: () => Promise<void> | undefined): Promise<void> | undefined {
  return first ? first.then(then) : then();
}

export class TfRecordWriter {
  private readonly gzip = createGzip({ chunkSize: 64 * 1024, level: GZIP_LEVEL });
  // records are framed straight into a chunk; a chunk handed to gzip is never written again
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly spare: Buffer[] = [];
  private used = 0;
  private readonly file: Writable;
  private readonly hash = createHash('sha256');
  private records = 0;
  private bytes = 0;

  constructor(readonly path: string) {
    this.file = createWriteStream(path, { flags: 'wx' });
    const count = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        done(null, chunk);
      },
    });
    this.gzip.pipe(count).pipe(this.file);
  }

  /**
   * Adds a record. Returns a promise only when the record sent a chunk to gzip and gzip has no
   * room yet: the caller awaits it before the next write (an await per record cost a microtask
   * and a promise each, a second per million records).
   */
  write(data: Uint8Array): Promise<void> | undefined {
    const size = FRAME_OVERHEAD + data.byteLength;
    if (this.used + size > this.chunk.length) return settled(this.flush(), () => this.putRecord(data, size));
    return this.putRecord(data, size);
  }

  /** Adds a tf.Example, encoded straight into the chunk (no buffer of its own); returns a promise as `write` does. */
  writeExample(features: ExampleFeatures): Promise<void> | undefined {
    const prepared = prepareExample(features);
    const size = FRAME_OVERHEAD + prepared.size;
    if (this.used + size > this.chunk.length) return settled(this.flush(), () => this.putExample(prepared, size));
    return this.putExample(prepared, size);
  }

  private putRecord(data: Uint8Array, size: number): Promise<void> | undefined {
    if (size > this.chunk.length) this.chunk = Buffer.allocUnsafe(size);
    this.records++;
    this.used = writeFramedRecord(this.chunk, this.used, data);
    return this.used >= CHUNK_BYTES ? this.flush() : undefined;
  }

  private putExample(prepared: PreparedExample, size: number): Promise<void> | undefined {
    if (size > this.chunk.length) this.chunk = Buffer.allocUnsafe(size);
    this.records++;
    writeExample(prepared, this.chunk, this.used + 12);
    this.used = sealFrame(this.chunk, this.used, prepared.size);
    return this.used >= CHUNK_BYTES ? this.flush() : undefined;
  }

  /** The chunk to gzip; a promise when gzip has no room for more (resolved at its drain). */
  private flush(): Promise<void> | undefined {
    if (this.used === 0) return undefined;
    const chunk = this.chunk;
    const full = chunk.subarray(0, this.used);
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    // gzip calls back once it has read all of the chunk: then it may be written again
    const written = this.gzip.write(full, (error) => {
      if (!error && chunk.length === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) this.spare.push(chunk);
    });
    return written ? undefined : new Promise<void>((resolve) => this.gzip.once('drain', resolve));
  }

  async close(): Promise<WrittenFile> {
    await this.flush();
    this.gzip.end();
    await finished(this.file);
    const handle = await open(this.path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { path: this.path, records: this.records, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Stops writing (the caller removes the file). */
  destroy(): void {
    this.gzip.destroy();
    this.file.destroy();
  }
}

/** Every record of a GZIP TFRecord file, each checksum checked; throws CorruptRecordError on a bad one. */
export async function* readTfRecordFile(path: string): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  let offset = 0;
  for await (const chunk of createReadStream(path).pipe(createGunzip())) {
    const bytes = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    const { records, rest } = unframeRecords(bytes, offset);
    offset += bytes.length - rest.length;
    pending = Buffer.from(rest);
    yield* records;
  }
  if (pending.length) throw new Error(`${path}: ${pending.length} bytes of an incomplete record at the end`);
}

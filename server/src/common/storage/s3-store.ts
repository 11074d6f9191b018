import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { joinKey, SUCCESS_MARKER, type ObjectStore, type StoredObject } from './object-store';

/** How to reach an S3-compatible store: AWS itself by default, or `S3_ENDPOINT` (MinIO, GCS's XML API, a test server). */
export interface S3Settings {
  endpoint?: string;
  forcePathStyle: boolean;
  region: string;
}

// parts of a multipart upload: a shard larger than this goes up in parts, four at a time
export const PART_BYTES = 8 * 1024 * 1024;
const PARTS_AT_ONCE = 4;
// DeleteObjects takes at most this many keys a request
const DELETE_BATCH = 1000;

/**
 * The S3 client for a store: credentials from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, an instance role). Checksums are sent and checked only when
 * the operation requires them: S3-compatible stores do not all read the SDK's streamed trailers.
 */
export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const absent = (error: unknown) =>
  error instanceof NoSuchKey || error instanceof NotFound || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

/** Every file under a directory, as paths relative to it with `/` separators. */
async function filesUnder(directory: string, base = directory): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(full, base)));
    else files.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return files.sort();
}

/**
 * A bucket and prefix as an object store. S3 has no rename: publishing uploads every staged file
 * (multipart past `PART_BYTES`), checks each object's size, and only then writes `_SUCCESS`. A
 * crash before that leaves objects without `_SUCCESS`, which readers ignore and the next try
 * removes (with any unfinished multipart upload) before it writes again.
 */
export class S3Store implements ObjectStore {
  constructor(
    readonly root: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    /** a local directory for staging: files are written there, then uploaded */
    private readonly stagingRoot: string,
  ) {}

  private keyOf(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`key "${key}" leaves the store`);
    return joinKey(this.prefix, key);
  }

  location(key: string): string {
    return `s3://${this.bucket}/${this.keyOf(key)}`;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return true;
    } catch (error) {
      if (absent(error)) return false;
      throw error;
    }
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return await object.Body!.transformToString('utf8');
    } catch (error) {
      if (absent(error)) return undefined;
      throw error;
    }
  }

  async read(key: string): Promise<{ body: Readable; size: number } | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return { body: object.Body as Readable, size: object.ContentLength ?? 0 };
    } catch (error) {
      if (absent(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const folder = `${this.keyOf(prefix)}/`;
    const found: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        found.push({ key: this.prefix ? object.Key!.slice(this.prefix.length + 1) : object.Key!, size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  async removePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    for (let i = 0; i < objects.length; i += DELETE_BATCH) {
      const batch = objects.slice(i, i + DELETE_BATCH);
      const reply = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((o) => ({ Key: this.keyOf(o.key) })), Quiet: true } }),
      );
      if (reply.Errors?.length) throw new Error(`could not remove ${reply.Errors[0].Key} from ${this.root}: ${reply.Errors[0].Message}`);
    }
    await this.abortUploads(prefix);
    return objects.length;
  }

  /** Ends the unfinished multipart uploads under a prefix (a crash mid-upload leaves its parts billed and invisible). */
  private async abortUploads(prefix: string): Promise<void> {
    let listed;
    try {
      listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: `${this.keyOf(prefix)}/` }));
    } catch {
      // a store without the listing (some S3-compatible servers): its lifecycle rules clean them
      return;
    }
    for (const upload of listed.Uploads ?? []) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId })).catch(() => undefined);
    }
  }

  stagingDirectory(prefix: string): string {
    return path.join(this.stagingRoot, ...this.keyOf(prefix).split('/'));
  }

  async publish(staged: string, prefix: string): Promise<void> {
    for (const relative of await filesUnder(staged)) await this.upload(path.join(staged, relative), joinKey(prefix, relative));
    // last, and only once every object above is confirmed
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(joinKey(prefix, SUCCESS_MARKER)), Body: new Uint8Array(0), ContentLength: 0 }),
    );
    await fs.rm(staged, { recursive: true, force: true });
  }

  async putFile(file: string, key: string): Promise<void> {
    await this.upload(file, key);
  }

  /** One file up (in parts when large), then its size read back: a confirmed object or an error. */
  private async upload(file: string, key: string): Promise<void> {
    const { size } = await fs.stat(file);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.keyOf(key), Body: createReadStream(file), ContentLength: size },
      partSize: PART_BYTES,
      queueSize: PARTS_AT_ONCE,
      leavePartsOnError: false,
    });
    await upload.done();
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    if (head.ContentLength !== size) throw new Error(`${this.location(key)} holds ${head.ContentLength} bytes after the upload of ${size}`);
  }
}

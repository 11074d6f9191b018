import type { Readable } from 'node:stream';

/** An object a store holds: its key under the store's root, and its size in bytes. */
export interface StoredObject {
  key: string;
  size: number;
}

/** The marker written last when a published set of files is complete. */
export const SUCCESS_MARKER = '_SUCCESS';

/**
 * Where spans and archives live: a directory, or an S3 bucket and prefix (`s3://bucket/prefix`).
 * Keys are `/`-separated paths under the root. Files are written locally first (a staging
 * directory) and then published, so a reader never sees a half-written set: on a directory by a
 * rename, on S3 (which has no rename) by `_SUCCESS`, written last after every object is confirmed.
 */
export interface ObjectStore {
  /** the root as configured: a directory, or `s3://bucket/prefix` */
  readonly root: string;
  /** what a user would type to find `key` (a path, or an `s3://` URL) */
  location(key: string): string;
  exists(key: string): Promise<boolean>;
  /** the object as text, or undefined when there is none */
  readText(key: string): Promise<string | undefined>;
  /** the object as a stream with its size, or undefined when there is none */
  read(key: string): Promise<{ body: Readable; size: number } | undefined>;
  /** every object under `prefix` (a folder: `a/b` lists `a/b/…`) */
  list(prefix: string): Promise<StoredObject[]>;
  /** removes every object under `prefix`, and on S3 the unfinished uploads there; returns how many objects went */
  removePrefix(prefix: string): Promise<number>;
  /** a local directory to write the files of `prefix` into before publishing them */
  stagingDirectory(prefix: string): string;
  /**
   * Makes a staged directory's files visible under `prefix` (which must hold nothing), then
   * writes `_SUCCESS` once every file is durable there; the staging directory is gone after.
   */
  publish(staged: string, prefix: string): Promise<void>;
  /** writes one local file as `key`, durable when the promise resolves */
  putFile(file: string, key: string): Promise<void>;
}

/** `s3://bucket/prefix` split, or undefined for a directory. */
export function parseS3Url(root: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(root);
  if (!match) return undefined;
  return { bucket: match[1], prefix: match[2].replace(/\/+$/, '') };
}

/** Joins key segments with `/`, leaving out empty ones. */
export const joinKey = (...parts: string[]) => parts.filter((p) => p !== '').join('/');

import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { SUCCESS_MARKER, type ObjectStore, type StoredObject } from './object-store';

/** fsync of a file or a directory (a rename or a new entry is durable once its directory is synced). */
export async function syncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** A directory as an object store: publishing is a rename, then `_SUCCESS`, each step synced. */
export class LocalStore implements ObjectStore {
  constructor(readonly root: string) {}

  private pathOf(key: string): string {
    const resolved = path.resolve(this.root, ...key.split('/'));
    if (resolved !== this.root && !resolved.startsWith(this.root + path.sep)) throw new Error(`key "${key}" leaves the store`);
    return resolved;
  }

  location(key: string): string {
    return this.pathOf(key);
  }

  async exists(key: string): Promise<boolean> {
    return fs.stat(this.pathOf(key)).then(
      () => true,
      () => false,
    );
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      return await fs.readFile(this.pathOf(key), 'utf8');
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string): Promise<{ body: ReturnType<typeof createReadStream>; size: number } | undefined> {
    const file = this.pathOf(key);
    try {
      const { size } = await fs.stat(file);
      return { body: createReadStream(file), size };
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const base = this.pathOf(prefix);
    const found: StoredObject[] = [];
    const walk = async (directory: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(directory, { withFileTypes: true });
      } catch (error) {
        if (missing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(directory, entry.name);
        if (entry.isDirectory()) await walk(full);
        else found.push({ key: path.relative(this.root, full).split(path.sep).join('/'), size: (await fs.stat(full)).size });
      }
    };
    await walk(base);
    return found.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async removePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    await fs.rm(this.pathOf(prefix), { recursive: true, force: true });
    return objects.length;
  }

  /**
   * On the same file system as the final directory, so the publish is an atomic rename, and out
   * of its folder's listing: `<project>/span-1/version-2` stages in `<project>/.writing-span-1-version-2`.
   */
  stagingDirectory(prefix: string): string {
    const final = this.pathOf(prefix);
    const parent = path.dirname(final);
    return path.join(path.dirname(parent), `.writing-${path.basename(parent)}-${path.basename(final)}`);
  }

  async publish(staged: string, prefix: string): Promise<void> {
    const directory = this.pathOf(prefix);
    await fs.mkdir(path.dirname(directory), { recursive: true });
    // _SUCCESS goes in before the rename, so the one rename makes the version visible complete: a
    // reader (ExampleGen takes the highest version it finds) never meets the directory without it,
    // even when the process dies between the two (the kill -9 test once caught that moment)
    const handle = await fs.open(path.join(staged, SUCCESS_MARKER), 'wx');
    await handle.sync();
    await handle.close();
    await syncPath(staged);
    await fs.rename(staged, directory);
    await syncPath(path.dirname(directory));
  }

  async putFile(file: string, key: string): Promise<void> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    await fs.copyFile(file, partial);
    await syncPath(partial);
    await fs.rename(partial, target);
    await syncPath(path.dirname(target));
  }
}

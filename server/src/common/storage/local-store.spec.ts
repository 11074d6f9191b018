import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from './local-store';
import { parseS3Url } from './object-store';

describe('LocalStore', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-store-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('publishes a staged folder by a rename, _SUCCESS last, and lists, reads and removes by key', async () => {
    const store = new LocalStore(root);
    const staged = store.stagingDirectory('p/span-1/version-1');
    expect(staged).toBe(path.join(root, 'p', '.writing-span-1-version-1'));
    fs.mkdirSync(path.join(staged, 'Split-train'), { recursive: true });
    fs.writeFileSync(path.join(staged, 'Split-train', 'a.gz'), 'abc');
    fs.writeFileSync(path.join(staged, 'manifest.json'), '{}');
    await store.publish(staged, 'p/span-1/version-1');
    expect(fs.existsSync(staged)).toBe(false);
    expect(await store.list('p/span-1')).toEqual([
      { key: 'p/span-1/version-1/Split-train/a.gz', size: 3 },
      { key: 'p/span-1/version-1/_SUCCESS', size: 0 },
      { key: 'p/span-1/version-1/manifest.json', size: 2 },
    ]);
    expect(await store.readText('p/span-1/version-1/manifest.json')).toBe('{}');
    expect(await store.readText('p/nothing')).toBeUndefined();
    expect(await store.read('p/nothing')).toBeUndefined();
    await store.putFile(path.join(root, 'p', 'span-1', 'version-1', 'manifest.json'), 'archive/p/date=2026-12-01/part-0.parquet');
    expect(await store.exists('archive/p/date=2026-12-01/part-0.parquet')).toBe(true);
    expect(await store.removePrefix('p')).toBe(3);
    expect(await store.list('p')).toEqual([]);
  });

  it('refuses a key that leaves the root', async () => {
    const store = new LocalStore(root);
    await expect(store.readText('../etc/passwd')).rejects.toThrow(/leaves the store/);
  });

  it('reads s3:// roots', () => {
    expect(parseS3Url('s3://spans/ml/exports/')).toEqual({ bucket: 'spans', prefix: 'ml/exports' });
    expect(parseS3Url('s3://spans')).toEqual({ bucket: 'spans', prefix: '' });
    expect(parseS3Url('/data/exports')).toBeUndefined();
  });
});

import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject } from '../factories';
import { startS3Server, type S3Server } from '../helpers/s3-server';
import { startTestApp, type TestApp } from '../helpers/test-app';

// the test reads the bucket with the SDK itself, as a pipeline would, not through Backflow's store
const sdk = createRequire(require.resolve('../../server/package.json'));
const { S3Client, ListObjectsV2Command, GetObjectCommand, DeleteObjectCommand, PutObjectCommand } = sdk(
  '@aws-sdk/client-s3',
) as typeof import('@aws-sdk/client-s3');
const READER = path.join(__dirname, '..', 'helpers', 'read_tfexamples.py');

const ROWS = 6_000;
// each row's text: about 2 KB, so the JSONL shard (12 MB) goes up in parts
const TEXT_BYTES = 2_000;

describe('spans in object storage: a real S3 server, _SUCCESS last, a crashed try cleaned by the retry', () => {
  let s3: S3Server;
  let app: TestApp;
  let admin: string;
  let client: InstanceType<typeof S3Client>;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-s3-data-'));
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    s3 = await startS3Server('spans');
    // the AWS SDK's credential chain reads the process environment
    for (const [name, value] of Object.entries(s3.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    app = await startTestApp({ ...s3.env, EXPORT_ROOT: 's3://spans/exports', BACKFLOW_DATA_DIR: dataDir });
    admin = await app.login();
    client = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  afterAll(async () => {
    await app?.close();
    await s3?.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const list = async (prefix: string) => {
    const objects: Array<{ key: string; size: number; modified: Date }> = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: 'spans', Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) objects.push({ key: o.Key!, size: o.Size!, modified: o.LastModified! });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  };
  const get = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'spans', Key: key }))).Body!.transformToByteArray());
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('writes a span to the bucket, _SUCCESS after every part; the download API and a reader of the bucket see the same bytes; a retry after a crash cleans up', async () => {
    const project = await createProject(app, admin, {
      routing: { explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'spam', windowMinutes: 60 }] },
      export: { formats: ['tfrecord', 'jsonl'], splits: { train: 80, eval: 20 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest', 'export:read'])).secret;
    let seed = 1;
    const noise = () => {
      // text that does not compress away: the shard stays large
      let text = '';
      while (text.length < TEXT_BYTES) text += (seed = (seed * 48271) % 2147483647).toString(36);
      return text.slice(0, TEXT_BYTES);
    };
    for (let i = 0; i < ROWS; i += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, j) => ({
        id: randomUUID(),
        model: { name: 'm', version: '1' },
        input: { body: noise(), n: i + j },
        scores: { ham: 0.9, spam: 0.1 },
      }));
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: batch })).status).toBe(200);
      const clicks = batch.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' }));
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: clicks })).status).toBe(201);
    }

    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exportsService = app.app.get(ExportsService);
    const exported = (await exportsService.exportNext(entity, { shardRows: 100_000 }))!;
    const prefix = `exports/${project.slug}/span-1/version-1/`;
    expect(exported.directory).toBe(`s3://spans/${prefix.slice(0, -1)}`);
    const objects = await list(prefix);
    const names = objects.map((o) => o.key.slice(prefix.length)).sort();
    expect(names).toEqual(['_SUCCESS', 'manifest.json', 'schema.pbtxt', ...exported.manifest.files.map((f) => f.path)].sort());
    // the marker is the last object written
    const success = objects.find((o) => o.key.endsWith('_SUCCESS'))!;
    for (const o of objects) expect(o.modified.getTime()).toBeLessThanOrEqual(success.modified.getTime());
    // every file as the manifest says (a JSONL shard of 12 MB went up in parts)
    const jsonl = exported.manifest.files.find((f) => f.format === 'jsonl' && f.split === 'train')!;
    expect(jsonl.bytes).toBeGreaterThan(8 * 1024 * 1024);
    for (const file of exported.manifest.files) expect(sha256(await get(prefix + file.path))).toBe(file.sha256);
    // no staging left behind
    expect(fs.readdirSync(path.join(dataDir, 'staging', 'exports', 'exports', project.slug, 'span-1'))).toEqual([]);

    // the download API streams from the bucket
    const tfrecord = exported.manifest.files.find((f) => f.format === 'tfrecord' && f.split === 'eval')!;
    const downloaded = await fetch(`${app.url}/api/v1/projects/${project.slug}/spans/1/versions/1/files/${tfrecord.path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(downloaded.status).toBe(200);
    const bytes = Buffer.from(await downloaded.arrayBuffer());
    expect(sha256(bytes)).toBe(tfrecord.sha256);
    // and what it wrote is TFRecord of tf.Example, read by a reader that shares no code with the writer
    const local = path.join(dataDir, 'eval.gz');
    fs.writeFileSync(local, bytes);
    const examples = execFileSync('python3', [READER, local], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .trim()
      .split('\n');
    expect(examples).toHaveLength(tfrecord.rows);

    // a crash after some parts went up: no _SUCCESS, a stray part; the version is written again, the stray part gone
    const [version] = await app.sql(`SELECT v.id::text AS id FROM export_versions v JOIN export_spans s ON s.id = v.span_id WHERE s.project_id = $1`, [
      project.id,
    ]);
    await client.send(new DeleteObjectCommand({ Bucket: 'spans', Key: `${prefix}_SUCCESS` }));
    await client.send(new PutObjectCommand({ Bucket: 'spans', Key: `${prefix}Split-train/data_tfrecord-00003-of-00007.gz`, Body: 'partial' }));
    await app.sql(`UPDATE export_versions SET state = 'writing', completed_at = NULL WHERE id = $1`, [version.id]);
    const rewritten = await exportsService.writeVersion(entity, version.id);
    const after = await list(prefix);
    expect(after.map((o) => o.key.slice(prefix.length)).sort()).toEqual(names);
    // written again from the same labels: the same bytes
    expect(rewritten.manifest.files.map((f) => [f.path, f.sha256])).toEqual(exported.manifest.files.map((f) => [f.path, f.sha256]));
  }, 180_000);
});

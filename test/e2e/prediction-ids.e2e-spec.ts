import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { predictionKeyOf } from '../../server/src/common/ids/prediction-key';
import { PredictionExternalIds1764530000000 } from '../../server/src/database/migrations/1764530000000-prediction-external-ids';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { decodeExample, readTfRecordFile } from '../../libs/tfrecord/src';
import { createApiKey, createProject, predictionBody } from '../factories';
import { createDatabase } from '../helpers/test-database';
import { startTestApp, TestApp } from '../helpers/test-app';

const { ParquetReader } = createRequire(require.resolve('../../server/package.json'))('@dsnp/parquetjs') as typeof import('@dsnp/parquetjs');
const DAY_MS = 24 * 3600 * 1000;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

/** What a span's files say of each example: its prediction_id, from TFRecord and JSONL alike. */
async function exportedIds(directory: string): Promise<{ tfrecord: string[]; jsonl: string[] }> {
  const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; format: string }> };
  const tfrecord: string[] = [];
  const jsonl: string[] = [];
  for (const file of manifest.files) {
    if (file.format === 'tfrecord')
      for await (const record of readTfRecordFile(path.join(directory, file.path)))
        tfrecord.push(text(decodeExample(record).prediction_id.values[0] as Uint8Array));
    if (file.format === 'jsonl')
      for (const line of fs.readFileSync(path.join(directory, file.path), 'utf8').split('\n').filter(Boolean))
        jsonl.push((JSON.parse(line) as { prediction_id: string }).prediction_id);
  }
  return { tfrecord: tfrecord.sort(), jsonl: jsonl.sort() };
}

describe('prediction ids: a model server’s own request ids, kept as sent (ADR 0043)', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-ids-export-'));
  const archiveRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-ids-archive-'));
  let app: TestApp;
  let admin: string;
  let slug: string;
  let projectId: string;
  let key: string;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: exportRoot, ARCHIVE_ROOT: archiveRoot });
    admin = await app.login();
    const project = await createProject(app, admin, {
      routing: { explorationRate: 0, threshold: 0.99 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 1440 }] },
      export: { formats: ['tfrecord', 'jsonl'] },
    });
    slug = project.slug;
    projectId = project.id;
    key = (await createApiKey(app, admin, slug, ['ingest'])).secret;
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(exportRoot, { recursive: true, force: true });
    fs.rmSync(archiveRoot, { recursive: true, force: true });
  });

  const post = (route: string, body: unknown) => app.request('POST', `/api/v1/projects/${slug}${route}`, { body, token: key });
  const stored = async (keys: string[]) =>
    app.sql<{ id: string; external_id: string | null }>(
      `SELECT id::text, external_id FROM predictions WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`,
      [projectId, keys],
    );

  it('stores a request id once, answers it as sent, and keys it by its UUID version 5 in the project', async () => {
    const body = predictionBody({ id: 'req-7f3a9c/2026-12-05T10:00:00Z#1' });
    const first = await post('/predictions', body);
    expect([first.status, first.body.id, first.body.accepted]).toEqual([201, body.id, 1]);
    const retry = await post('/predictions', body);
    expect([retry.status, retry.body.id, retry.body.duplicates]).toEqual([200, body.id, 1]);
    expect(await stored([predictionKeyOf(projectId, body.id)])).toEqual([{ id: predictionKeyOf(projectId, body.id), external_id: body.id }]);
  });

  it('keeps a UUID as its own key with nothing beside it, and an upper-case one as sent', async () => {
    const lower = predictionBody();
    const upper = predictionBody({ id: randomUUID().toUpperCase() });
    expect((await post('/predictions', lower)).body.id).toBe(lower.id);
    expect((await post('/predictions', upper)).body.id).toBe(upper.id);
    // the same UUID in lower case is the same prediction
    expect((await post('/predictions', { ...upper, id: upper.id.toLowerCase() })).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await stored([lower.id, upper.id.toLowerCase()])).toEqual(
      [
        { id: lower.id, external_id: null },
        { id: upper.id.toLowerCase(), external_id: upper.id },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
  });

  it('takes request ids in batches and streams: a repeat within a batch and a retry are duplicates', async () => {
    const batch = Array.from({ length: 100 }, (_, i) => predictionBody({ id: `batch-${i}` }));
    expect((await post('/predictions/batch', [...batch, batch[0]])).body).toMatchObject({ accepted: 100, duplicates: 1 });
    expect((await post('/predictions/batch', batch)).body).toMatchObject({ accepted: 0, duplicates: 100 });
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify(predictionBody({ id: `stream-${i}` }))).join('\n');
    const streamed = await app.request('POST', `/api/v1/projects/${slug}/predictions/batch`, {
      raw: lines,
      token: key,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(streamed.body).toMatchObject({ accepted: 5, duplicates: 0 });
    const rows = await stored([...batch.map((p) => predictionKeyOf(projectId, p.id)), predictionKeyOf(projectId, 'stream-4')]);
    expect(rows.map((r) => r.external_id).sort()).toEqual([...batch.map((p) => p.id), 'stream-4'].sort());
  });

  it.each([
    ['a space', 'req 1'],
    ['129 characters', 'r'.repeat(129)],
    ['an empty id', ''],
    ['a character beyond ASCII', 'req-é'],
    ['a control character', 'req\u0001'],
  ])('refuses an id with %s with a 400 naming the field, storing nothing', async (_what, id) => {
    const response = await post('/predictions', predictionBody({ id }));
    expect([response.status, response.body.code, response.body.field]).toEqual([400, 'validation/invalid', 'id']);
    expect(response.body.message).toContain('1 to 128 printable ASCII characters');
    const feedback = await post('/feedback', { id: randomUUID(), predictionId: id, type: 'click' });
    expect([feedback.status, feedback.body.field]).toEqual([400, 'predictionId']);
    if (id) expect(await stored([predictionKeyOf(projectId, id)])).toEqual([]);
  });

  it('joins feedback sent with the same request id, before the prediction or after, into the label', async () => {
    const early = predictionBody({ id: 'early-req-1', scores: { ham: 0.2, spam: 0.8 } });
    const late = predictionBody({ id: 'late-req-1', scores: { ham: 0.2, spam: 0.8 } });
    expect((await post('/feedback', { id: 'click-early', predictionId: early.id, type: 'click' })).status).toBe(201);
    expect((await post('/predictions', early)).status).toBe(201);
    expect((await post('/predictions', late)).status).toBe(201);
    expect((await post('/feedback', { id: 'click-late', predictionId: late.id, type: 'click' })).status).toBe(201);
    const labels = await app.sql(
      `SELECT prediction_id::text, value, source, feedback_event_id FROM labels WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) AND superseded_at IS NULL ORDER BY feedback_event_id`,
      [projectId, [predictionKeyOf(projectId, early.id), predictionKeyOf(projectId, late.id)]],
    );
    expect(labels).toEqual([
      { prediction_id: predictionKeyOf(projectId, early.id), value: 'ham', source: 'feedback', feedback_event_id: 'click-early' },
      { prediction_id: predictionKeyOf(projectId, late.id), value: 'ham', source: 'feedback', feedback_event_id: 'click-late' },
    ]);
  });

  it('exports each example under the id its caller sent, in TFRecord and JSONL alike, and in the archive and back', async () => {
    const project = await createProject(app, admin, {
      routing: { explorationRate: 0, threshold: 0.99 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 1440 }] },
      export: { formats: ['tfrecord', 'jsonl'] },
      retention: { days: 7, archive: true },
    });
    const ingest = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const upper = randomUUID().toUpperCase();
    const lower = randomUUID();
    const ids = ['req-a', 'chatcmpl-9XyZ', 'trace\\00f0/1', upper, lower];
    const bodies = ids.map((id) => predictionBody({ id }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: ingest, body: bodies })).body.accepted).toBe(5);
    const clicks = ids.map((id, i) => ({ id: `click-${i}`, predictionId: id, type: 'click' }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: ingest, body: clicks })).body.accepted).toBe(5);
    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exported = (await app.app.get(ExportsService).exportNext(entity))!;
    expect(exported.rows).toBe(5);
    const sent = [...ids].sort();
    expect(await exportedIds(exported.directory)).toEqual({ tfrecord: sent, jsonl: sent });

    // predictions no task, label or feedback needs, archived past retention, come back with the id as sent
    const old = new Date(Date.now() - 30 * DAY_MS).toISOString();
    const archivedIds = ['old-req-1', 'old-req-2'];
    expect(
      (
        await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
          token: ingest,
          body: archivedIds.map((id) => predictionBody({ id, timestamp: old })),
        })
      ).body.accepted,
    ).toBe(2);
    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    expect(run.body).toMatchObject({ dropped: 2, archived: 2 });
    const reader = await ParquetReader.openFile(run.body.files[0]);
    const cursor = reader.getCursor();
    const archived: Array<Record<string, unknown>> = [];
    for (let row = await cursor.next(); row; row = await cursor.next()) archived.push(row as Record<string, unknown>);
    await reader.close();
    expect(archived.map((r) => [r.id, r.external_id]).sort()).toEqual(archivedIds.map((id) => [predictionKeyOf(project.id, id), id]).sort());
    const day = old.slice(0, 10);
    expect(
      (await app.request('POST', `/api/v1/projects/${project.slug}/retention/restore`, { token: admin, body: { from: day, to: day } })).body,
    ).toMatchObject({ read: 2, restored: 2 });
    const back = await app.sql(`SELECT external_id FROM predictions WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY external_id`, [
      project.id,
      archivedIds.map((id) => predictionKeyOf(project.id, id)),
    ]);
    expect(back.map((r) => r.external_id)).toEqual(archivedIds);
    // a retry of an archived-and-restored request id is a duplicate
    expect(
      (
        await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
          token: ingest,
          body: predictionBody({ id: 'old-req-1', timestamp: old }),
        })
      ).body,
    ).toMatchObject({ id: 'old-req-1', accepted: 0, duplicates: 1 });
  });

  it('finds the predictions of exported training examples by the ids the export wrote (feature skew)', async () => {
    const bodies = ['skew-1', 'skew-2'].map((id) => predictionBody({ id, input: { n: 1 } }));
    expect((await post('/predictions/batch', bodies)).body.accepted).toBe(2);
    const examples = bodies.map((p) => JSON.stringify({ prediction_id: p.id, n: 1 })).join('\n');
    const response = await app.request('PUT', `/api/v1/projects/${slug}/monitoring/training-examples`, {
      token: admin,
      raw: examples,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ pairs: 2 });
  });
});

/**
 * A database populated before callers' own ids, then opened by today's server: its predictions in
 * their partitions are made by the server, then the column is taken away as the migration's
 * `down` does (the database as the previous release left it). The migration adds it to every
 * partition without rewriting one; old rows keep their ids and come out as before, and request
 * ids go into the old partitions beside them.
 */
describe('prediction ids: a populated database migrates in place', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-ids-migrate-'));
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let app: TestApp;
  let project: { id: string; slug: string };
  let key: string;
  let before: Array<{ name: string; file: string }>;
  const old = Array.from({ length: 3 }, () => predictionBody());

  const leaves = (projectId: string) =>
    app.sql<{ name: string; file: string; has_column: boolean }>(
      `SELECT c.relname AS name, c.relfilenode::text AS file,
              EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'external_id' AND NOT a.attisdropped) AS has_column
         FROM prediction_partitions pp JOIN pg_class c ON c.relname = pp.name WHERE pp.project_id = $1 ORDER BY c.relname`,
      [projectId],
    );

  beforeAll(async () => {
    database = await createDatabase();
    app = await startTestApp({ EXPORT_ROOT: exportRoot }, { databaseUrl: database.url });
    const admin = await app.login();
    project = await createProject(app, admin, {
      routing: { explorationRate: 0, threshold: 0.99 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 1440 }] },
      export: { formats: ['jsonl'] },
    });
    key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const lastMonth = new Date(Date.now() - 40 * DAY_MS).toISOString();
    const body = old.map((p, i) => (i === 0 ? { ...p, timestamp: lastMonth } : p));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body })).body.accepted).toBe(3);
    expect(
      (
        await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, {
          token: key,
          body: { id: 'old-click', predictionId: old[1].id, type: 'click' },
        })
      ).status,
    ).toBe(201);
    // the database as the previous release left it
    await app.sql(`DROP VIEW IF EXISTS predictions_read`);
    await app.sql(`ALTER TABLE predictions DROP COLUMN external_id`);
    await app.sql(`DELETE FROM migrations WHERE name = $1`, [PredictionExternalIds1764530000000.name]);
    before = (await leaves(project.id)).map(({ name, file }) => ({ name, file }));
    await app.close();
    app = await startTestApp({ EXPORT_ROOT: exportRoot }, { databaseUrl: database.url });
  });

  afterAll(async () => {
    await app.close();
    await database.drop();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  it('adds the column to every partition, two months of them, rewriting none', async () => {
    expect(before).toHaveLength(2);
    const after = await leaves(project.id);
    expect(after).toEqual(before.map((leaf) => ({ ...leaf, has_column: true })));
    const rows = await app.sql(`SELECT id::text, external_id FROM predictions_read WHERE project_id = $1 ORDER BY id`, [project.id]);
    expect(rows).toEqual(old.map((p) => ({ id: p.id, external_id: null })).sort((a, b) => (a.id < b.id ? -1 : 1)));
  });

  it('knows the old predictions by their ids: a retry is a duplicate, feedback joins them, and they export as before', async () => {
    const post = (route: string, body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}${route}`, { token: key, body });
    expect((await post('/predictions', old[2])).body).toMatchObject({ id: old[2].id, accepted: 0, duplicates: 1 });
    expect((await post('/feedback', { id: 'new-click', predictionId: old[2].id, type: 'click' })).status).toBe(201);
    // a request id goes into the partition made before the column was
    const fresh = predictionBody({ id: 'req-after-upgrade' });
    expect((await post('/predictions', fresh)).body).toMatchObject({ id: fresh.id, accepted: 1 });
    expect((await post('/feedback', { id: 'fresh-click', predictionId: fresh.id, type: 'click' })).status).toBe(201);
    expect(await leaves(project.id)).toHaveLength(2);
    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exported = (await app.app.get(ExportsService).exportNext(entity))!;
    expect(exported.rows).toBe(3);
    expect((await exportedIds(exported.directory)).jsonl).toEqual([old[1].id, old[2].id, fresh.id].sort());
  });
});

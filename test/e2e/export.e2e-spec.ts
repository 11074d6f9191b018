import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { decodeExample, readTfRecordFile } from '../../libs/tfrecord/src';
import { DataSource } from 'typeorm';
import { SpanLabelsCheckOneSpan1764580000000 } from '../../server/src/database/migrations/1764580000000-span-labels-check-one-span';
import { ExportsService } from '../../server/src/exports/exports.service';
import { bucketOf, splitOf } from '../../server/src/exports/split';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { parse } from 'csv-parse/sync';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import { createApiKey, createProject } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
// the Parquet library is the server's dependency: resolve it from there, wherever npm put it
const { ParquetReader } = createRequire(require.resolve('../../server/package.json'))('@dsnp/parquetjs') as typeof import('@dsnp/parquetjs');

describe('export: exactly-once TFX spans', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-export-'));
  let app: TestApp;
  let admin: string;
  let exportsService: ExportsService;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: root });
    admin = await app.login();
    exportsService = app.app.get(ExportsService);
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A project whose clicks label ham and dislikes spam, with `n` predictions. */
  async function project(n: number, exportSettings: Record<string, unknown> = {}) {
    const created = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { explorationRate: 0 },
      feedbackRules: {
        rules: [
          { eventType: 'click', label: 'ham', windowMinutes: 60 },
          { eventType: 'dislike', label: 'spam', windowMinutes: 60 },
        ],
      },
      export: { formats: ['tfrecord', 'jsonl'], ...exportSettings },
    });
    const key = (await createApiKey(app, admin, created.slug, ['ingest'])).secret;
    const predictions = Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'mail', version: `v${i % 2}` },
      input: { text: `mail number ${i}\nwith a second line`, n: i, score: i / 8, flag: i % 3 === 0, tags: ['a', `t${i % 4}`] },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    for (let i = 0; i < n; i += 500)
      expect(
        (await app.request('POST', `/api/v1/projects/${created.slug}/predictions/batch`, { token: key, body: predictions.slice(i, i + 500) })).status,
      ).toBe(200);
    const feedback = async (items: typeof predictions) => {
      const events = items.map((p) => ({ id: `fb-${p.id}`, predictionId: p.id, type: p.input.n % 2 ? 'dislike' : 'click' }));
      for (let i = 0; i < events.length; i += 500)
        expect((await app.request('POST', `/api/v1/projects/${created.slug}/feedback`, { token: key, body: events.slice(i, i + 500) })).status).toBe(201);
    };
    const entity = async () => (await app.app.get(ProjectsService).findBySlug(created.slug))!;
    return { ...created, key, predictions, feedback, entity };
  }

  it('writes a span every record of which reads back equal to its source, with schema, manifest and _SUCCESS', async () => {
    const p = await project(300);
    await p.feedback(p.predictions);
    const exported = (await exportsService.exportNext(await p.entity(), { shardRows: 64 }))!;
    expect(exported).toMatchObject({ span: 1, version: 1, rows: 300 });
    const dir = path.join(root, p.slug, 'span-1', 'version-1');
    expect(exported.directory).toBe(dir);
    expect(fs.existsSync(path.join(dir, '_SUCCESS'))).toBe(true);
    expect(fs.readdirSync(path.join(root, p.slug)).filter((name) => name.startsWith('.writing'))).toEqual([]);

    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ span: 1, version: 1, rows: 300, labels: { ham: 150, spam: 150 }, sources: { feedback: 300 } });
    expect(manifest.splits.train + manifest.splits.eval).toBe(300);
    expect(manifest.features.map(({ name, type }: { name: string; type: string }) => ({ name, type }))).toEqual([
      { name: 'flag', type: 'int' },
      { name: 'n', type: 'int' },
      { name: 'score', type: 'float' },
      { name: 'tags', type: 'bytes' },
      { name: 'text', type: 'bytes' },
    ]);
    // per-feature statistics: n is 0..299, flag is 1 for every third, tags has two values per example
    const stats = Object.fromEntries(manifest.statistics.map((f: { name: string }) => [f.name, f]));
    expect(stats.n).toEqual({
      name: 'n',
      present: 300,
      missing: 0,
      values: 300,
      numeric: { min: 0, max: 299, mean: expect.closeTo(149.5, 9), stdDev: expect.closeTo(Math.sqrt((300 ** 2 - 1) / 12), 9), zeros: 1 },
    });
    expect(stats.flag.numeric).toMatchObject({ min: 0, max: 1, mean: expect.closeTo(100 / 300, 9), zeros: 200 });
    expect(stats.tags).toMatchObject({
      present: 300,
      values: 600,
      categorical: { unique: 5, uniqueCapped: false, top: expect.arrayContaining([{ value: 'a', count: 300 }]) },
    });
    expect(stats.text.categorical.unique).toBe(300);
    const schema = fs.readFileSync(path.join(dir, 'schema.pbtxt'), 'utf8');
    expect(schema).toContain('name: "score"\n  type: FLOAT');
    expect(schema).toContain('name: "label"\n  type: INT');

    // shards of 64 rows, named with their count; every file's sha256 is the manifest's
    const trainShards = Math.max(1, Math.ceil(manifest.splits.train / 64));
    const tfrecords = manifest.files.filter((f: { format: string }) => f.format === 'tfrecord');
    expect(tfrecords.filter((f: { split: string }) => f.split === 'train').map((f: { path: string }) => path.basename(f.path))).toEqual(
      Array.from({ length: trainShards }, (_, i) => `data_tfrecord-${String(i).padStart(5, '0')}-of-${String(trainShards).padStart(5, '0')}.gz`),
    );
    for (const file of manifest.files)
      expect(
        createHash('sha256')
          .update(fs.readFileSync(path.join(dir, file.path)))
          .digest('hex'),
      ).toBe(file.sha256);

    const source = new Map(p.predictions.map((prediction) => [prediction.id, prediction]));
    const seen = new Set<string>();
    for (const file of tfrecords) {
      let rows = 0;
      for await (const record of readTfRecordFile(path.join(dir, file.path))) {
        rows++;
        const example = decodeExample(record);
        const id = text(example.prediction_id.values[0] as Uint8Array);
        const original = source.get(id)!;
        const label = original.input.n % 2 ? 'spam' : 'ham';
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        expect(splitOf(bucketOf(id), 80)).toBe(file.split);
        expect(example.label).toEqual({ kind: 'int64', values: [label === 'ham' ? 0n : 1n] });
        expect(text(example.label_name.values[0] as Uint8Array)).toBe(label);
        expect(text(example.label_source.values[0] as Uint8Array)).toBe('feedback');
        expect(example.weight).toEqual({ kind: 'float', values: [1] });
        expect(example.inclusion_probability).toEqual({ kind: 'float', values: [1] });
        expect(text(example.model_version.values[0] as Uint8Array)).toBe(original.model.version);
        expect(example.n).toEqual({ kind: 'int64', values: [BigInt(original.input.n)] });
        expect(example.flag).toEqual({ kind: 'int64', values: [original.input.flag ? 1n : 0n] });
        expect(example.score.values[0] as number).toBeCloseTo(original.input.score, 6);
        expect(text(example.text.values[0] as Uint8Array)).toBe(original.input.text);
        expect((example.tags.values as Uint8Array[]).map(text)).toEqual(original.input.tags);
      }
      expect(rows).toBe(file.rows);
    }
    expect(seen.size).toBe(300);

    // JSONL: the same rows
    const lines = manifest.files
      .filter((f: { format: string }) => f.format === 'jsonl')
      .flatMap((f: { path: string }) =>
        fs
          .readFileSync(path.join(dir, f.path), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      );
    expect(lines).toHaveLength(300);
    const first = lines.find((l: { prediction_id: string }) => l.prediction_id === p.predictions[3].id);
    expect(first).toEqual({
      prediction_id: p.predictions[3].id,
      model_version: 'v1',
      label: 1,
      label_name: 'spam',
      label_source: 'feedback',
      weight: 1,
      inclusion_probability: 1,
      flag: 1,
      n: 3,
      score: 0.375,
      tags: ['a', 't3'],
      text: p.predictions[3].input.text,
    });

    // the split is the same function in SQL
    const buckets = await app.sql(
      `SELECT prediction_id, ((('x' || substr(md5(prediction_id::text), 1, 8))::bit(32)::bigint) % 100)::int AS bucket FROM labels WHERE project_id = $1`,
      [p.id],
    );
    for (const row of buckets) expect(row.bucket).toBe(bucketOf(row.prediction_id));

    // nothing new: no span, not even an empty one holding the next span number
    expect(await exportsService.exportNext(await p.entity())).toBeUndefined();
    expect(await app.sql(`SELECT span, rows FROM export_spans WHERE project_id = $1 ORDER BY span`, [p.id])).toEqual([{ span: 1, rows: 300 }]);
  });

  it('carries each example’s inclusion probability beside its weight: an explored label weighs 1 / the exploration rate', async () => {
    const created = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { threshold: 0.4, explorationRate: 0.25, dedupeWindowMinutes: 0 },
      export: { formats: ['tfrecord', 'jsonl'] },
    });
    const key = (await createApiKey(app, admin, created.slug, ['ingest'])).secret;
    // half uncertain (0.5 / 0.5, routed for sure), half confident (explored at 25%)
    const predictions = Array.from({ length: 80 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'mail', version: 'v1' },
      input: { n: i },
      scores: i % 2 ? { ham: 0.5, spam: 0.5 } : { ham: 0.99, spam: 0.01 },
    }));
    const sent = await app.request('POST', `/api/v1/projects/${created.slug}/predictions/batch`, { token: key, body: predictions });
    expect(sent.body.routed.byReason.uncertain).toBe(40);
    expect(sent.body.routed.byReason.exploration).toBeGreaterThan(0);
    for (;;) {
      const { body } = await app.request('POST', `/api/v1/projects/${created.slug}/tasks/claim`, { token: admin, body: {} });
      if (!body.task) break;
      const answered = await app.request('POST', `/api/v1/projects/${created.slug}/tasks/${body.task.id}/annotations`, {
        token: admin,
        body: { id: randomUUID(), label: 'ham', timeSpentMs: 1000 },
      });
      expect(answered.status).toBe(201);
    }
    const exported = (await exportsService.exportNext((await app.app.get(ProjectsService).findBySlug(created.slug))!))!;
    const rows = exported.manifest.files
      .filter((f) => f.format === 'jsonl')
      .flatMap((f) => fs.readFileSync(path.join(exported.directory, f.path), 'utf8').split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { input_n?: number; n: number; weight: number; inclusion_probability: number });
    expect(rows).toHaveLength(40 + sent.body.routed.byReason.exploration);
    for (const row of rows) {
      const explored = row.n % 2 === 0;
      expect([row.n, row.inclusion_probability, row.weight]).toEqual([row.n, explored ? 0.25 : 1, explored ? 4 : 1]);
    }
  });

  it('puts every label in exactly one span while labels are finalized during the export', async () => {
    const p = await project(1_200);
    await p.feedback(p.predictions.slice(0, 600));
    const entity = await p.entity();
    // the rest of the feedback arrives while the first span is claimed and written
    const [first] = await Promise.all([exportsService.exportNext(entity, { shardRows: 100 }), p.feedback(p.predictions.slice(600))]);
    const second = await exportsService.exportNext(entity, { shardRows: 100 });
    const spans = [first, second].filter((s) => s !== undefined);
    const ids: string[] = [];
    for (const span of spans) {
      for (const file of span.manifest.files.filter((f) => f.format === 'tfrecord')) {
        for await (const record of readTfRecordFile(path.join(span.directory, file.path)))
          ids.push(text(decodeExample(record).prediction_id.values[0] as Uint8Array));
      }
    }
    expect(ids).toHaveLength(1_200);
    expect(new Set(ids).size).toBe(1_200);
    expect(spans.reduce((sum, s) => sum + s.rows, 0)).toBe(1_200);
    const [left] = await app.sql(
      `SELECT count(*)::int AS n FROM labels l WHERE project_id = $1 AND NOT EXISTS (SELECT 1 FROM span_labels s WHERE s.label_id = l.id)`,
      [p.id],
    );
    expect(left.n).toBe(0);
    // a prediction keeps its split in whichever span it lands
    const [{ train }] = await app.sql(
      `SELECT count(*) FILTER (WHERE ((('x' || substr(md5(prediction_id::text), 1, 8))::bit(32)::bigint) % 100) < 80)::int AS train FROM labels WHERE project_id = $1`,
      [p.id],
    );
    expect(spans.reduce((sum, s) => sum + s.manifest.splits.train, 0)).toBe(train);
  });

  it('ties every claimed label to a span that exists, and a deleted project takes its spans’ labels along', async () => {
    const p = await project(40);
    await p.feedback(p.predictions);
    const span = await exportsService.exportNext(await p.entity(), { shardRows: 100 });
    expect(span?.rows).toBe(40);
    const claimed = async () =>
      (await app.sql(`SELECT count(*)::int AS n FROM span_labels sl JOIN export_spans s ON s.id = sl.span_id WHERE s.project_id = $1`, [p.id]))[0].n;
    expect(await claimed()).toBe(40);
    // checked once per statement, not by a key that looks up the span for every label claimed
    const [{ keys }] = await app.sql(`SELECT count(*)::int AS keys FROM pg_constraint WHERE conrelid = 'span_labels'::regclass AND contype = 'f'`);
    expect(keys).toBe(0);
    // a label claimed for a span that is not there is refused, as the foreign key refused it
    const [label] = await app.sql(`SELECT max(id) + 1000000 AS id FROM labels`);
    await expect(app.sql(`INSERT INTO span_labels (label_id, span_id) VALUES ($1, -1)`, [label.id])).rejects.toMatchObject({ code: '23503' });
    // rows of one span are checked by one lookup (a claim’s), rows of several spans span by span: one missing refuses them all
    const [{ id: spanId }] = await app.sql(`SELECT id FROM export_spans WHERE project_id = $1`, [p.id]);
    const more = [Number(label.id) + 1, Number(label.id) + 2];
    await expect(app.sql(`INSERT INTO span_labels (label_id, span_id) VALUES ($1, $3), ($2, -1)`, [...more, spanId])).rejects.toMatchObject({ code: '23503' });
    await expect(app.sql(`INSERT INTO span_labels (label_id, span_id) VALUES ($1, -2), ($2, -2)`, more)).rejects.toMatchObject({ code: '23503' });
    // the check before migration 1764580000000 (two passes over the rows) refuses the same, and comes back
    const runner = app.app.get(DataSource).createQueryRunner();
    try {
      await new SpanLabelsCheckOneSpan1764580000000().down(runner);
      await expect(app.sql(`INSERT INTO span_labels (label_id, span_id) VALUES ($1, $3), ($2, -1)`, [...more, spanId])).rejects.toMatchObject({
        code: '23503',
      });
      await new SpanLabelsCheckOneSpan1764580000000().up(runner);
    } finally {
      await runner.release();
    }
    await app.sql(`INSERT INTO span_labels (label_id, span_id) VALUES ($1, $3), ($2, $3)`, [...more, spanId]);
    expect(await claimed()).toBe(42);
    const [{ spans }] = await app.sql(`SELECT array_agg(id) AS spans FROM export_spans WHERE project_id = $1`, [p.id]);
    expect((await app.request('DELETE', `/api/v1/projects/${p.slug}?confirm=${p.slug}`, { token: admin })).status).toBe(204);
    const [{ left }] = await app.sql(`SELECT count(*)::int AS left FROM span_labels WHERE span_id = ANY($1::bigint[])`, [spans]);
    expect(left).toBe(0);
  });

  it('writes the same bytes again after a crash, and shows no partial span meanwhile', async () => {
    const p = await project(250);
    await p.feedback(p.predictions);
    const entity = await p.entity();
    const exported = (await exportsService.exportNext(entity, { shardRows: 100 }))!;
    const sums = Object.fromEntries(exported.manifest.files.map((f) => [f.path, f.sha256]));
    const [version] = await app.sql(`SELECT v.id FROM export_versions v JOIN export_spans s ON s.id = v.span_id WHERE s.project_id = $1`, [p.id]);

    // a crash after the rename, before _SUCCESS: the directory is there but not complete
    fs.rmSync(path.join(exported.directory, '_SUCCESS'));
    fs.rmSync(path.join(exported.directory, exported.manifest.files[0].path));
    // and a crash mid-write left a temporary directory
    const leftover = path.join(root, p.slug, `.writing-span-${exported.span}-version-${exported.version}`);
    fs.mkdirSync(path.join(leftover, 'Split-train'), { recursive: true });
    fs.writeFileSync(path.join(leftover, 'Split-train', 'data_tfrecord-00000-of-00003.gz'), 'half a file');
    await app.sql(`UPDATE export_versions SET state = 'writing' WHERE id = $1`, [version.id]);

    const again = await exportsService.writeVersion(entity, version.id, { shardRows: 100 });
    expect(Object.fromEntries(again.manifest.files.map((f) => [f.path, f.sha256]))).toEqual(sums);
    for (const file of again.manifest.files)
      expect(
        createHash('sha256')
          .update(fs.readFileSync(path.join(again.directory, file.path)))
          .digest('hex'),
      ).toBe(sums[file.path]);
    expect(fs.existsSync(path.join(again.directory, '_SUCCESS'))).toBe(true);
    expect(fs.existsSync(leftover)).toBe(false);
    const [state] = await app.sql(`SELECT state, rows_written FROM export_versions WHERE id = $1`, [version.id]);
    expect(state).toEqual({ state: 'completed', rows_written: 250 });
  });

  it('writes CSV and Parquet beside TFRecord and JSONL, every row equal to its source', async () => {
    const p = await project(60, { formats: ['tfrecord', 'jsonl', 'csv', 'parquet'] });
    await p.feedback(p.predictions);
    const exported = (await exportsService.exportNext(await p.entity(), { shardRows: 25 }))!;
    const source = new Map(p.predictions.map((prediction) => [prediction.id, prediction]));
    const formats = new Set(exported.manifest.files.map((f) => f.format));
    expect([...formats].sort()).toEqual(['anomalies', 'csv', 'jsonl', 'parquet', 'statistics', 'tfrecord']);
    const expectRow = (row: { prediction_id: string; label_name: string; n: unknown; score: unknown; text: unknown; tags: unknown; flag: unknown }) => {
      const original = source.get(row.prediction_id)!;
      expect(row.label_name).toBe(original.input.n % 2 ? 'spam' : 'ham');
      return original;
    };

    // CSV: a header, then one record per row; text with a newline survives quoting; lists as JSON
    let csvRows = 0;
    for (const file of exported.manifest.files.filter((f) => f.format === 'csv')) {
      const records: Array<Record<string, string>> = parse(fs.readFileSync(path.join(exported.directory, file.path)), { columns: true });
      expect(records).toHaveLength(file.rows);
      for (const record of records) {
        const original = expectRow(record as never);
        expect(record.text).toBe(original.input.text);
        expect(Number(record.n)).toBe(original.input.n);
        expect(JSON.parse(record.tags)).toEqual(original.input.tags);
        expect(Number(record.weight)).toBe(1);
        csvRows++;
      }
    }
    expect(csvRows).toBe(60);

    // Parquet: typed columns, features as lists
    let parquetRows = 0;
    for (const file of exported.manifest.files.filter((f) => f.format === 'parquet')) {
      const reader = await ParquetReader.openFile(path.join(exported.directory, file.path));
      const cursor = reader.getCursor();
      let row: Record<string, unknown> | null;
      while ((row = (await cursor.next()) as Record<string, unknown> | null)) {
        const original = expectRow(row as never);
        expect(row.label).toBe(BigInt(original.input.n % 2));
        expect(row.n).toEqual([BigInt(original.input.n)]);
        expect(row.text).toEqual([original.input.text]);
        expect(row.tags).toEqual(original.input.tags);
        expect((row.score as number[])[0]).toBeCloseTo(original.input.score, 9);
        parquetRows++;
      }
      await reader.close();
    }
    expect(parquetRows).toBe(60);
  });

  it('exports from the CLI with a progress bar on stderr', async () => {
    const p = await project(80, { formats: ['tfrecord'] });
    await p.feedback(p.predictions);
    const cli = path.join(__dirname, '..', '..', 'server', 'dist', 'cli.js');
    const env = { PATH: process.env.PATH, DATABASE_URL: app.databaseUrl, EXPORT_ROOT: root, LOG_LEVEL: 'warn' };
    const run = promisify(execFile);
    const first = await run(process.execPath, [cli, 'export', p.slug], { env });
    expect(first.stdout).toContain('span 1 version 1: 80 rows');
    expect(first.stdout).toContain(path.join(root, p.slug, 'span-1', 'version-1'));
    expect(first.stderr).toMatch(/exporting \[.*\] 100% \| 80\/80 rows/);
    expect(fs.existsSync(path.join(root, p.slug, 'span-1', 'version-1', '_SUCCESS'))).toBe(true);
    const second = await run(process.execPath, [cli, '--json', 'export', p.slug], { env });
    expect(JSON.parse(second.stdout)).toEqual({ exported: null });
    const again = JSON.parse((await run(process.execPath, [cli, '--json', 'export', p.slug, '--span', '1'], { env })).stdout);
    expect(again).toMatchObject({ span: 1, version: 2, rows: 80 });
  });

  it('posts the manifest to the project webhook, signed, and tries again after a refusal', async () => {
    const secret = 'a-webhook-secret-of-some-length';
    const deliveries: Array<{ body: string; signature: string; status: number }> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const status = deliveries.length === 0 ? 503 : 200; // the first try is refused
        deliveries.push({ body, signature: String(request.headers['x-backflow-signature']), status });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      const p = await project(30, { formats: ['jsonl'], webhook: { url, secret } });
      await p.feedback(p.predictions);
      const exported = (await exportsService.exportNext(await p.entity()))!;
      await until(
        () => Promise.resolve(deliveries.length),
        (n) => n >= 2,
      );
      const delivered = deliveries[1];
      expect(delivered.signature).toBe(`sha256=${createHmac('sha256', secret).update(delivered.body).digest('hex')}`);
      expect(delivered.signature).not.toBe(`sha256=${createHmac('sha256', 'another secret').update(delivered.body).digest('hex')}`);
      const payload = JSON.parse(delivered.body);
      expect(payload).toMatchObject({ event: 'span.complete', project: p.slug, span: 1, version: 1, directory: 'span-1/version-1' });
      expect(payload.manifest.files).toEqual(exported.manifest.files);
      expect(deliveries.map((d) => d.status)).toEqual([503, 200]);
      // the project's settings show the webhook to admins only
      const [rater] = await Promise.all([app.request('GET', `/api/v1/projects/${p.slug}`, { token: p.key })]);
      expect(JSON.stringify(rater.body)).not.toContain(secret);
    } finally {
      server.close();
    }
  });

  it('exports on the project schedule: from the first tick after it is seen, once per tick', async () => {
    const bad = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `sched-bad-${randomUUID().slice(0, 6)}`,
        name: 'x',
        taskType: 'single_label',
        labels: [{ name: 'a' }, { name: 'b' }],
        export: { schedule: 'every day' },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('export.schedule');
    const p = await project(20, { formats: ['jsonl'], schedule: '0 * * * *' });
    await p.feedback(p.predictions);
    // first sight: the tick is recorded, nothing exported yet (this is the database's only schedule)
    expect(await exportsService.runSchedules(new Date('2030-01-01T10:30:00Z'))).toEqual([]);
    expect(fs.existsSync(path.join(root, p.slug, 'span-1'))).toBe(false);
    // the next hour ticks: one export, and only one however often the minute job runs
    const first = await exportsService.runSchedules(new Date('2030-01-01T11:00:30Z'));
    expect(await exportsService.runSchedules(new Date('2030-01-01T11:01:00Z'))).toEqual([]);
    const [span] = await app.sql(`SELECT v.id::text AS id FROM export_versions v JOIN export_spans s ON s.id = v.span_id WHERE s.project_id = $1`, [p.id]);
    expect(first).toContain(span.id);
    await until(() => Promise.resolve(fs.existsSync(path.join(root, p.slug, 'span-1', 'version-1', '_SUCCESS'))), Boolean);
  });

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('gave up waiting');
  }

  it('starts exports over HTTP, lists spans and streams files to admins and export:read keys only', async () => {
    const p = await project(120);
    await p.feedback(p.predictions);
    const started = await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: {} });
    expect(started.status).toBe(202);
    expect(started.body.job).toMatchObject({ span: 1, version: 1, rows: 120, directory: 'span-1/version-1' });
    const job = await until(
      async () => (await app.request('GET', `/api/v1/projects/${p.slug}/exports/${started.body.job.id}`, { token: admin })).body,
      (j) => j.state !== 'writing',
    );
    expect(job).toMatchObject({ state: 'completed', rowsWritten: 120, error: null });
    expect(job.files.map((f: { path: string }) => f.path)).toContain('Split-train/data_tfrecord-00000-of-00001.gz');

    // nothing left: no job
    expect((await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: {} })).body).toEqual({ job: null });

    // a pipeline's key lists spans and downloads files; the bytes are the manifest's
    const reader = (await createApiKey(app, admin, p.slug, ['export:read'])).secret;
    const spans = await app.request('GET', `/api/v1/projects/${p.slug}/spans`, { token: reader });
    expect(spans.status).toBe(200);
    expect(spans.body.spans).toEqual([
      expect.objectContaining({ span: 1, rows: 120, versions: [expect.objectContaining({ version: 1, state: 'completed' })] }),
    ]);
    const file = job.files.find((f: { format: string }) => f.format === 'tfrecord');
    const download = await fetch(`${app.url}/api/v1/projects/${p.slug}/spans/1/versions/1/files/${file.path}`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(download.status).toBe(200);
    // saved under a name that keeps the split and the span: train's and eval's first shards share a base name
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${p.slug}-span-1-v1-${file.split}-${path.posix.basename(file.path)}"`);
    const names = new Set<string>();
    for (const shard of job.files.filter((f: { format: string }) => f.format === 'tfrecord')) {
      const response = await fetch(`${app.url}/api/v1/projects/${p.slug}/spans/1/versions/1/files/${shard.path}`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      await response.arrayBuffer();
      names.add(response.headers.get('content-disposition')!);
    }
    expect(names).toEqual(new Set(['train', 'eval'].map((split) => `attachment; filename="${p.slug}-span-1-v1-${split}-data_tfrecord-00000-of-00001.gz"`)));
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    const manifest = await fetch(`${app.url}/api/v1/projects/${p.slug}/spans/1/versions/1/files/manifest.json`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect((await manifest.json()).rows).toBe(120);

    // nothing outside the version's files; nobody else
    for (const bad of ['../../../etc/passwd', 'Split-train/../../version-1/manifest.json.bak', 'nope.gz']) {
      const response = await fetch(`${app.url}/api/v1/projects/${p.slug}/spans/1/versions/1/files/${bad}`, { headers: { authorization: `Bearer ${reader}` } });
      expect(response.status).toBe(404);
    }
    expect((await app.request('GET', `/api/v1/projects/${p.slug}/spans`, { token: p.key })).status).toBe(403);
    expect((await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: reader, body: {} })).status).toBe(403);
    expect((await app.request('GET', `/api/v1/projects/${p.slug}/exports/1`, { token: reader })).status).toBe(403);
    const bad = await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: { span: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('span');
    expect((await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: { span: 9 } })).body.code).toBe('exports/span_not_found');

    // the same span again, in JSONL only: a new version beside the first, same labels
    expect((await app.request('PATCH', `/api/v1/projects/${p.slug}`, { token: admin, body: { export: { formats: ['jsonl'] } } })).status).toBe(200);
    const again = await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: { span: 1 } });
    expect(again.body.job).toMatchObject({ span: 1, version: 2, rows: 120 });
    const second = await until(
      async () => (await app.request('GET', `/api/v1/projects/${p.slug}/exports/${again.body.job.id}`, { token: admin })).body,
      (j) => j.state !== 'writing',
    );
    expect(second.state).toBe('completed');
    expect(new Set(second.files.map((f: { format: string }) => f.format))).toEqual(new Set(['jsonl', 'statistics', 'anomalies']));
    expect(fs.existsSync(path.join(root, p.slug, 'span-1', 'version-1', '_SUCCESS'))).toBe(true);
    expect(fs.existsSync(path.join(root, p.slug, 'span-1', 'version-2', '_SUCCESS'))).toBe(true);
  });
});

describe('export: on the job queue, with progress pushed to admins', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-export-jobs-'));
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: root }, { jobs: true });
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes the span in a pg-boss worker and tells the admin socket how far it got', async () => {
    const admin = await app.login();
    const created = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
    });
    const key = (await createApiKey(app, admin, created.slug, ['ingest'])).secret;
    const predictions = Array.from({ length: 50 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { n: i },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    expect((await app.request('POST', `/api/v1/projects/${created.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
    expect(
      (
        await app.request('POST', `/api/v1/projects/${created.slug}/feedback`, {
          token: key,
          body: predictions.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' })),
        })
      ).status,
    ).toBe(201);

    const socket = io(`${app.url}/labeling`, { auth: { token: admin }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    try {
      const progress: Array<{ state: string; rowsWritten: number; rows: number; project: string }> = [];
      const complete = new Promise<void>((resolve) =>
        socket.on('export:progress', (event) => {
          progress.push(event);
          if (event.state === 'completed') resolve();
        }),
      );
      const started = await app.request('POST', `/api/v1/projects/${created.slug}/exports`, { token: admin, body: {} });
      expect(started.status).toBe(202);
      await complete;
      expect(progress.at(-1)).toMatchObject({ project: created.slug, state: 'completed', rowsWritten: 50, rows: 50, span: 1, version: 1 });
      const [queued] = await app.sql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'export-write'`);
      expect(queued.n).toBe(1);
      expect(fs.existsSync(path.join(root, created.slug, 'span-1', 'version-1', '_SUCCESS'))).toBe(true);
    } finally {
      socket.close();
    }
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { decodeExample, readTfRecordFile, type ExampleFeatures } from '../../libs/tfrecord/src';
import { DataSource } from 'typeorm';
import { FeatureInference, typedFeatures } from '../../server/src/exports/example-row';
import { parseExactJson } from '../../server/src/common/json/exact-json';
import { ExportsRepository } from '../../server/src/exports/exports.repository';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createProject } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

// the Parquet library is the server's dependency: resolve it from there, wherever npm put it
const { ParquetReader } = createRequire(require.resolve('../../server/package.json'))('@dsnp/parquetjs') as typeof import('@dsnp/parquetjs');

const ALL_FORMATS = ['tfrecord', 'jsonl', 'csv', 'parquet'];
const text = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('utf8');
// JSON read as a data engineer's Python reads it: an integer past 2^53 keeps its digits
const exactJson = (line: string) =>
  (JSON.parse as (line: string, reviver: (key: string, value: unknown, context?: { source?: string }) => unknown) => Record<string, unknown>)(
    line,
    (_key, value, context) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value,
  );

interface Files {
  directory: string;
  manifest: { files: Array<{ path: string; format: string; sha256: string }> };
}
interface ReadRow {
  tfrecord: ExampleFeatures;
  jsonl: Record<string, unknown>;
  csv: Record<string, string>;
  parquet: Record<string, unknown>;
}

/** Every row of a version, by prediction id, as each format's own reader gives it back. */
async function readBack(version: Files): Promise<Map<string, Partial<ReadRow>>> {
  const rows = new Map<string, Partial<ReadRow>>();
  const at = (id: string) => rows.get(id) ?? rows.set(id, {}).get(id)!;
  for (const file of version.manifest.files) {
    const full = path.join(version.directory, file.path);
    if (file.format === 'tfrecord') {
      for await (const record of readTfRecordFile(full)) {
        const example = decodeExample(record);
        at(text(example.prediction_id.values[0])).tfrecord = example;
      }
    } else if (file.format === 'jsonl') {
      for (const line of fs.readFileSync(full, 'utf8').split('\n').filter(Boolean)) {
        const json = exactJson(line);
        at(json.prediction_id as string).jsonl = json;
      }
    } else if (file.format === 'csv') {
      for (const record of parse<Record<string, string>>(fs.readFileSync(full), { columns: true })) at(record.prediction_id).csv = record;
    } else if (file.format === 'parquet') {
      const reader = await ParquetReader.openFile(full);
      const cursor = reader.getCursor();
      let row: Record<string, unknown> | null;
      while ((row = (await cursor.next()) as Record<string, unknown> | null)) at(row.prediction_id as string).parquet = row;
      await reader.close();
    }
  }
  return rows;
}

/** Every byte the version wrote, TFRecord unzipped: what a leak would be found in. */
function everyByte(version: Files): string {
  return version.manifest.files
    .map((f) => {
      const bytes = fs.readFileSync(path.join(version.directory, f.path));
      return (f.format === 'tfrecord' ? gunzipSync(bytes) : bytes).toString('latin1');
    })
    .concat(['manifest.json', 'schema.pbtxt'].map((name) => fs.readFileSync(path.join(version.directory, name), 'latin1')))
    .join('\n');
}

const predictionId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('export: every value exact or counted, failed tries cleaned up, masked fields by the project policy', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-export-values-'));
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

  async function project(overrides: Record<string, unknown> = {}) {
    const created = await createProject(app, admin, { labels: [{ name: 'ham' }, { name: 'spam' }], ...overrides });
    const entity = async () => (await app.app.get(ProjectsService).findBySlug(created.slug))!;
    return { ...created, entity };
  }

  /**
   * Labeled predictions with these inputs (JSON text: a number keeps the digits written), put in
   * the database directly, as rows stored before ingest refused what does not fit would be.
   * Prediction ids (and label ids) follow `from + 1…`, so they sort (and are exported) in the order given.
   */
  async function seed(projectId: string, inputs: string[], from = 0): Promise<string[]> {
    await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date], false)`, [projectId]);
    await app.sql(
      `WITH made AS (
         INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on)
         SELECT $1, ('00000000-0000-4000-8000-' || lpad(to_hex($3::int + n::int), 12, '0'))::uuid, 'm', 'v1', input::jsonb, '{"ham": 0.6, "spam": 0.4}', 'ham', 0.6, now(),
                (now() AT TIME ZONE 'UTC')::date
           FROM unnest($2::text[]) WITH ORDINALITY AS i (input, n)
         RETURNING project_id, id)
       INSERT INTO labels (project_id, prediction_id, value, source, rule, answers) SELECT project_id, id, 'ham', 'feedback', 'test', '{"label": "ham"}' FROM made ORDER BY id`,
      [projectId, inputs, from],
    );
    return inputs.map((_, i) => predictionId(from + i + 1));
  }

  it('types a feature by every value: [3, 1.25] is a float list in TFRecord, JSONL, CSV and Parquet, and the schema says FLOAT', async () => {
    const p = await project({ export: { formats: ALL_FORMATS } });
    const [first, second] = await seed(p.id, [
      JSON.stringify({ mixed: [3, 1.25], whole: 2, words: ['a', 3], ratio: 0.1 }),
      JSON.stringify({ mixed: [4], whole: 5, words: 'b', ratio: 0.5 }),
    ]);
    const exported = (await exportsService.exportNext(await p.entity()))!;
    expect(exported.manifest.features.map((f) => [f.name, f.type])).toEqual([
      ['mixed', 'float'],
      ['ratio', 'float'],
      ['whole', 'int'],
      ['words', 'bytes'],
    ]);
    const schema = fs.readFileSync(path.join(exported.directory, 'schema.pbtxt'), 'utf8');
    expect(schema).toContain('name: "mixed"\n  type: FLOAT');
    expect(schema).toContain('name: "words"\n  type: BYTES');

    const rows = await readBack(exported);
    const a = rows.get(first)!;
    expect(a.tfrecord!.mixed).toEqual({ kind: 'float', values: [3, 1.25] });
    expect(a.jsonl!.mixed).toEqual([3, 1.25]);
    expect(JSON.parse(a.csv!.mixed)).toEqual([3, 1.25]);
    expect(a.parquet!.mixed).toEqual([3, 1.25]);
    // strings and numbers together: bytes, each number as its JSON text
    expect((a.tfrecord!.words.values as Uint8Array[]).map(text)).toEqual(['a', '3']);
    expect(a.jsonl!.words).toEqual(['a', '3']);
    expect(rows.get(second)!.jsonl!.mixed).toEqual([4]);
    expect(rows.get(second)!.tfrecord!.whole).toEqual({ kind: 'int64', values: [5n] });

    // 0.1 is not a float32: TFRecord carries the nearest float32 and the manifest counts it; the other formats keep the double
    expect(a.tfrecord!.ratio.values[0]).toBe(Math.fround(0.1));
    expect(a.jsonl!.ratio).toBe(0.1);
    expect(Number(a.csv!.ratio)).toBe(0.1);
    expect(a.parquet!.ratio).toEqual([0.1]);
    const ratio = exported.manifest.features.find((f) => f.name === 'ratio')!;
    expect(ratio).toMatchObject({ typeFrom: 'inferred', float32Inexact: 1 });
    expect(exported.manifest.features.find((f) => f.name === 'mixed')).toMatchObject({ float32Inexact: 0 });
    expect(schema).toMatch(/# .*float32/);
  });

  it("types a ranking's item features in SQL as the export types inputs in TypeScript", async () => {
    const p = await project();
    const inputs = [
      '{"whole": 3, "mixed": [3, 1.25], "flag": true, "text": "a", "both": ["a", 3], "big": 9007199254740993, "huge": 18446744073709551616, "scaled": 9007199254740993.0, "half": 0.5, "nested": {"a": 1}, "lists": [[1]], "empty": [], "none": null, "sparse": [null, 4], "sometimes": [1, 2]}',
      '{"whole": -7, "mixed": 2, "flag": 1, "text": "b", "both": 1, "big": 1, "huge": 1, "scaled": 2, "half": 1, "nested": 2, "lists": [], "empty": [], "none": [null], "sparse": 5, "sometimes": []}',
    ];
    await seed(p.id, inputs);
    await exportsService.exportNext(await p.entity());
    const [span] = await app.sql(`SELECT s.id FROM export_spans s WHERE s.project_id = $1`, [p.id]);
    const inference = new FeatureInference();
    for (const text of inputs) inference.add(parseExactJson(text) as Record<string, unknown>);
    // the same values as a list's candidate features (a ranking's item features are typed in SQL, every candidate of the span)
    await app.sql(
      `UPDATE predictions SET suggestions = jsonb_build_object('ranked', jsonb_build_object('candidates', jsonb_build_array(jsonb_build_object('item', 'a', 'features', input), jsonb_build_object('item', 'b'))))
        WHERE project_id = $1`,
      [p.id],
    );
    const inSql = typedFeatures(await app.app.get(ExportsRepository).itemFeatureFits(app.app.get(DataSource).manager, span.id, 'ranked'));
    expect(inSql).toEqual(inference.features());
    expect(Object.fromEntries(inSql.map((f) => [f.name, f.type]))).toEqual({
      whole: 'int',
      mixed: 'float',
      flag: 'int',
      text: 'bytes',
      both: 'bytes',
      big: 'int',
      huge: 'bytes',
      scaled: 'int',
      half: 'float',
      nested: 'bytes',
      lists: 'bytes',
      empty: 'bytes',
      none: 'bytes',
      sparse: 'int',
      sometimes: 'int',
    });
  });

  it('types a feature by the rows past the inference sample too: a late fraction and a late feature are exported as they are', async () => {
    const p = await project({ export: { formats: ['tfrecord', 'jsonl'] } });
    const inputs = Array.from({ length: 20_000 }, (_, i) => `{"late": ${i + 1}}`);
    inputs.push('{"late": 2.5, "newcomer": "only here"}');
    const ids = await seed(p.id, inputs);
    const exported = (await exportsService.exportNext(await p.entity()))!;
    expect(exported.rows).toBe(20_001);
    expect(exported.manifest.features.map((f) => [f.name, f.type])).toEqual([
      ['late', 'float'],
      ['newcomer', 'bytes'],
    ]);
    expect(exported.manifest.inference).toEqual({ sampleRows: 20_000, widenedPastSample: ['late', 'newcomer'] });
    const rows = await readBack(exported);
    const last = rows.get(ids.at(-1)!)!;
    expect(last.tfrecord!.late).toEqual({ kind: 'float', values: [2.5] });
    expect(last.jsonl).toMatchObject({ late: 2.5, newcomer: 'only here' });
    expect(text(last.tfrecord!.newcomer.values[0])).toBe('only here');
    expect(rows.get(ids[6])!.jsonl!.late).toBe(7);
  });

  it('exports integers past 2^53 stored before ingest refused them, digit for digit, instead of failing the export', async () => {
    const p = await project({ export: { formats: ALL_FORMATS } });
    const [first] = await seed(p.id, [
      '{"big": 9007199254740993, "safe": 9007199254740991, "negative": -9007199254740991, "ids": [1, 9007199254740993, 2], "huge": 123456789012345678901234567890, "nested": {"id": 9007199254740993}}',
      '{"big": 2, "safe": 1, "negative": 0, "ids": [], "huge": 1, "nested": {"id": 1}}',
    ]);
    const exported = (await exportsService.exportNext(await p.entity()))!;
    expect(Object.fromEntries(exported.manifest.features.map((f) => [f.name, f.type]))).toEqual({
      big: 'int',
      safe: 'int',
      negative: 'int',
      ids: 'int',
      huge: 'bytes',
      nested: 'bytes',
    });
    const row = (await readBack(exported)).get(first)!;
    expect(row.tfrecord!.big).toEqual({ kind: 'int64', values: [9007199254740993n] });
    expect(row.tfrecord!.safe).toEqual({ kind: 'int64', values: [9007199254740991n] });
    expect(row.tfrecord!.negative).toEqual({ kind: 'int64', values: [-9007199254740991n] });
    expect(row.tfrecord!.ids).toEqual({ kind: 'int64', values: [1n, 9007199254740993n, 2n] });
    expect(text(row.tfrecord!.huge.values[0])).toBe('123456789012345678901234567890');
    expect(text(row.tfrecord!.nested.values[0])).toBe('{"id":9007199254740993}');
    expect(row.jsonl).toMatchObject({
      big: 9007199254740993n,
      safe: 9007199254740991,
      negative: -9007199254740991,
      ids: [1, 9007199254740993n, 2],
      huge: '123456789012345678901234567890',
    });
    expect(row.csv).toMatchObject({ big: '9007199254740993', safe: '9007199254740991', negative: '-9007199254740991', ids: '[1,9007199254740993,2]' });
    expect(row.parquet).toMatchObject({
      big: [9007199254740993n],
      safe: [9007199254740991n],
      negative: [-9007199254740991n],
      ids: [1n, 9007199254740993n, 2n],
    });
  });

  it('never fails an export for stored values that do not fit a declared type: it counts them per feature and warns the admin', async () => {
    const p = await project({
      export: {
        formats: ['tfrecord', 'jsonl'],
        features: [
          { name: 'count', type: 'int' },
          { name: 'big', type: 'int' },
          { name: 'ratio', type: 'float' },
        ],
      },
    });
    const [first, second] = await seed(p.id, [
      '{"count": 1.5, "big": 18446744073709551616, "ratio": "high"}',
      '{"count": [2, null, 3], "big": 9007199254740993, "ratio": 0.25}',
    ]);
    const started = await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: {} });
    expect(started.status).toBe(202);
    const job = await until(
      async () => (await app.request('GET', `/api/v1/projects/${p.slug}/exports/${started.body.job.id}`, { token: admin })).body,
      (j) => j.state !== 'writing',
    );
    expect(job).toMatchObject({ state: 'completed', rowsWritten: 2, error: null });
    expect(job.warnings).toEqual([
      expect.stringMatching(/^feature "count": 1 value .*int/),
      expect.stringMatching(/^feature "count": 1 null/),
      expect.stringMatching(/^feature "big": 1 value .*int/),
      expect.stringMatching(/^feature "ratio": 1 value .*float/),
    ]);
    const directory = path.join(root, p.slug, 'span-1', 'version-1');
    const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'manifest.json'), 'utf8'));
    expect(manifest.warnings).toEqual(job.warnings);
    expect(manifest.features).toEqual([
      expect.objectContaining({ name: 'count', type: 'int', typeFrom: 'declared', leftOut: { notFitting: 1, nullInList: 1 } }),
      expect.objectContaining({ name: 'big', type: 'int', typeFrom: 'declared', leftOut: { notFitting: 1, nullInList: 0 } }),
      expect.objectContaining({ name: 'ratio', type: 'float', typeFrom: 'declared', leftOut: { notFitting: 1, nullInList: 0 }, float32Inexact: 0 }),
    ]);
    const rows = await readBack({ directory, manifest });
    // 1.5 is not rounded into an int: it is left out, and counted
    expect(rows.get(first)!.tfrecord!.count).toBeUndefined();
    expect(rows.get(first)!.jsonl!.count).toBeUndefined();
    expect(rows.get(second)!.tfrecord!.count).toEqual({ kind: 'int64', values: [2n, 3n] });
    expect(rows.get(second)!.tfrecord!.big).toEqual({ kind: 'int64', values: [9007199254740993n] });
    expect(rows.get(second)!.jsonl!.big).toBe(9007199254740993n);
  });

  it('takes a large whole double sent to a declared float feature through ingest, and exports that double', async () => {
    const p = await project({
      export: { formats: ['tfrecord', 'jsonl'], features: [{ name: 'bytes_sent', type: 'float' }] },
      routing: { strategy: 'least_confidence', threshold: 0, explorationRate: 0 },
    });
    const key = (await app.request('POST', `/api/v1/projects/${p.slug}/api-keys`, { token: admin, body: { name: 'k', scopes: ['ingest'] } })).body.secret;
    const id = predictionId(900);
    const sent = await app.request('POST', `/api/v1/projects/${p.slug}/predictions`, {
      token: key,
      raw: `{"id": "${id}", "model": {"name": "m", "version": "1"}, "input": {"bytes_sent": 1e20}, "scores": {"ham": 0.6, "spam": 0.4}}`,
    });
    expect(sent.status).toBe(201);
    // the same number in a feature not declared float is refused at the door
    const refused = await app.request('POST', `/api/v1/projects/${p.slug}/predictions`, {
      token: key,
      raw: `{"model": {"name": "m", "version": "1"}, "input": {"other": 1e20}, "scores": {"ham": 0.6, "spam": 0.4}}`,
    });
    expect(refused.body).toMatchObject({ code: 'predictions/unsafe_integer', field: 'input.other' });
    await app.sql(
      `INSERT INTO labels (project_id, prediction_id, value, source, rule, answers) VALUES ($1, $2, 'ham', 'feedback', 'test', '{"label": "ham"}')`,
      [p.id, id],
    );
    const exported = (await exportsService.exportNext(await p.entity()))!;
    expect(exported.manifest.features).toEqual([expect.objectContaining({ name: 'bytes_sent', type: 'float', leftOut: { notFitting: 0, nullInList: 0 } })]);
    const row = (await readBack(exported)).get(id)!;
    // JSON writes the double 1e20 as its digits, which read back exactly
    expect(String(row.jsonl!.bytes_sent)).toBe('100000000000000000000');
    expect(row.tfrecord!.bytes_sent).toEqual({ kind: 'float', values: [Math.fround(1e20)] });
  });

  it('removes the working directory of a failed try, and a retry writes the same bytes as a clean run', async () => {
    const p = await project({ export: { formats: ['tfrecord', 'jsonl', 'parquet'] } });
    const ids = await seed(
      p.id,
      Array.from({ length: 40 }, (_, i) => JSON.stringify({ n: i, text: `row ${i}` })),
    );
    const projectDirectory = path.join(root, p.slug);
    const writing = () => fs.readdirSync(projectDirectory).filter((name) => name.startsWith('.writing'));
    // a file where the span's directory must go: the first try fails before it writes
    fs.mkdirSync(projectDirectory, { recursive: true });
    fs.writeFileSync(path.join(projectDirectory, 'span-1'), 'in the way');
    const started = await app.request('POST', `/api/v1/projects/${p.slug}/exports`, { token: admin, body: {} });
    const failed = await until(
      async () => (await app.request('GET', `/api/v1/projects/${p.slug}/exports/${started.body.job.id}`, { token: admin })).body,
      (j) => j.state !== 'writing',
    );
    expect(failed).toMatchObject({ state: 'failed', error: expect.stringContaining('span-1'), files: [] });
    fs.rmSync(path.join(projectDirectory, 'span-1'));

    // a prediction of the span deleted: the next try writes every file, then finds a row missing
    const [prediction] = await app.sql(`SELECT * FROM predictions WHERE project_id = $1 AND id = $2`, [p.id, ids[7]]);
    const [label] = await app.sql(`SELECT * FROM labels WHERE project_id = $1 AND prediction_id = $2`, [p.id, ids[7]]);
    await app.sql(`DELETE FROM predictions WHERE project_id = $1 AND id = $2`, [p.id, ids[7]]);
    await app.sql(`DELETE FROM labels WHERE project_id = $1 AND prediction_id = $2`, [p.id, ids[7]]);
    const entity = await p.entity();
    await expect(exportsService.writeVersion(entity, failed.id)).rejects.toThrow('span 1 has 40 labels but 39 rows were read');
    expect(writing()).toEqual([]);
    expect(fs.existsSync(path.join(projectDirectory, 'span-1', 'version-1'))).toBe(false);

    // put back, the same version is written, byte for byte what a clean run writes
    await app.sql(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        prediction.project_id,
        prediction.id,
        prediction.model_name,
        prediction.model_version,
        prediction.input,
        prediction.scores,
        prediction.predicted_label,
        prediction.confidence,
        prediction.occurred_at,
        prediction.occurred_on,
      ],
    );
    await app.sql(
      `INSERT INTO labels (id, project_id, prediction_id, value, source, rule, weight, created_at, answers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [label.id, label.project_id, label.prediction_id, label.value, label.source, label.rule, label.weight, label.created_at, label.answers],
    );
    const retried = await exportsService.writeVersion(entity, failed.id);
    const clean = (await exportsService.run(entity, { span: 1 }))!;
    expect(clean.version).toBe(2);
    const sums = (v: Files) => Object.fromEntries(v.manifest.files.map((f) => [f.path, f.sha256]));
    expect(sums(retried)).toEqual(sums(clean));
    for (const file of retried.manifest.files)
      expect(
        createHash('sha256')
          .update(fs.readFileSync(path.join(retried.directory, file.path)))
          .digest('hex'),
      ).toBe(file.sha256);
    expect(writing()).toEqual([]);
    expect(fs.readdirSync(path.join(projectDirectory, 'span-1')).sort()).toEqual(['version-1', 'version-2']);
    const [state] = await app.sql(`SELECT state, error FROM export_versions WHERE id = $1`, [failed.id]);
    expect(state).toEqual({ state: 'completed', error: null });
  });

  describe('masked fields', () => {
    const planted = ['PLANTED-ada@example.com', 'PLANTED-bob@example.com'];
    const input = (n: number, email: string) => JSON.stringify({ email, user: { phone: `PLANTED-555-${n}`, city: 'Lyon' }, n });

    async function maskedProject() {
      const p = await project({ maskedFields: ['email', 'user.phone'], export: { formats: ALL_FORMATS } });
      const ids = await seed(p.id, [input(1, planted[0]), input(2, planted[0]), input(3, planted[1])]);
      const [{ key }] = await app.sql(`SELECT export_hash_key AS key FROM projects WHERE id = $1`, [p.id]);
      return {
        ...p,
        ids,
        hash: (value: string) =>
          createHmac('sha256', key as Buffer)
            .update(value)
            .digest('hex'),
        keyHex: (key as Buffer).toString('hex'),
      };
    }

    async function setPolicy(slug: string, maskedFields: string) {
      const response = await app.request('PATCH', `/api/v1/projects/${slug}`, { token: admin, body: { export: { formats: ALL_FORMATS, maskedFields } } });
      expect(response.status).toBe(200);
      expect(response.body.export.maskedFields).toBe(maskedFields);
    }

    it('drops them by default, and the manifest says so', async () => {
      const p = await maskedProject();
      expect((await app.request('GET', `/api/v1/projects/${p.slug}`, { token: admin })).body.export.maskedFields).toBe('drop');
      const exported = (await exportsService.exportNext(await p.entity()))!;
      expect((exported.manifest as unknown as { maskedFields: unknown }).maskedFields).toEqual({
        policy: 'drop',
        default: 'drop',
        fields: ['email', 'user.phone'],
      });
      expect(exported.manifest.features.map((f) => f.name)).toEqual(['n', 'user']);
      const bytes = everyByte(exported);
      expect(bytes).not.toContain('PLANTED');
      expect(bytes).toContain('Lyon');
      const row = (await readBack(exported)).get(p.ids[0])!;
      expect(row.jsonl!.email).toBeUndefined();
      expect(JSON.parse(row.jsonl!.user as string)).toEqual({ city: 'Lyon' });
      expect(row.csv!.email).toBeUndefined();
      expect(row.parquet!.email).toBeUndefined();
      expect(row.tfrecord!.email).toBeUndefined();
    });

    it('hashes them with the project key when asked, as bytes, the same value giving the same hash in every span', async () => {
      const p = await maskedProject();
      await setPolicy(p.slug, 'hash');
      const first = (await exportsService.exportNext(await p.entity()))!;
      expect((first.manifest as unknown as { maskedFields: unknown }).maskedFields).toEqual({
        policy: 'hash',
        default: 'drop',
        fields: ['email', 'user.phone'],
        hash: expect.stringContaining('HMAC-SHA256'),
      });
      expect(first.manifest.features.find((f) => f.name === 'email')).toMatchObject({ type: 'bytes', masked: 'hash' });
      expect(fs.readFileSync(path.join(first.directory, 'schema.pbtxt'), 'utf8')).toContain('name: "email"\n  type: BYTES');
      expect(everyByte(first)).not.toContain('PLANTED');

      const rows = await readBack(first);
      const a = rows.get(p.ids[0])!;
      expect(text(a.tfrecord!.email.values[0])).toBe(p.hash(planted[0]));
      expect(a.jsonl!.email).toBe(p.hash(planted[0]));
      expect(a.csv!.email).toBe(p.hash(planted[0]));
      expect(a.parquet!.email).toEqual([p.hash(planted[0])]);
      expect(JSON.parse(a.jsonl!.user as string)).toEqual({ phone: p.hash('PLANTED-555-1'), city: 'Lyon' });
      expect(rows.get(p.ids[1])!.jsonl!.email).toBe(p.hash(planted[0]));
      expect(rows.get(p.ids[2])!.jsonl!.email).toBe(p.hash(planted[1]));

      // a later span: the same address, the same hash (joins across spans still work)
      const [later] = await seed(p.id, [input(4, planted[0])], 100);
      const second = (await exportsService.exportNext(await p.entity()))!;
      expect(second.span).toBe(2);
      expect((await readBack(second)).get(later)!.jsonl!.email).toBe(p.hash(planted[0]));

      // another project's key gives another hash; no reply shows the key
      const other = await maskedProject();
      expect(other.hash(planted[0])).not.toBe(p.hash(planted[0]));
      for (const route of [`/api/v1/projects/${p.slug}`, '/api/v1/projects', `/api/v1/projects/${p.slug}/spans`]) {
        expect(JSON.stringify((await app.request('GET', route, { token: admin })).body)).not.toContain(p.keyHex);
      }
    });

    it('keeps them as they are when asked, and refuses a policy it does not know', async () => {
      const p = await maskedProject();
      await setPolicy(p.slug, 'keep');
      const exported = (await exportsService.exportNext(await p.entity()))!;
      expect((exported.manifest as unknown as { maskedFields: unknown }).maskedFields).toEqual({
        policy: 'keep',
        default: 'drop',
        fields: ['email', 'user.phone'],
      });
      const row = (await readBack(exported)).get(p.ids[0])!;
      expect(row.jsonl!.email).toBe(planted[0]);
      expect(text(row.tfrecord!.email.values[0])).toBe(planted[0]);
      expect(JSON.parse(row.jsonl!.user as string)).toEqual({ phone: 'PLANTED-555-1', city: 'Lyon' });

      const refused = await app.request('PATCH', `/api/v1/projects/${p.slug}`, { token: admin, body: { export: { maskedFields: 'rot13' } } });
      expect(refused.status).toBe(400);
      expect(refused.body.field).toBe('export.maskedFields');
    });
  });

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('gave up waiting');
  }
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject } from '../factories';
import { recommenderTraffic } from '../helpers/recommender-traffic';
import { startTestApp, TestApp } from '../helpers/test-app';

const READER = path.join(__dirname, '..', 'helpers', 'read_tfexamples.py');
const { ParquetReader } = createRequire(require.resolve('../../server/package.json'))('@dsnp/parquetjs') as typeof import('@dsnp/parquetjs');

type Features = Record<string, unknown[]>;
const float32 = (x: number) => Math.fround(x);

describe('ranking export: ExampleListWithContext and one example per candidate, clicks weighted by the examination estimate', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-ranking-export-'));
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: root });
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses a list format for a project whose routing question is not a ranking, naming the format', async () => {
    const refused = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `not-ranking-${Date.now()}`,
        name: 'x',
        taskType: 'single_label',
        labels: [{ name: 'a' }, { name: 'b' }],
        export: { formats: ['tfrecord', 'elwc'] },
      },
    });
    expect([refused.status, refused.body.code, refused.body.field]).toEqual([400, 'validation/invalid', 'export.formats.1']);
    const project = await createProject(app, admin, {});
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { export: { formats: ['item_parquet'] } } });
    expect([patched.status, patched.body.field]).toEqual([400, 'export.formats.0']);
  });

  it('writes each list as an ELWC (context, then its candidates in the order shown) and each candidate flat, read back by other readers', async () => {
    const grades = [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` }));
    const formats = ['tfrecord', 'elwc', 'item_tfrecord', 'item_jsonl', 'item_csv', 'item_parquet'];
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'runs', kind: 'ranking', grades, maxItems: 10 }],
      routing: { strategy: 'margin', threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perDay: 0 } },
      feedbackRules: {
        rules: [
          { eventType: 'click', grade: 1, windowMinutes: 60 },
          { eventType: 'completion', grade: 3, windowMinutes: 1440 },
        ],
      },
      export: { formats, splits: { train: 100, eval: 0 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const post = (url: string, body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}${url}`, { token: key, body });

    // a week of simulated traffic over 10 positions: the click model's estimate the clicks are weighted by
    const traffic = recommenderTraffic({ days: 7, listsPerDay: 40, positions: 10, shiftDay: 99, now: Date.now() - 3_600_000 });
    expect((await post('/predictions/batch', traffic.predictions)).status).toBe(200);
    expect((await post('/feedback', traffic.events)).status).toBe(201);
    const report = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/clicks?days=8`, { token: admin });
    expect(report.status).toBe(200);
    const estimated = report.body.propensity.positions as Array<{ position: number; value: number }>;
    const examination = new Map(estimated.map((p) => [p.position, p.value]));
    expect(examination.size).toBe(10);

    // one list with item features of every type and an input field named like an item column
    const list = randomUUID();
    const candidates = [
      { item: 'run-river', score: 2.5, position: 1, features: { distance_km: 5.25, surface: 'trail', tags: ['shade', 'water'], loop: true } },
      { item: 'run-park', score: 1.75, position: 2, features: { distance_km: 3, surface: 'grass', tags: [] } },
      { item: 'run-hill', score: -0.5, position: 3, features: { distance_km: 10.5, tags: ['climb'] } },
    ];
    // sent out of order: the export writes them in the order shown
    const sent = await post('/predictions', {
      id: list,
      model: { name: 'recommender', version: '9' },
      input: { user_id: 'u-42', position: 'home', recent_km: [4.5, 6] },
      slice: { cohort: 'new' },
      suggestions: { runs: { candidates: [candidates[2], candidates[0], candidates[1]] } },
    });
    expect(sent.status).toBe(201);
    expect((await post('/feedback', { id: randomUUID(), predictionId: list, type: 'completion', item: 'run-park' })).status).toBe(201);

    const exportsService = app.app.get(ExportsService);
    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exported = (await exportsService.exportNext(entity, { shardRows: 200 }))!;
    const manifest = exported.manifest;
    const labeled = 1 + new Set(traffic.events.map((e) => e.predictionId)).size;
    expect(manifest.rows).toBe(labeled);
    // the estimate the version was opened with: the one the click report stored
    expect(manifest.ranking!.examination!.positions.map((p) => [p.position, p.value])).toEqual(estimated.map((p) => [p.position, p.value]));
    expect(manifest.ranking!.itemFeatures).toEqual([
      { name: 'item_distance_km', type: 'float', leftOut: { notFitting: 0, nullInList: 0 } },
      { name: 'item_loop', type: 'int', leftOut: { notFitting: 0, nullInList: 0 } },
      { name: 'item_surface', type: 'bytes', leftOut: { notFitting: 0, nullInList: 0 } },
      { name: 'item_tags', type: 'bytes', leftOut: { notFitting: 0, nullInList: 0 } },
    ]);
    const candidatesWritten = 3 + (labeled - 1) * 10;
    expect(manifest.ranking!.candidates).toBe(candidatesWritten);
    const filesOf = (format: string) =>
      manifest.files.filter((f) => f.format === format && f.split === 'train').map((f) => path.join(exported.directory, f.path));
    expect(manifest.files.filter((f) => f.format === 'item_jsonl').reduce((n, f) => n + f.rows, 0)).toBe(candidatesWritten);
    expect(manifest.files.filter((f) => f.format === 'elwc').reduce((n, f) => n + f.rows, 0)).toBe(labeled);
    expect(fs.existsSync(path.join(exported.directory, 'schema_items.pbtxt'))).toBe(true);

    // ELWC, decoded by the standard-library reader (no code shared with the writer)
    const lists = execFileSync('python3', [READER, '--elwc', ...filesOf('elwc')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { context: Features; examples: Features[] });
    expect(lists).toHaveLength(labeled);
    const ours = lists.find((l) => l.context.prediction_id[0] === list)!;
    expect(ours.context).toEqual({
      prediction_id: [list],
      model_version: ['9'],
      label_source: ['feedback'],
      weight: [1],
      inclusion_probability: [1],
      user_id: ['u-42'],
      // an input field named like an item column keeps its value under another name
      input_position: ['home'],
      recent_km: [4.5, 6],
    });
    const weightAt = (position: number) => float32(1 / examination.get(position)!);
    expect(ours.examples).toEqual([
      {
        runs_item: ['run-river'],
        runs_grade: [0],
        position: [1],
        score: [2.5],
        examination: [float32(examination.get(1)!)],
        propensity_weight: [weightAt(1)],
        item_distance_km: [5.25],
        item_loop: [1],
        item_surface: ['trail'],
        item_tags: ['shade', 'water'],
      },
      {
        runs_item: ['run-park'],
        runs_grade: [3],
        position: [2],
        score: [1.75],
        examination: [float32(examination.get(2)!)],
        propensity_weight: [weightAt(2)],
        item_distance_km: [3],
        item_surface: ['grass'],
      },
      {
        runs_item: ['run-hill'],
        runs_grade: [0],
        position: [3],
        score: [-0.5],
        examination: [float32(examination.get(3)!)],
        propensity_weight: [weightAt(3)],
        item_distance_km: [10.5],
        item_tags: ['climb'],
      },
    ]);
    // every list's candidates in the order shown, graded as its clicks said
    for (const l of lists) expect(l.examples.map((e) => e.position[0])).toEqual(l.examples.map((_, i) => i + 1));

    // one tf.Example per candidate: the context's features beside the candidate's
    const items = execFileSync('python3', [READER, ...filesOf('item_tfrecord')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Features);
    expect(items).toHaveLength(candidatesWritten);
    expect(items.filter((e) => e.prediction_id[0] === list)).toEqual(ours.examples.map((e) => ({ ...ours.context, ...e })));

    // JSONL keeps the doubles, CSV and Parquet have the same rows
    const jsonl = filesOf('item_jsonl')
      .flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((r) => r.prediction_id === list);
    expect(jsonl[1]).toEqual({
      prediction_id: list,
      model_version: '9',
      label_source: 'feedback',
      weight: 1,
      inclusion_probability: 1,
      runs_item: 'run-park',
      runs_grade: 3,
      position: 2,
      score: 1.75,
      examination: examination.get(2),
      propensity_weight: 1 / examination.get(2)!,
      item_distance_km: 3,
      item_surface: 'grass',
      // (an empty list is left out, as an input feature's is)
      user_id: 'u-42',
      input_position: 'home',
      recent_km: [4.5, 6],
    });
    expect(jsonl[0].item_loop).toBe(1);
    const csv = filesOf('item_csv').flatMap((f) => parse<Record<string, string>>(fs.readFileSync(f, 'utf8'), { columns: true }));
    expect(csv).toHaveLength(candidatesWritten);
    expect(csv.filter((r) => r.prediction_id === list).map((r) => [r.runs_item, r.runs_grade, r.position, r.item_tags])).toEqual([
      ['run-river', '0', '1', '["shade","water"]'],
      ['run-park', '3', '2', ''],
      ['run-hill', '0', '3', '["climb"]'],
    ]);
    let parquet = 0;
    for (const file of filesOf('item_parquet')) {
      const reader = await ParquetReader.openFile(file);
      const cursor = reader.getCursor();
      for (let row = (await cursor.next()) as Record<string, unknown> | null; row; row = (await cursor.next()) as Record<string, unknown> | null) {
        parquet++;
        if (row.prediction_id === list && row.runs_item === 'run-river') {
          expect(row).toMatchObject({ position: 1n, runs_grade: 0n, score: 2.5, propensity_weight: 1 / examination.get(1)!, item_loop: [1n] });
        }
      }
      await reader.close();
    }
    expect(parquet).toBe(candidatesWritten);

    // written again after the estimate moved on (more traffic, another report): the same bytes, weighted as when opened
    const more = recommenderTraffic({ days: 2, listsPerDay: 40, positions: 10, shiftDay: 99, now: Date.now(), seed: 7 });
    expect((await post('/predictions/batch', more.predictions)).status).toBe(200);
    expect((await post('/feedback', more.events)).status).toBe(201);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/clicks?days=8`, { token: admin })).status).toBe(200);
    const [version] = await app.sql(`SELECT v.id FROM export_versions v JOIN export_spans s ON s.id = v.span_id WHERE s.project_id = $1`, [project.id]);
    fs.rmSync(exported.directory, { recursive: true });
    await app.sql(`UPDATE export_versions SET state = 'writing' WHERE id = $1`, [version.id]);
    const again = await exportsService.writeVersion(entity, version.id, { shardRows: 200 });
    expect(again.manifest.files.map((f) => [f.path, f.sha256])).toEqual(manifest.files.map((f) => [f.path, f.sha256]));
  });
});

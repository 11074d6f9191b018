import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../server/src/database/data-source';
import { migrations } from '../../server/src/database/migrations';
import { QuestionKinds1764260000000 } from '../../server/src/database/migrations/1764260000000-question-kinds';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { decodeExample, readTfRecordFile } from '../../libs/tfrecord/src';
import { createUser } from '../factories';
import { createDatabase } from '../helpers/test-database';
import { startTestApp, TestApp } from '../helpers/test-app';

const LABELS = [
  { name: 'ham', hotkey: '1' },
  { name: 'spam', hotkey: '2' },
];

/**
 * A database populated before question kinds (every migration before it, and the functions
 * those migrations made), then opened by today's server: the project becomes one label question
 * named "label", every stored answer, review, gold item and label gains its answers under that
 * name, nothing else changes, and the old request bodies keep working on the migrated data.
 */
describe('question kinds: a populated single-label database migrates in place', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-migrate-'));
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let app: TestApp | undefined;
  const ids = {
    project: randomUUID(),
    rater: randomUUID(),
    p1: randomUUID(),
    p2: randomUUID(),
    p3: randomUUID(),
    t1: randomUUID(),
    t2: randomUUID(),
    t3: randomUUID(),
  };

  beforeAll(async () => {
    database = await createDatabase({ empty: true });
    const before = new DataSource({ ...dataSourceOptions(database.url, 2), migrations: migrations.slice(0, migrations.indexOf(QuestionKinds1764260000000)) });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    const q = (sql: string, values: unknown[] = []) => before.query(sql, values);
    await q(`INSERT INTO users (id, email, password_hash, role) VALUES ($1, 'old-rater@example.com', 'x', 'rater')`, [ids.rater]);
    await q(
      `INSERT INTO projects (id, slug, name, task_type, labels, routing, feedback_rules, export_settings, labeling_settings)
       VALUES ($1, 'legacy', 'Legacy', 'single_label', $2, '{"strategy":"least_confidence","threshold":0,"explorationRate":0,"budget":{},"contradictionConfidence":0.8,"dedupeWindowMinutes":0,"sliceBoosts":{}}',
               '{"rules":[]}', '{"formats":["tfrecord"],"splits":{"train":100,"eval":0},"sources":["feedback","consensus","review","gold"],"maskedFields":"drop"}',
               '{"leaseSeconds":120,"agreementThreshold":0.6,"showPrediction":false,"goldRate":0,"goldMinAnswers":10,"goldMinAccuracy":0.7,"consensus":"majority"}')`,
      [ids.project, JSON.stringify(LABELS)],
    );
    await q(`INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, 'rater')`, [ids.rater, ids.project]);
    for (const [id, n] of [
      [ids.p1, 1],
      [ids.p2, 2],
      [ids.p3, 3],
    ] as const)
      await q(
        `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, uncertainty)
         VALUES ($1, $2, 'm', '1', $3, '{"ham":0.6,"spam":0.4}', 'ham', 0.6, now(), 0.4)`,
        [ids.project, id, JSON.stringify({ subject: `mail ${n}`, n })],
      );
    // p1 decided by consensus over a superseded feedback label; p2 half answered; p3 decided in review
    await q(
      `INSERT INTO tasks (id, project_id, prediction_id, reason, priority, inclusion_probability, required_annotations, annotations_count, state) VALUES
         ($1, $4, $5, 'uncertain', 1, 1, 1, 1, 'completed'), ($2, $4, $6, 'uncertain', 1, 1, 2, 1, 'queued'), ($3, $4, $7, 'uncertain', 1, 1, 1, 1, 'completed')`,
      [ids.t1, ids.t2, ids.t3, ids.project, ids.p1, ids.p2, ids.p3],
    );
    await q(
      `INSERT INTO annotations (id, project_id, task_id, rater_id, label) VALUES (gen_random_uuid(), $1, $2, $5, 'spam'), (gen_random_uuid(), $1, $3, $5, 'ham'), (gen_random_uuid(), $1, $4, $5, 'ham')`,
      [ids.project, ids.t1, ids.t2, ids.t3, ids.rater],
    );
    await q(`INSERT INTO labels (project_id, prediction_id, value, source, rule, superseded_at) VALUES ($1, $2, 'ham', 'feedback', 'click', now())`, [
      ids.project,
      ids.p1,
    ]);
    await q(
      `INSERT INTO labels (project_id, prediction_id, value, source, agreement, task_id, contradicts_prediction) VALUES ($1, $2, 'spam', 'consensus', 1, $3, true)`,
      [ids.project, ids.p1, ids.t1],
    );
    await q(`INSERT INTO task_reviews (task_id, project_id, label) VALUES ($1, $2, 'spam')`, [ids.t3, ids.project]);
    await q(`INSERT INTO labels (project_id, prediction_id, value, source, agreement, task_id) VALUES ($1, $2, 'spam', 'review', 0, $3)`, [
      ids.project,
      ids.p3,
      ids.t3,
    ]);
    await q(`INSERT INTO gold_items (project_id, input, label) VALUES ($1, '{"subject":"gold"}', 'spam')`, [ids.project]);
    // the click behind p1's feedback label, and one still waiting for a prediction, in another month
    await q(
      `INSERT INTO feedback_events (project_id, id, prediction_id, type, value, occurred_at, applied_at) VALUES
         ($1, 'click-1', $2, 'click', '"yes"', now(), now()), ($1, 'click-2', gen_random_uuid(), 'click', NULL, now() - interval '40 days', NULL)`,
      [ids.project, ids.p1],
    );
    await before.destroy();
    app = await startTestApp({ EXPORT_ROOT: root }, { databaseUrl: database.url });
  });
  afterAll(async () => {
    await app?.close();
    await database.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('moves the stored predictions into partitions of their own, a month each, every column kept', async () => {
    const rows = await app!.sql(
      `SELECT id::text, input, occurred_on = (occurred_at AT TIME ZONE 'UTC')::date AS dated, tableoid::regclass::text AS partition
         FROM predictions WHERE project_id = $1 ORDER BY input->>'n'`,
      [ids.project],
    );
    expect(rows.map((r) => [r.id, r.input, r.dated])).toEqual([
      [ids.p1, { subject: 'mail 1', n: 1 }, true],
      [ids.p2, { subject: 'mail 2', n: 2 }, true],
      [ids.p3, { subject: 'mail 3', n: 3 }, true],
    ]);
    const [partition] = await app!.sql(
      `SELECT name, to_on - from_on AS days, extract(day FROM from_on)::int AS starts FROM prediction_partitions WHERE project_id = $1`,
      [ids.project],
    );
    expect(rows.every((r) => r.partition === partition.name)).toBe(true);
    expect(partition.starts).toBe(1);
    expect(partition.days).toBeGreaterThanOrEqual(28);
  });

  it('moves the feedback events into partitions of their own, a month each, every column kept', async () => {
    const rows = await app!.sql(
      `SELECT id, prediction_id::text, type, value, applied_at IS NOT NULL AS applied, occurred_on = (occurred_at AT TIME ZONE 'UTC')::date AS dated,
              tableoid::regclass::text AS partition
         FROM feedback_events WHERE project_id = $1 ORDER BY id`,
      [ids.project],
    );
    expect(rows.map((r) => [r.id, r.type, r.value, r.applied, r.dated])).toEqual([
      ['click-1', 'click', 'yes', true, true],
      ['click-2', 'click', null, false, true],
    ]);
    expect(rows[0].prediction_id).toBe(ids.p1);
    const partitions = await app!.sql(`SELECT name, extract(day FROM from_on)::int AS starts FROM feedback_partitions WHERE project_id = $1 ORDER BY from_on`, [
      ids.project,
    ]);
    expect(partitions.map((p) => p.starts)).toEqual([1, 1]);
    expect(rows.map((r) => r.partition)).toEqual([partitions[1].name, partitions[0].name]);
  });

  it('makes the project one label question and keeps every answer, review, gold item and label under it', async () => {
    const admin = await app!.login();
    const project = await app!.request('GET', '/api/v1/projects/legacy', { token: admin });
    expect(project.body).toMatchObject({
      taskType: 'single_label',
      labels: LABELS,
      questions: [{ name: 'label', kind: 'label', required: true, labels: LABELS }],
      routingQuestion: 'label',
    });
    const sql = (text: string) => app!.sql(text, [ids.project]);
    expect(await sql(`SELECT label, answers FROM annotations WHERE project_id = $1 ORDER BY label`)).toEqual([
      { label: 'ham', answers: { label: 'ham' } },
      { label: 'ham', answers: { label: 'ham' } },
      { label: 'spam', answers: { label: 'spam' } },
    ]);
    expect(await sql(`SELECT value, source, superseded_at IS NULL AS current, answers FROM labels WHERE project_id = $1 ORDER BY id`)).toEqual([
      { value: 'ham', source: 'feedback', current: false, answers: { label: 'ham' } },
      { value: 'spam', source: 'consensus', current: true, answers: { label: 'spam' } },
      { value: 'spam', source: 'review', current: true, answers: { label: 'spam' } },
    ]);
    expect(await sql(`SELECT label, answers FROM task_reviews WHERE project_id = $1`)).toEqual([{ label: 'spam', answers: { label: 'spam' } }]);
    expect(await sql(`SELECT label, answers FROM gold_items WHERE project_id = $1`)).toEqual([{ label: 'spam', answers: { label: 'spam' } }]);
  });

  it('finishes the half-answered task with the old body, and exports label and label_name as before', async () => {
    const admin = await app!.login();
    const rater = await createUser(app!, admin, 'rater', { slug: 'legacy' });
    const claimed = await app!.request('POST', '/api/v1/projects/legacy/tasks/claim', { token: rater.token, body: {} });
    expect(claimed.body.task.id).toBe(ids.t2);
    const submitted = await app!.request('POST', `/api/v1/projects/legacy/tasks/${ids.t2}/annotations`, {
      token: rater.token,
      body: { id: randomUUID(), label: 'ham' },
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ annotation: { label: 'ham', answers: { label: 'ham' } }, taskState: 'completed' });
    expect(await app!.sql(`SELECT value, answers FROM labels WHERE prediction_id = $1 AND superseded_at IS NULL`, [ids.p2])).toEqual([
      { value: 'ham', answers: { label: 'ham' } },
    ]);

    const entity = (await app!.app.get(ProjectsService).findBySlug('legacy'))!;
    const exported = (await app!.app.get(ExportsService).exportNext(entity, { shardRows: 100 }))!;
    expect(exported.rows).toBe(3);
    const examples = [];
    for (const file of exported.manifest.files.filter((f) => f.format === 'tfrecord'))
      for await (const record of readTfRecordFile(path.join(exported.directory, file.path))) examples.push(decodeExample(record));
    const plain = (feature: { values: unknown[] }) =>
      feature.values.map((v) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? Buffer.from(v).toString() : v));
    const byN = new Map(examples.map((e) => [plain(e.n)[0], e]));
    expect([1, 2, 3].map((n) => [plain(byN.get(n)!.label), plain(byN.get(n)!.label_name)])).toEqual([
      [[1], ['spam']],
      [[0], ['ham']],
      [[1], ['spam']],
    ]);
  });
});

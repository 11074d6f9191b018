import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, type TestApp } from '../helpers/test-app';

const { ParquetReader } = createRequire(require.resolve('../../server/package.json'))('@dsnp/parquetjs') as typeof import('@dsnp/parquetjs');
const DAY_MS = 86_400_000;

describe('retention: old predictions nothing needs go whole partitions at a time, archived first; the needed ones stay', () => {
  const archiveRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-archive-'));
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ ARCHIVE_ROOT: archiveRoot });
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(archiveRoot, { recursive: true, force: true });
  });

  /** `rows` predictions of one old day (its partition made first), written by SQL: the setup is not what a test measures. */
  async function seedDay(projectId: string, day: string, rows: number): Promise<void> {
    await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[$2::date], true)`, [projectId, day]);
    await app.sql(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on)
       SELECT $1, gen_random_uuid(), 'm', '1', jsonb_build_object('n', i), '{"ham": 0.9, "spam": 0.1}', 'ham', 0.9, $2::date + interval '1 hour', $2::date
         FROM generate_series(1, $3::int) AS i`,
      [projectId, day, rows],
    );
  }

  it('drops the unneeded, keeps tasked and labeled predictions with everything they carry, archives exactly what it removes, and capture goes on', async () => {
    const project = await createProject(app, admin, {
      routing: { strategy: 'least_confidence', threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 },
      retention: { days: 7, archive: true },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const old = new Date(Date.now() - 30 * DAY_MS);
    const recent = new Date(Date.now() - 3 * DAY_MS);
    const make = (i: number, at: Date, uncertain: boolean) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      timestamp: at.toISOString(),
      // a large integer and a nested list, to be archived exactly as stored
      input: { text: `mail ${i}`, account: '12345678901234567890', big: 9007199254740991, tokens: ['a', 'b'] },
      slice: { country: i % 2 ? 'FR' : 'DE' },
      scores: uncertain ? { ham: 0.5, spam: 0.5 } : { ham: 0.95, spam: 0.05 },
      // a committee and an embedding (0.1 is kept as the float32 nearest it), archived and restored as stored
      committee: { challenger: { ham: 0.4, spam: 0.6 } },
      embedding: [0.1, -0.25, i],
    });
    const tasked = Array.from({ length: 10 }, (_, i) => make(i, old, true));
    const unneeded = Array.from({ length: 20 }, (_, i) => make(100 + i, old, false));
    const young = Array.from({ length: 5 }, (_, i) => make(200 + i, recent, false));
    const body = [...tasked, ...unneeded, ...young];
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body })).body).toMatchObject({
      accepted: 35,
      duplicates: 0,
    });
    // half the tasks labeled by a rater; the other half still queued
    const rater = await createUser(app, admin, 'rater', project);
    for (let i = 0; i < 5; i++) {
      const task = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task;
      expect(
        (
          await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
            token: rater.token,
            body: { id: randomUUID(), label: 'spam' },
          })
        ).status,
      ).toBe(201);
    }

    // as of 25 days ago the old day is within the 7 days: nothing goes; a time after now is refused
    const asOf = new Date(Date.now() - 25 * DAY_MS).toISOString();
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: { asOf } })).body).toMatchObject({
      dropped: 0,
      partitions: 0,
    });
    const future = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, {
      token: admin,
      body: { asOf: new Date(Date.now() + DAY_MS).toISOString() },
    });
    expect([future.status, future.body.code, future.body.field]).toEqual([400, 'retention/as_of_in_future', 'asOf']);
    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ dropped: 20, kept: 10, archived: 20, partitions: 1, deferred: 0 });
    expect(run.body.files).toHaveLength(1);
    expect(path.relative(archiveRoot, run.body.files[0])).toMatch(
      new RegExp(`^${project.slug}/date=${old.toISOString().slice(0, 10)}/part-[a-z0-9_]+\\.parquet$`),
    );
    const left = await app.sql(`SELECT id::text FROM predictions WHERE project_id = $1 ORDER BY id`, [project.id]);
    expect(left.map((r) => r.id)).toEqual([...tasked, ...young].map((p) => p.id).sort());
    // the archive holds exactly the removed predictions, every column as stored
    const reader = await ParquetReader.openFile(run.body.files[0]);
    const cursor = reader.getCursor();
    const archived: Array<Record<string, unknown>> = [];
    for (let row = await cursor.next(); row; row = await cursor.next()) archived.push(row as Record<string, unknown>);
    await reader.close();
    expect(archived.map((r) => r.id).sort()).toEqual(unneeded.map((p) => p.id).sort());
    const first = archived.find((r) => r.id === unneeded[0].id)!;
    expect(JSON.parse(first.input as string)).toEqual(unneeded[0].input);
    expect(first.input).toContain('"account": "12345678901234567890"');
    expect(JSON.parse(first.slice as string)).toEqual(unneeded[0].slice);
    expect((first.occurred_at as Date).toISOString()).toBe(old.toISOString());

    // the kept predictions still serve their tasks; the remaining tasks can be claimed
    const next = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task;
    expect(tasked.map((p) => p.id)).toContain(
      next.predictionId ?? (await app.sql(`SELECT prediction_id FROM tasks WHERE id = $1`, [next.id]))[0].prediction_id,
    );

    // the archive read back as a backfill: stored again, routed under the policy of now (which takes them all)
    expect(
      (
        await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
          token: admin,
          body: { routing: { strategy: 'least_confidence', threshold: 0.01, explorationRate: 0, dedupeWindowMinutes: 0 } },
        })
      ).status,
    ).toBe(200);
    const day = old.toISOString().slice(0, 10);
    const restored = await app.request('POST', `/api/v1/projects/${project.slug}/retention/restore`, { token: admin, body: { from: day, to: day } });
    expect(restored.body).toEqual({ files: 1, read: 20, restored: 20, tasks: 20 });
    const back = await app.sql(
      `SELECT id::text, input, occurred_at, committee, embedding, embedding[1]::float8 AS first FROM predictions WHERE project_id = $1 AND id = $2`,
      [project.id, unneeded[0].id],
    );
    expect(back).toEqual([
      {
        id: unneeded[0].id,
        input: unneeded[0].input,
        occurred_at: old,
        committee: unneeded[0].committee,
        embedding: [0.1, -0.25, 100],
        first: Math.fround(0.1),
      },
    ]);
    expect(
      (await app.request('POST', `/api/v1/projects/${project.slug}/retention/restore`, { token: admin, body: { from: day, to: day } })).body,
    ).toMatchObject({
      read: 20,
      restored: 0,
    });
    const backwards = await app.request('POST', `/api/v1/projects/${project.slug}/retention/restore`, { token: admin, body: { from: day, to: '2000-01-01' } });
    expect([backwards.status, backwards.body.field]).toEqual([400, 'to']);

    // a second run has nothing to remove (what was restored is tasked now); capture into the removed day goes on
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} })).body).toMatchObject({
      dropped: 0,
      kept: 30,
    });
    const late = make(300, new Date(old.getTime() + 60_000), false);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [late] })).body).toMatchObject({
      accepted: 1,
      duplicates: 0,
    });
  });

  it('lets capture go on while it runs: every batch sent during retention is stored, and the old partition goes', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 7 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const oldDay = new Date(Date.now() - 20 * DAY_MS).toISOString().slice(0, 10);
    // an old day of traffic
    await seedDay(project.id, oldDay, 20_000);
    let sending = true;
    const replies: Array<{ status: number; accepted: number }> = [];
    const sender = (async () => {
      while (sending || replies.length < 10) {
        const body = Array.from({ length: 100 }, () => ({ model: { name: 'm', version: '1' }, input: { text: 'now' }, scores: { ham: 0.9, spam: 0.1 } }));
        const reply = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body });
        replies.push({ status: reply.status, accepted: reply.body.accepted });
      }
    })();
    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    sending = false;
    await sender;
    expect(run.body).toMatchObject({ dropped: 20_000, kept: 0, partitions: 1, deferred: 0 });
    expect(replies.every((r) => r.status === 200 && r.accepted === 100)).toBe(true);
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id]);
    expect(n).toBe(replies.length * 100);
  });

  it('lets two runs reach the same days at once (the hourly job and one asked for): each day retired once, neither fails', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 7, archive: true } });
    const days = [20, 19, 18].map((ago) => new Date(Date.now() - ago * DAY_MS).toISOString().slice(0, 10));
    for (const day of days) await seedDay(project.id, day, 3_000);
    const run = () => app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    const replies = await Promise.all([run(), run(), run()]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    // every old prediction removed and archived exactly once over the three runs
    expect(replies.reduce((sum, r) => sum + (r.body.dropped as number), 0)).toBe(9_000);
    expect(replies.reduce((sum, r) => sum + (r.body.archived as number), 0)).toBe(9_000);
    expect(replies.flatMap((r) => r.body.files as string[])).toHaveLength(3);
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id]);
    expect(n).toBe(0);
  });

  it('retires one partition of a project at a time, whoever asks (two swaps at once deadlocked: a 500 in the 20-million month)', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 7 } });
    const day = new Date(Date.now() - 20 * DAY_MS).toISOString().slice(0, 10);
    await seedDay(project.id, day, 100);
    // another retirement of this project holds its turn
    const other = new Client({ connectionString: app.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(${0x6266_0030}, hashtext($1))`, [project.id]);
      let settled = false;
      const run = app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} }).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 1_500));
      expect(settled).toBe(false);
      const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id]);
      expect(n).toBe(100);
      await other.query('COMMIT');
      const reply = await run;
      expect({ status: reply.status, dropped: reply.body.dropped }).toEqual({ status: 200, dropped: 100 });
    } finally {
      await other.end();
    }
  });

  it('archives a day larger than a read and a row group, row for row, in time order', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 7, archive: true } });
    const oldDay = new Date(Date.now() - 15 * DAY_MS).toISOString().slice(0, 10);
    await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[$2::date], true)`, [project.id, oldDay]);
    // written newest first, so the file's order is the archive's doing; two rows share each second;
    // values as capture keeps them (an integer past 2^53 only as a string)
    await app.sql(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on)
       SELECT $1, gen_random_uuid(), 'm', '1', jsonb_build_object('n', i, 'largest', 9007199254740991, 'sum', 0.30000000000000004, 'account', '12345678901234567890'), '{"ham": 0.9, "spam": 0.1}', 'ham', 0.9,
              $2::date + (i / 2) * interval '1 second', $2::date
         FROM generate_series(9000, 1, -1) AS i`,
      [project.id, oldDay],
    );
    const stored = await app.sql(`SELECT id::text, input::text AS input FROM predictions WHERE project_id = $1 ORDER BY occurred_at, id`, [project.id]);
    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    expect(run.body).toMatchObject({ dropped: 9_000, archived: 9_000, partitions: 1 });
    expect(run.body.files).toHaveLength(1);
    const reader = await ParquetReader.openFile(run.body.files[0]);
    // more than one row group: the file was written as its rows came
    expect(reader.metadata!.row_groups.length).toBeGreaterThan(1);
    const cursor = reader.getCursor();
    const archived: Array<{ id: string; input: string }> = [];
    for (let row = await cursor.next(); row; row = await cursor.next()) archived.push(row as { id: string; input: string });
    await reader.close();
    expect(archived.map((r) => [r.id, r.input])).toEqual(stored.map((r) => [r.id, r.input]));

    // read back a batch at a time, each in its own transaction; a second restore finds them all stored
    const restore = () => app.request('POST', `/api/v1/projects/${project.slug}/retention/restore`, { token: admin, body: { from: oldDay, to: oldDay } });
    expect((await restore()).body).toMatchObject({ files: 1, read: 9_000, restored: 9_000 });
    const back = await app.sql(`SELECT id::text, input::text AS input FROM predictions WHERE project_id = $1 ORDER BY occurred_at, id`, [project.id]);
    expect(back).toEqual(stored);
    expect((await restore()).body).toMatchObject({ files: 1, read: 9_000, restored: 0 });
  });

  it('keeps a prediction for each thing that needs it (a task, a label, an open window, unapplied feedback), and leaves a partition whose table stays busy for the next run', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 7 } });
    const oldDay = new Date(Date.now() - 20 * DAY_MS).toISOString().slice(0, 10);
    await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[$2::date], true)`, [project.id, oldDay]);
    const ids: string[] = (
      await app.sql(
        // received on their day, as traffic was
        `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on, received_at)
         SELECT $1, gen_random_uuid(), 'm', '1', jsonb_build_object('n', i), '{"ham": 0.9, "spam": 0.1}', 'ham', 0.9, $2::date + interval '1 hour', $2::date,
                $2::date + interval '1 hour'
           FROM generate_series(1, 500) AS i RETURNING id::text`,
        [project.id, oldDay],
      )
    ).map((r) => r.id);
    const [tasked, labeled, windowed, awaited] = ids;
    await app.sql(
      `INSERT INTO tasks (project_id, prediction_id, reason, priority, inclusion_probability, required_annotations) VALUES ($1, $2, 'uncertain', 1, 1, 1)`,
      [project.id, tasked],
    );
    await app.sql(`INSERT INTO labels (project_id, prediction_id, value, source, answers) VALUES ($1, $2, 'spam', 'feedback', '{"label": "spam"}')`, [
      project.id,
      labeled,
    ]);
    await app.sql(`INSERT INTO feedback_windows (project_id, prediction_id, closes_at) VALUES ($1, $2, now() + interval '1 day')`, [project.id, windowed]);
    await app.sql(`SELECT backflow_feedback_partitions($1, ARRAY[current_date], true)`, [project.id]);
    await app.sql(
      `INSERT INTO feedback_events (project_id, id, prediction_id, type, occurred_at, occurred_on) VALUES ($1, 'e1', $2, 'click', now(), current_date)`,
      [project.id, awaited],
    );
    // a gold task names no prediction: it keeps none, and does not stop the others from going
    await app.sql(
      `WITH g AS (INSERT INTO gold_items (project_id, input, label, answers) VALUES ($1, '{"n": 0}', 'spam', '{"label": "spam"}') RETURNING id)
       INSERT INTO tasks (project_id, gold_item_id, reason, priority, inclusion_probability, required_annotations) SELECT $1, id, 'gold', 1, 1, 1 FROM g`,
      [project.id],
    );

    // a transaction holding the project’s table (as a long capture would) for longer than retention waits: the partition is left
    const parent = `predictions_${project.id.replace(/-/g, '')}`;
    const holder = new Client({ connectionString: app.databaseUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ONLY ${parent} IN ROW EXCLUSIVE MODE`);
    const busy = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    await holder.query('ROLLBACK');
    await holder.end();
    expect(busy.body).toMatchObject({ dropped: 0, partitions: 0, deferred: 1 });
    expect(await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id])).toEqual([{ n: 500 }]);

    // a long reader of another of the project's partitions (a monitoring query on today) does not hold it up: the swap locks the project's table alone
    await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[current_date], false)`, [project.id]);
    const [today] = await app.sql(`SELECT name FROM prediction_partitions WHERE project_id = $1 AND from_on <= current_date AND to_on > current_date`, [
      project.id,
    ]);
    const reader = new Client({ connectionString: app.databaseUrl });
    await reader.connect();
    await reader.query('BEGIN');
    await reader.query(`LOCK TABLE "${today.name}" IN ACCESS SHARE MODE`);
    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    await reader.query('ROLLBACK');
    await reader.end();
    expect(run.body).toMatchObject({ dropped: 496, kept: 4, partitions: 1, deferred: 0 });
    const left = await app.sql(`SELECT id::text FROM predictions WHERE project_id = $1 ORDER BY id`, [project.id]);
    expect(left.map((r) => r.id)).toEqual([tasked, labeled, windowed, awaited].sort());

    // feedback still waits for two of them: the next run looks at the partition again
    const retention = async () => (await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} })).body;
    expect(await retention()).toMatchObject({ dropped: 0, kept: 4, partitions: 1 });
    // the window closes and the event is applied: those two go, and the partition holds only what a task and a label keep
    await app.sql(`DELETE FROM feedback_windows WHERE project_id = $1`, [project.id]);
    await app.sql(`UPDATE feedback_events SET applied_at = now() WHERE project_id = $1`, [project.id]);
    expect(await retention()).toMatchObject({ dropped: 2, kept: 2, partitions: 1 });
    // nothing removes a task or a label: later runs pass the partition by, without reading it, and still let feedback's old
    // days go (feedback for the old day, as a product that sends it late would)
    await app.sql(`SELECT backflow_feedback_partitions($1, ARRAY[$2::date], true)`, [project.id, oldDay]);
    const oldFeedbackDays = async () =>
      (await app.sql(`SELECT count(*)::int AS n FROM feedback_partitions WHERE project_id = $1 AND from_on = $2::date`, [project.id, oldDay]))[0].n;
    expect(await oldFeedbackDays()).toBe(1);
    expect(await retention()).toMatchObject({ dropped: 0, kept: 0, partitions: 0, deferred: 0 });
    for (let i = 0; i < 100 && (await oldFeedbackDays()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await oldFeedbackDays()).toBe(0);
    // until a prediction is stored in it again (sent late, as here, or restored): then it is looked at, and what nothing needs goes
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const sentLate = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: key,
      body: [{ model: { name: 'm', version: '1' }, timestamp: `${oldDay}T05:00:00Z`, input: { n: 501 }, scores: { ham: 0.9, spam: 0.1 } }],
    });
    expect(sentLate.body).toMatchObject({ accepted: 1 });
    expect(await retention()).toMatchObject({ dropped: 1, kept: 2, partitions: 1 });
    expect(await retention()).toMatchObject({ dropped: 0, kept: 0, partitions: 0 });
    const kept = await app.sql(`SELECT id::text FROM predictions WHERE project_id = $1 ORDER BY id`, [project.id]);
    expect(kept.map((r) => r.id)).toEqual([tasked, labeled].sort());
  });

  it('keeps everything of a project without retention', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const at = new Date(Date.now() - 400 * DAY_MS).toISOString();
    await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: key,
      body: [{ model: { name: 'm', version: '1' }, timestamp: at, input: { a: 1 }, scores: { ham: 0.9, spam: 0.1 } }],
    });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} })).body).toEqual({
      dropped: 0,
      kept: 0,
      archived: 0,
      files: [],
      partitions: 0,
      deferred: 0,
    });
  });
});

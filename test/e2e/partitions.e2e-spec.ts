import { randomUUID } from 'node:crypto';
import { createApiKey, createProject } from '../factories';
import { startTestApp, type TestApp } from '../helpers/test-app';

const DAY_MS = 86_400_000;
const dayOf = (at: Date) => at.toISOString().slice(0, 10);

describe('predictions partitioned by project and by the day of their timestamp', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  const prediction = (id = randomUUID(), timestamp?: Date) => ({
    id,
    model: { name: 'm', version: '1' },
    input: { text: 'hello' },
    scores: { ham: 0.9, spam: 0.1 },
    ...(timestamp ? { timestamp: timestamp.toISOString() } : {}),
  });
  const partitionsOf = (projectId: string) =>
    app.sql<{ from_on: string; to_on: string; rows: number }>(
      `SELECT to_char(pp.from_on, 'YYYY-MM-DD') AS from_on, to_char(pp.to_on, 'YYYY-MM-DD') AS to_on,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', pp.name), false, true, '')))[1]::text::int AS rows
         FROM prediction_partitions pp WHERE pp.project_id = $1 ORDER BY pp.from_on`,
      [projectId],
    );

  it('keeps a month a partition without retention and a day a partition with it, made as traffic needs them, each row in its own', async () => {
    const now = new Date();
    const days = [0, 40, 75].map((back) => new Date(now.getTime() - back * DAY_MS));
    const kept = await createProject(app, admin, { routing: { explorationRate: 0 } });
    const key = (await createApiKey(app, admin, kept.slug, ['ingest'])).secret;
    const batch = days.flatMap((at) => Array.from({ length: 3 }, () => prediction(randomUUID(), at)));
    expect((await app.request('POST', `/api/v1/projects/${kept.slug}/predictions/batch`, { token: key, body: batch })).body).toMatchObject({
      accepted: 9,
      duplicates: 0,
    });
    const monthly = await partitionsOf(kept.id);
    expect(monthly).toHaveLength(new Set(days.map((d) => d.toISOString().slice(0, 7))).size);
    for (const p of monthly) {
      expect(p.from_on.slice(8)).toBe('01');
      expect(p.rows).toBe(3 * days.filter((d) => dayOf(d) >= p.from_on && dayOf(d) < p.to_on).length);
    }

    const short = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 7 } });
    const shortKey = (await createApiKey(app, admin, short.slug, ['ingest'])).secret;
    await app.request('POST', `/api/v1/projects/${short.slug}/predictions/batch`, { token: shortKey, body: batch });
    const daily = await partitionsOf(short.id);
    expect(daily.map((p) => p.from_on)).toEqual(days.map(dayOf).sort());
    for (const p of daily) expect([p.rows, Date.parse(p.to_on) - Date.parse(p.from_on)]).toEqual([3, DAY_MS]);
    // a read by id finds a prediction in whichever partition holds it
    const [oldest] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1 AND id = $2`, [short.id, batch[8].id]);
    expect(oldest.n).toBe(1);
  });

  it('stores a prediction once: a retry with its timestamp at any distance, and one without a timestamp the next day', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 30 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const send = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body });
    const sendOne = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: key, body });
    const old = prediction(randomUUID(), new Date(Date.now() - 20 * DAY_MS));
    expect((await send([old])).body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await send([old])).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await sendOne(old)).body).toMatchObject({ accepted: 0, duplicates: 1 });

    // sent without a timestamp yesterday (its arrival time): the retry today is the same prediction
    const untimed = [prediction(), prediction()];
    expect((await send(untimed)).body).toMatchObject({ accepted: 2, duplicates: 0 });
    await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date - 1], true)`, [project.id]);
    await app.sql(
      `UPDATE predictions SET occurred_at = occurred_at - interval '1 day', occurred_on = occurred_on - 1 WHERE project_id = $1 AND id = ANY($2::uuid[])`,
      [project.id, untimed.map((p) => p.id)],
    );
    expect((await send(untimed)).body).toMatchObject({ accepted: 0, duplicates: 2 });
    expect((await sendOne(untimed[0])).body).toMatchObject({ accepted: 0, duplicates: 1 });
    // and through COPY, the path of large batches
    const many = Array.from({ length: 200 }, () => prediction());
    expect((await send(many)).body).toMatchObject({ accepted: 200, duplicates: 0 });
    await app.sql(
      `UPDATE predictions SET occurred_at = occurred_at - interval '1 day', occurred_on = occurred_on - 1 WHERE project_id = $1 AND id = ANY($2::uuid[])`,
      [project.id, many.map((p) => p.id)],
    );
    expect((await send([...many, prediction()])).body).toMatchObject({ accepted: 1, duplicates: 200 });
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id]);
    expect(n).toBe(1 + 2 + 200 + 1);
  });

  it('drops a deleted project’s predictions table whole, not row by row', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [prediction(), prediction()] });
    const table = `predictions_${project.id.replace(/-/g, '')}`;
    expect((await app.sql(`SELECT to_regclass($1)::text AS t`, [table]))[0].t).toBe(table);
    expect((await app.request('DELETE', `/api/v1/projects/${project.slug}?confirm=${project.slug}`, { token: admin })).status).toBe(204);
    for (let i = 0; i < 100 && (await app.sql(`SELECT to_regclass($1)::text AS t`, [table]))[0].t !== null; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await app.sql(`SELECT to_regclass($1)::text AS t`, [table]))[0].t).toBeNull();
    expect(await app.sql(`SELECT * FROM prediction_partitions WHERE project_id = $1`, [project.id])).toEqual([]);
    // no key ties a prediction or a feedback event to its project: a deletion never cascades through them row by row
    const keys = await app.sql(
      `SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE contype = 'f' AND confrelid = 'projects'::regclass
          AND conrelid IN ('predictions'::regclass, 'feedback_events'::regclass)`,
    );
    expect(keys).toEqual([]);
  });

  it('makes a partition again when one this process knew of was removed, and goes on', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 30 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const at = new Date(Date.now() - 3 * DAY_MS);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [prediction(randomUUID(), at)] })).status).toBe(
      200,
    );
    // removed behind this process's back (as another node's retention would)
    const [partition] = await app.sql(`SELECT name FROM prediction_partitions WHERE project_id = $1`, [project.id]);
    await app.sql(`DROP TABLE ${partition.name}`);
    await app.sql(`DELETE FROM prediction_partitions WHERE project_id = $1`, [project.id]);
    expect(
      (await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [prediction(randomUUID(), at)] })).body,
    ).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: key, body: prediction(randomUUID(), at) })).status).toBe(201);
  });

  it('keeps feedback events the same way: a partition a day, an event stored once, and a deleted project’s events dropped whole', async () => {
    const project = await createProject(app, admin, { routing: { explorationRate: 0 }, retention: { days: 30 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const target = prediction();
    await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [target] });
    const send = (events: unknown[]) => app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events });
    const event = (back: number | undefined) => ({
      id: randomUUID(),
      predictionId: target.id,
      type: 'click',
      ...(back === undefined ? {} : { occurredAt: new Date(Date.now() - back * DAY_MS).toISOString() }),
    });
    const timed = [event(0), event(2), event(5)];
    expect((await send(timed)).body).toMatchObject({ accepted: 3, duplicates: 0 });
    const partitions = await app.sql(`SELECT to_on - from_on AS days FROM feedback_partitions WHERE project_id = $1`, [project.id]);
    expect(partitions).toEqual([{ days: 1 }, { days: 1 }, { days: 1 }]);
    expect((await send(timed)).body).toMatchObject({ accepted: 0, duplicates: 3 });

    // sent without a timestamp yesterday (its arrival time): the retry today is the same event
    const untimed = event(undefined);
    expect((await send([untimed])).body).toMatchObject({ accepted: 1, duplicates: 0 });
    await app.sql(`SELECT backflow_feedback_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date - 1], true)`, [project.id]);
    await app.sql(`UPDATE feedback_events SET occurred_at = occurred_at - interval '1 day', occurred_on = occurred_on - 1 WHERE project_id = $1 AND id = $2`, [
      project.id,
      untimed.id,
    ]);
    expect((await send([untimed])).body).toMatchObject({ accepted: 0, duplicates: 1 });
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM feedback_events WHERE project_id = $1`, [project.id]);
    expect(n).toBe(4);

    const table = `feedback_events_${project.id.replace(/-/g, '')}`;
    expect((await app.request('DELETE', `/api/v1/projects/${project.slug}?confirm=${project.slug}`, { token: admin })).status).toBe(204);
    for (let i = 0; i < 100 && (await app.sql(`SELECT to_regclass($1)::text AS t`, [table]))[0].t !== null; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await app.sql(`SELECT to_regclass($1)::text AS t`, [table]))[0].t).toBeNull();
    expect(await app.sql(`SELECT * FROM feedback_partitions WHERE project_id = $1`, [project.id])).toEqual([]);
  });
});

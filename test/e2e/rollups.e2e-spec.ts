import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MonitoringService } from '../../server/src/monitoring/monitoring.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject } from '../factories';
import { recommenderTraffic } from '../helpers/recommender-traffic';
import { startTestApp, type TestApp } from '../helpers/test-app';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('rollups: hourly aggregates outlive the raw predictions, and monitoring reads the same figures from them', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('a drift reference and the feedback rates computed before retention are equal after it removed their raw rows', async () => {
    const project = await createProject(app, admin, {
      routing: { strategy: 'least_confidence', threshold: 0.99, explorationRate: 0, dedupeWindowMinutes: 0 },
      retention: { days: 7, archive: false },
      monitoring: { windowHours: 24, baselineDays: 10, drift: { minCount: 10 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const now = Date.now();
    // the reference window runs from 11 days ago to 1 day ago: its predictions stay clear of its edges (an hour may pass between readings)
    const at = (ago: number) => new Date(now - ago).toISOString();
    const body: Array<Record<string, unknown>> = [];
    for (let day = 2; day <= 13; day++)
      for (let i = 0; i < 24; i++)
        body.push({
          id: randomUUID(),
          model: { name: 'runs', version: i % 3 ? 'v1' : 'v2' },
          timestamp: at(day * DAY_MS - 12 * HOUR_MS + i * 1_000_000),
          // numbers with a list among them, strings and a boolean: each kind of feature rolls up
          input: { distance: 3 + ((day * 7 + i) % 17) * 0.75, pace: [5 + (i % 4), 6.5], surface: ['road', 'trail', 'track'][i % 3], shoes: i % 2 === 0 },
          slice: { group: i % 4 === 0 ? 'new' : 'regular' },
          scores: { ham: 0.8, spam: 0.2 },
        });
    for (let i = 0; i < 40; i++)
      body.push({
        id: randomUUID(),
        model: { name: 'runs', version: 'v2' },
        timestamp: at(2 * HOUR_MS + i * 1_500_000),
        input: { distance: 10 + (i % 9), pace: [6], surface: i % 4 ? 'trail' : 'road', shoes: true },
        slice: { group: i % 4 === 0 ? 'new' : 'regular' },
        scores: { ham: 0.7, spam: 0.3 },
      });
    for (let i = 0; i < body.length; i += 100) {
      const batch = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: body.slice(i, i + 100) });
      expect([batch.status, batch.body.message]).toEqual([200, undefined]);
    }
    // clicks on a third of the predictions, some twice, ten minutes after each
    const events = body
      .filter((_, i) => i % 3 === 0)
      .flatMap((p, i) =>
        Array.from({ length: i % 2 ? 2 : 1 }, () => ({
          id: randomUUID(),
          predictionId: p.id,
          type: 'click',
          occurredAt: new Date(Date.parse(p.timestamp as string) + 600_000).toISOString(),
        })),
      );
    for (let i = 0; i < events.length; i += 100)
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events.slice(i, i + 100) })).status).toBe(201);

    const read = async () => {
      const monitoring = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring?hours=24`, { token: admin });
      const feedback = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/feedback?days=14`, { token: admin });
      expect([monitoring.status, feedback.status]).toEqual([200, 200]);
      return { drift: monitoring.body.drift, feedback: feedback.body };
    };
    const before = await read();
    const features = Object.fromEntries(before.drift.map((f: { feature: string; value: number | null }) => [f.feature, f.value]));
    // the current window's distances moved up against the reference: measured, with a value per feature
    expect(Object.keys(features).sort()).toEqual(['distance', 'pace', 'shoes', 'surface']);
    for (const value of Object.values(features)) expect(value).toEqual(expect.any(Number));
    expect(features.distance).toBeGreaterThan(0.1);
    const v1 = before.feedback.versions.find((v: { modelVersion: string }) => v.modelVersion === 'v1');
    expect(v1.predictions).toBe(12 * 16);

    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    expect(run.status).toBe(200);
    expect(run.body.dropped).toBeGreaterThanOrEqual(5 * 24);
    const [{ left }] = await app.sql(`SELECT count(*)::int AS left FROM predictions WHERE project_id = $1`, [project.id]);
    expect(left).toBe(body.length - run.body.dropped);

    // what was rolled adds up to what was sent, hour by hour; the removed hours also keep their clicks
    const rolled = await app.sql(
      `SELECT sum(predictions)::int AS predictions, count(*) FILTER (WHERE settled_at IS NOT NULL)::int AS settled,
              sum((feedback->'click'->>'events')::int)::int AS clicks
         FROM prediction_rollups WHERE project_id = $1`,
      [project.id],
    );
    expect(rolled[0].predictions).toBe(body.length - 40 + (await countRolledCurrent()));
    expect(rolled[0].settled).toBeGreaterThan(0);
    expect(rolled[0].clicks).toBeGreaterThan(0);

    // the clicks of the removed days go whole with their partitions once retention has removed the predictions
    const oldEvents = async () =>
      (
        await app.sql(`SELECT count(*)::int AS n FROM feedback_partitions WHERE project_id = $1 AND to_on <= (now() AT TIME ZONE 'UTC')::date - 7`, [
          project.id,
        ])
      )[0].n;
    for (let i = 0; i < 100 && (await oldEvents()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await oldEvents()).toBe(0);
    const [{ events: eventsLeft }] = await app.sql(`SELECT count(*)::int AS events FROM feedback_events WHERE project_id = $1`, [project.id]);
    expect(eventsLeft).toBeLessThan(events.length);

    const after = await read();
    expect(after).toEqual(before);

    // a prediction that arrives late for an hour already rolled (a model server that buffered it): the next run rolls that hour again
    const lateAt = new Date(now - 3 * DAY_MS - 30 * 60_000);
    const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
    const rolledIn = async () =>
      (
        await app.sql(`SELECT coalesce(sum(predictions), 0)::int AS n FROM prediction_rollups WHERE project_id = $1 AND hour = $2`, [
          project.id,
          hourOf(lateAt),
        ])
      )[0].n;
    const [{ n: raw }] = await app.sql(
      `SELECT count(*)::int AS n FROM predictions WHERE project_id = $1 AND occurred_at >= $2 AND occurred_at < $2::timestamptz + interval '1 hour'`,
      [project.id, hourOf(lateAt)],
    );
    expect(await rolledIn()).toBe(raw);
    const late = { ...body[0], id: randomUUID(), timestamp: lateAt.toISOString() };
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [late] })).status).toBe(200);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} })).status).toBe(200);
    expect(await rolledIn()).toBe(raw + 1);

    // a transaction that began before a run and committed after it stamped its row's arrival before the run: the next run still rolls its hour again
    const writer = new Client({ connectionString: app.databaseUrl });
    await writer.connect();
    await writer.query('BEGIN');
    await writer.query(
      `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on)
       SELECT $1, gen_random_uuid(), 'm', '1', '{}', '{"ham": 0.9, "spam": 0.1}', 'ham', 0.9, $2::timestamptz, ($2::timestamptz AT TIME ZONE 'UTC')::date`,
      [project.id, lateAt],
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} })).status).toBe(200);
    await writer.query('COMMIT');
    await writer.end();
    expect(await rolledIn()).toBe(raw + 1);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} })).status).toBe(200);
    expect(await rolledIn()).toBe(raw + 2);

    async function countRolledCurrent(): Promise<number> {
      // current-window predictions in hours already an hour old are rolled too
      const [{ n }] = await app.sql(
        `SELECT count(*)::int AS n FROM predictions p JOIN prediction_rollup_state s ON s.project_id = p.project_id
          WHERE p.project_id = $1 AND p.occurred_at >= now() - interval '1 day' AND p.occurred_at < s.rolled_through`,
        [project.id],
      );
      return n;
    }
  });

  it('a ranking’s click report of last fortnight is the same after retention removed its first week of lists', async () => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'runs', kind: 'ranking', grades: [0, 1, 2].map((value) => ({ value, name: `g${value}` })), maxItems: 5 }],
      routing: { strategy: 'margin', threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perDay: 0 } },
      // a purchase grades higher than a click: both are clicks, and a candidate clicked then bought counts once
      feedbackRules: {
        rules: [
          { eventType: 'click', grade: 1, windowMinutes: 60 },
          { eventType: 'purchase', grade: 2, windowMinutes: 60 },
        ],
      },
      retention: { days: 7, archive: false },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    // on the hour, so that the window and its buckets are the same for both readings
    const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const { predictions, events } = recommenderTraffic({ days: 14, listsPerDay: 12, positions: 5, shiftDay: 10, now });
    const purchases = events.filter((_, i) => i % 3 === 0).map((e) => ({ ...e, id: randomUUID(), type: 'purchase' }));
    // a view names an item too, but is no click: not counted
    const views = events.filter((_, i) => i % 4 === 1).map((e) => ({ ...e, id: randomUUID(), type: 'view' }));
    for (let i = 0; i < predictions.length; i += 200)
      expect(
        (await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions.slice(i, i + 200) })).status,
      ).toBe(200);
    const all = [...events, ...purchases, ...views];
    for (let i = 0; i < all.length; i += 500)
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: all.slice(i, i + 500) })).status).toBe(201);

    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const read = async () => {
      const { propensity: _propensity, ...report } = await app.app.get(MonitoringService).clicks(entity, { days: 15, bucket: 'day' }, new Date(now));
      return report;
    };
    const before = await read();
    expect(before).toMatchObject({ lists: predictions.length, impressions: predictions.length * 5, clicks: events.length });

    const run = await app.request('POST', `/api/v1/projects/${project.slug}/retention/run`, { token: admin, body: {} });
    expect(run.status).toBe(200);
    // the lists nobody clicked go; a click is a label (a graded one), and labeled lists stay
    expect(run.body.dropped).toBeGreaterThan(20);
    const [{ left }] = await app.sql(`SELECT count(*)::int AS left FROM predictions WHERE project_id = $1`, [project.id]);
    expect(left).toBe(predictions.length - run.body.dropped);

    const after = await read();
    expect(after).toEqual(before);
    // the removed days count from their rollups: every settled hour kept its lists' clicks by position
    const [kept] = await app.sql(
      `SELECT count(*)::int AS hours, count(*) FILTER (WHERE clicks IS NULL)::int AS without, sum((clicks->>'lists')::int)::int AS lists
         FROM prediction_rollups WHERE project_id = $1 AND settled_at IS NOT NULL`,
      [project.id],
    );
    expect(kept.hours).toBeGreaterThan(0);
    expect(kept.without).toBe(0);
    expect(kept.lists).toBeGreaterThanOrEqual(run.body.dropped);
  });
});

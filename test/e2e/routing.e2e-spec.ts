import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';
import { labelBody, LABELS, seeded, traffic } from '../factories/routing-traffic';

// the routing rules (target rate, exploration, thresholds per model version, budget, dedupe, contradiction) are in test/service/routing.service-spec.ts

describe('routing: preview and backfill over HTTP', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  async function setUp(routing: Record<string, unknown>) {
    const project = await createProject(app, admin, { labels: labelBody(LABELS), routing });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const tasks = () => app.sql(`SELECT t.id FROM tasks t WHERE t.project_id = $1`, [project.id]);
    return { ...project, key, tasks };
  }

  it('backfills older predictions under a changed policy, a capped page at a time', async () => {
    const project = await setUp({ threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 });
    const ingested = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: project.key,
      body: traffic(seeded(21), 250, { sharpness: 1 }),
    });
    expect(ingested.status).toBe(200);
    expect(await project.tasks()).toHaveLength(0);
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { routing: { threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 } },
    });
    expect(patched.status).toBe(200);

    const backfill = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token: admin, body });
    const first = await backfill({ limit: 100 });
    expect(first.status).toBe(200);
    expect(first.body.examined).toBe(100);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await backfill({ limit: 100, cursor: first.body.nextCursor });
    const third = await backfill({ limit: 100, cursor: second.body.nextCursor });
    expect(third.body.examined).toBe(50);
    expect(third.body.nextCursor).toBeNull();
    const [{ expected }] = await app.sql(`SELECT count(*)::int AS expected FROM predictions WHERE project_id = $1 AND uncertainty >= 0.3`, [project.id]);
    expect(first.body.routed.total + second.body.routed.total + third.body.routed.total).toBe(expected);
    expect(await project.tasks()).toHaveLength(expected);
    // nothing left to route: a second pass creates nothing
    expect((await backfill({ limit: 1_000 })).body.routed.total).toBe(0);
    const [audit] = await app.sql(`SELECT action FROM audit_log WHERE project_id = $1 AND action = 'routing.backfill' LIMIT 1`, [project.id]);
    expect(audit).toBeDefined();
  });

  it('says in the batch reply how many tasks it made, by reason, and what the budget left out', async () => {
    const project = await setUp({ threshold: 0.3, explorationRate: 0.05, dedupeWindowMinutes: 0, budget: { perHour: 40 } });
    const send = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: project.key, body });
    const batch = traffic(seeded(5), 300, { sharpness: 1 });
    const first = await send(batch);
    expect(first.status).toBe(200);
    const rows: Array<{ reason: string; n: number }> = await app.sql(`SELECT reason, count(*)::int AS n FROM tasks WHERE project_id = $1 GROUP BY reason`, [
      project.id,
    ]);
    const made = Object.fromEntries(rows.map((r) => [r.reason, r.n]));
    expect(first.body.routed).toEqual({
      tasks: 40,
      byReason: { uncertain: made.uncertain ?? 0, exploration: made.exploration ?? 0, contradiction: 0, drift: 0, gold: 0 },
      droppedByBudget: expect.any(Number),
      deduplicated: 0,
    });
    const [{ chosen }] = await app.sql(`SELECT count(*)::int AS chosen FROM predictions WHERE project_id = $1 AND uncertainty >= 0.3`, [project.id]);
    // every uncertain prediction was chosen; the hour's budget of 40 took the highest priorities
    expect(first.body.routed.droppedByBudget).toBeGreaterThanOrEqual(chosen - 40);
    // a retry stores nothing and makes nothing
    expect((await send(batch)).body).toEqual({
      accepted: 0,
      duplicates: 300,
      routed: { tasks: 0, byReason: expect.any(Object), droppedByBudget: 0, deduplicated: 0 },
    });
  });

  it('refuses bad requests with a code and the field, and non-admins', async () => {
    const project = await setUp({});
    const preview = (body: unknown, token = admin) => app.request('POST', `/api/v1/projects/${project.slug}/routing/preview`, { token, body });
    const backfill = (body: unknown, token = admin) => app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token, body });
    for (const [response, field] of [
      [await preview({ threshold: 2 }), 'threshold'],
      [await preview({ threshold: 0.2, targetRate: 0.1 }), 'targetRate'],
      [await preview({ budget: { perSlice: { perHour: 3 } } }), 'budget.perSlice.key'],
      [await preview({ limit: 200_000 }), 'limit'],
      [await backfill({ limit: 10_001 }), 'limit'],
      [await backfill({ cursor: 'bm90IGEgY3Vyc29y' }), 'cursor'],
    ] as const) {
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
      expect(response.body.code).toEqual(expect.stringMatching(/^(validation|routing)\//));
    }
    const rater = await createUser(app, admin, 'rater', project);
    expect((await preview({}, rater.token)).status).toBe(403);
    expect((await backfill({}, rater.token)).status).toBe(403);
    expect((await preview({}, project.key)).status).toBe(403);
    const empty = await preview({});
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ sampled: 0, routed: { total: 0 } });
  });
});

import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { predictionKeyOf } from '../../server/src/common/ids/prediction-key';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

const CLICK_IS_HAM = { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] };

/**
 * "Apply this rule to past feedback": events stored before a rule existed are decided again under
 * the current rules, through the one writer of labels, page by page, and a second run writes nothing.
 */
describe('feedback: the rules applied to past feedback', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  /** A project and the same traffic: predictions (one confidently spam), clicks on five, a click whose prediction never came, a dislike nothing reads. */
  async function projectWithTraffic(feedbackRules: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, {
      overlap: 1,
      labeling: { goldRate: 0 },
      routing: { threshold: 0.99, explorationRate: 0, dedupeWindowMinutes: 0, contradictionConfidence: 0.9 },
      feedbackRules,
      ...extra,
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const ids = ['req-1', 'req-2', 'req-3', 'req-4', 'req-5', 'req-6'];
    const predictions = ids.map((id, i) => predictionBody({ id, scores: i === 0 ? { ham: 0.05, spam: 0.95 } : { ham: 0.7, spam: 0.3 } }));
    const post = (route: string, body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}${route}`, { token: key, body });
    expect((await post('/predictions/batch', predictions)).body.accepted).toBe(6);
    const events = [
      ...ids.slice(0, 5).map((predictionId, i) => ({ id: `click-${i}`, predictionId, type: 'click' })),
      { id: 'click-orphan', predictionId: 'req-never-sent', type: 'click' },
      { id: 'dislike-6', predictionId: 'req-6', type: 'dislike' },
    ];
    expect((await post('/feedback', events)).body.accepted).toBe(7);
    const labels = () =>
      app.sql<{ prediction: string; value: string; source: string; rule: string; event: string; current: boolean; contradicts: boolean }>(
        `SELECT coalesce(p.external_id, l.prediction_id::text) AS prediction, l.value, l.source, l.rule, l.feedback_event_id AS event,
                l.superseded_at IS NULL AS current, l.contradicts_prediction AS contradicts
           FROM labels l JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
          WHERE l.project_id = $1 ORDER BY 1, l.id`,
        [project.id],
      );
    const tasks = () =>
      app.sql<{ prediction: string; reason: string }>(
        `SELECT coalesce(p.external_id, t.prediction_id::text) AS prediction, t.reason FROM tasks t JOIN predictions p ON p.project_id = t.project_id AND p.id = t.prediction_id
          WHERE t.project_id = $1 ORDER BY 1`,
        [project.id],
      );
    const reapply = (body: Record<string, unknown> = {}, token = admin) =>
      app.request('POST', `/api/v1/projects/${project.slug}/feedback/reapply`, { token, body });
    return { ...project, key, labels, tasks, reapply, post };
  }

  async function reapplyAll(project: Awaited<ReturnType<typeof projectWithTraffic>>, limit: number) {
    const replies = [];
    let cursor: string | undefined;
    do {
      const response = await project.reapply({ limit, ...(cursor ? { cursor } : {}) });
      expect(response.status).toBe(200);
      replies.push(response.body);
      cursor = response.body.nextCursor ?? undefined;
    } while (cursor);
    return replies;
  }

  it('labels past feedback as the rule would have when it arrived, page by page, and a second run writes nothing', async () => {
    const reference = await projectWithTraffic(CLICK_IS_HAM);
    const project = await projectWithTraffic({ rules: [] });
    expect(await project.labels()).toEqual([]);

    expect((await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { feedbackRules: CLICK_IS_HAM } })).status).toBe(200);
    const replies = await reapplyAll(project, 2);
    // seven predictions have events (the orphan's never came: examined, nothing to label)
    expect(replies.map((r) => r.examined)).toEqual([2, 2, 2, 1]);
    expect(replies[0].total).toBe(7);
    expect(replies.slice(1).every((r) => r.total === undefined)).toBe(true);
    expect(replies.reduce((sum, r) => sum + r.labeled, 0)).toBe(5);

    // the same labels, ranked the same, and the same contradiction task, as where the rule was there from the start
    const labels = await project.labels();
    expect(labels).toEqual(await reference.labels());
    expect(labels).toHaveLength(5);
    expect(labels[0]).toEqual({ prediction: 'req-1', value: 'ham', source: 'feedback', rule: 'rules[0]', event: 'click-0', current: true, contradicts: true });
    expect(await project.tasks()).toEqual(await reference.tasks());
    expect(await project.tasks()).toEqual([{ prediction: 'req-1', reason: 'contradiction' }]);

    // again: nothing written, nothing routed
    const again = await reapplyAll(project, 1_000);
    expect(again).toEqual([{ examined: 7, labeled: 0, total: 7, nextCursor: null }]);
    expect(await project.labels()).toEqual(labels);
    expect(await project.tasks()).toHaveLength(1);

    // events that wait for their prediction are joined when it comes, under the rules
    expect((await project.post('/predictions', predictionBody({ id: 'req-never-sent' }))).status).toBe(201);
    expect((await project.labels()).find((l) => l.prediction === 'req-never-sent')).toMatchObject({ value: 'ham', event: 'click-orphan', current: true });
  });

  it('keeps a feedback label as history beside a human label, once however often it is applied', async () => {
    const project = await projectWithTraffic({ rules: [] }, { routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 } });
    const rater = await createUser(app, admin, 'rater', project);
    // every prediction is a task: the rater answers one (req-2, by its key) spam
    const key2 = predictionKeyOf(project.id, 'req-2');
    const [task] = await app.sql(`SELECT id FROM tasks WHERE project_id = $1 AND prediction_id = $2`, [project.id, key2]);
    await app.sql(`UPDATE tasks SET priority = 1000 WHERE id = $1`, [task.id]);
    const claimed = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task;
    expect(claimed.id).toBe(task.id);
    const answered = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
      token: rater.token,
      body: { id: randomUUID(), label: 'spam' },
    });
    expect(answered.status).toBe(201);

    expect((await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { feedbackRules: CLICK_IS_HAM } })).status).toBe(200);
    await reapplyAll(project, 1_000);
    await reapplyAll(project, 3);
    expect((await project.labels()).filter((l) => l.prediction === 'req-2')).toEqual([
      { prediction: 'req-2', value: 'spam', source: 'consensus', rule: null, event: null, current: true, contradicts: true },
      { prediction: 'req-2', value: 'ham', source: 'feedback', rule: 'rules[0]', event: 'click-1', current: false, contradicts: false },
    ]);
  });

  it.each(['the rater’s answer commits while the re-run waits for its task', 'the re-run commits while the answer waits for its label'])(
    'lets consensus win the race with a re-run: %s; the feedback label is history, once',
    async (order) => {
      const project = await projectWithTraffic(
        { rules: [], absence: { label: 'spam', windowMinutes: 600 } },
        { routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 } },
      );
      const rater = await createUser(app, admin, 'rater', project);
      const key3 = predictionKeyOf(project.id, 'req-3');
      const [task] = await app.sql(`SELECT id FROM tasks WHERE project_id = $1 AND prediction_id = $2`, [project.id, key3]);
      await app.sql(`UPDATE tasks SET priority = 1000 WHERE id = $1`, [task.id]);
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task.id).toBe(task.id);
      expect(
        (await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { feedbackRules: { ...CLICK_IS_HAM, absence: undefined } } }))
          .status,
      ).toBe(200);
      const answer = () =>
        app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, { token: rater.token, body: { id: randomUUID(), label: 'spam' } });
      const held = new Client({ connectionString: app.databaseUrl });
      await held.connect();
      try {
        await held.query('BEGIN');
        if (order.startsWith('the rater')) {
          // the answer holds the task, uncommitted; the re-run waits for it, then finds consensus
          const [raterRow] = await app.sql(`SELECT id FROM users WHERE email = $1`, [rater.email]);
          await held.query(
            `SELECT outcome FROM backflow_submit_annotation($1, $2, $3, $4, 'spam', NULL, 0.6, 1, '{"label": "spam"}', NULL, 'label', NULL, NULL)`,
            [project.id, task.id, raterRow.id, randomUUID()],
          );
          const rerun = project.reapply({ limit: 1_000 });
          await waiting(1);
          await held.query('COMMIT');
          expect((await rerun).status).toBe(200);
        } else {
          // the re-run is held at its last write (the absence windows it closes), its feedback label uncommitted; the answer waits for that label
          expect((await held.query(`SELECT 1 FROM feedback_windows WHERE prediction_id = $1 FOR UPDATE`, [key3])).rowCount).toBe(1);
          const rerun = project.reapply({ limit: 1_000 });
          await waiting(1);
          const answered = answer();
          await waiting(2);
          await held.query('ROLLBACK');
          expect((await rerun).status).toBe(200);
          expect((await answered).status).toBe(201);
        }
      } finally {
        await held.end();
      }
      await reapplyAll(project, 1_000);
      expect((await project.labels()).filter((l) => l.prediction === 'req-3').map(({ value, source, current }) => ({ value, source, current }))).toEqual([
        ...(order.startsWith('the rater') ? [] : [{ value: 'ham', source: 'feedback', current: false }]),
        { value: 'spam', source: 'consensus', current: true },
        ...(order.startsWith('the rater') ? [{ value: 'ham', source: 'feedback', current: false }] : []),
      ]);
    },
  );

  it('refuses a limit out of range and a cursor it did not give, naming the field; a rater may not', async () => {
    const project = await projectWithTraffic({ rules: [] });
    for (const [body, field] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 5_001 }, 'limit'],
      [{ cursor: 'req-1' }, 'cursor'],
    ] as const) {
      const response = await project.reapply(body);
      expect([response.status, response.body.code, response.body.field]).toEqual([400, 'validation/invalid', field]);
    }
    const rater = await createUser(app, admin, 'rater', project);
    expect((await project.reapply({}, rater.token)).status).toBe(403);
  });

  /** Resolves once `count` sessions of this database wait for a lock. */
  async function waiting(count: number): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
      const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (n >= count) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`never ${count} sessions waiting for a lock: the writers did not collide`);
  }
});

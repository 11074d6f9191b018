import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

/**
 * The claim walks the queue in order and tests each candidate by key (its leases, this rater's
 * answer, this rater's skip). Planned as joins while the tables are young (no statistics yet,
 * the first hour of a project), the "not answered by this rater" test read every annotation of
 * the project in each claim, and claims slowed as answers came in. The plan the function runs is
 * read with auto_explain, the way PostgreSQL itself reports it.
 */
describe('the claim reads what it needs, however many answers there are', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  /** Every plan the statements run by `work` use, nested ones included, as auto_explain reports them. */
  async function plansOf(work: (client: Client) => Promise<void>): Promise<string[]> {
    const client = new Client({ connectionString: app.databaseUrl });
    await client.connect();
    const plans: string[] = [];
    client.on('notice', (notice) => plans.push(notice.message ?? ''));
    try {
      await client.query(`LOAD 'auto_explain'`);
      await client.query(`SET auto_explain.log_min_duration = 0`);
      await client.query(`SET auto_explain.log_nested_statements = on`);
      await client.query(`SET auto_explain.log_level = 'notice'`);
      await client.query(`SET client_min_messages = 'notice'`);
      await work(client);
      return plans;
    } finally {
      await client.end();
    }
  }

  it('tests candidates by key and writes by key, with no scan of annotations, skips, leases or labels', async () => {
    const project = await createProject(app, admin, {
      overlap: 1,
      labeling: { goldRate: 0 },
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const batch = Array.from({ length: 120 }, () => predictionBody());
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: batch })).status).toBe(200);
    // statistics taken while nothing is answered: the planner believes annotations, skips, leases and labels empty
    await app.sql('ANALYZE');
    // two raters answer and skip through the API; the second one's answers are what the first one's claim must not read
    const first = await createUser(app, admin, 'rater', project);
    const second = await createUser(app, admin, 'rater', project);
    for (const [rater, count] of [
      [second, 60],
      [first, 20],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const { task } = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body;
        const path = `/api/v1/projects/${project.slug}/tasks/${task.id}`;
        const done =
          i % 10 === 9
            ? await app.request('POST', `${path}/skip`, { token: rater.token, body: {} })
            : await app.request('POST', `${path}/annotations`, { token: rater.token, body: { id: randomUUID(), label: 'ham' } });
        expect(done.status).toBeLessThan(300);
      }
    }

    // claims and submits on one connection, past the five calls after which plpgsql keeps a generic plan
    const plans = await plansOf(async (client) => {
      for (let i = 0; i < 7; i++) {
        const { rows } = await client.query(`SELECT task_id FROM backflow_claim_task($1, $2, 120, 2, false, false)`, [project.id, first.id]);
        expect(rows[0]?.task_id).toBeTruthy();
        const submitted = await client.query(
          `SELECT outcome FROM backflow_submit_annotation($1, $2, $3, $4, 'ham', NULL, 0.6, 3, '{"label": "ham"}', NULL, 'label', NULL, NULL)`,
          [project.id, rows[0].task_id, first.id, randomUUID()],
        );
        expect(submitted.rows[0].outcome).toBe('agreed');
      }
    });
    const last = (pattern: RegExp) => [...plans].reverse().find((plan) => pattern.test(plan));
    const pick = last(/FROM tasks t[\s\S]*state IN \('queued', 'escalated'\)[\s\S]*ORDER BY t\.priority DESC/);
    expect(pick).toBeDefined();
    const picked = pick!.slice(pick!.indexOf('\n', pick!.indexOf('FOR UPDATE OF t SKIP LOCKED')));
    // the queue in order, by its index, and each test a probe by key
    expect(picked).toMatch(/Index Scan using tasks_claim_idx on tasks t/);
    expect(picked).toMatch(/using annotations_task_rater_key on annotations/);
    expect(picked).toMatch(/using task_skips_pkey on task_skips/);
    expect(picked).not.toMatch(/Hash/);
    // nowhere, in the claim, the submit or the label it writes, a scan of a table that grows with the answers
    const scans = plans.filter((plan) => /Seq Scan on (annotations|task_skips|task_leases|labels|tasks|predictions)\b/.test(plan));
    expect(scans.map((plan) => plan.split('\n').find((line) => /Query Text/.test(line)))).toEqual([]);
  });
});

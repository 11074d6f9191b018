import { startTestApp, TestApp } from '../helpers/test-app';

describe('scheduled jobs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({}, { jobs: true });
  });
  afterAll(() => app.close());

  it('registers the feedback reconcile pass with pg-boss, every minute', async () => {
    const schedules = await app.sql(`SELECT name, cron FROM pgboss.schedule`);
    expect(schedules).toEqual(expect.arrayContaining([{ name: 'feedback-reconcile', cron: '* * * * *' }]));
    const queues = await app.sql(`SELECT name FROM pgboss.queue WHERE name = 'feedback-reconcile'`);
    expect(queues).toHaveLength(1);
  });
});

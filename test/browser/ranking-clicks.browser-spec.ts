import type { Browser } from 'playwright-core';
import { createApiKey, createProject } from '../factories';
import { recommenderTraffic } from '../helpers/recommender-traffic';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { launchChromium, screenshotPath } from './support/chromium';

describe('browser: a recommender’s clicks as charts', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows where users look against the raw click-through, and a slice’s sudden drop with where it began', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Suggested runs',
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'runs', kind: 'ranking', grades: [0, 1, 2].map((value) => ({ value, name: ['skip', 'click', 'ran it'][value] })), maxItems: 10 }],
      routing: { strategy: 'margin', threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perDay: 0 } },
      feedbackRules: { rules: [{ eventType: 'click', grade: 1, windowMinutes: 60 }] },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const { predictions, events } = recommenderTraffic({ days: 28, listsPerDay: 60, positions: 10, shiftDay: 20, now: Date.now() });
    for (let i = 0; i < predictions.length; i += 1_000)
      expect(
        (await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions.slice(i, i + 1_000) })).status,
      ).toBe(200);
    for (let i = 0; i < events.length; i += 5_000)
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events.slice(i, i + 5_000) })).status).toBe(201);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(app.url);
      await page.fill('input[name="email"]', ADMIN.email);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
      await page.goto(`${app.url}/projects/${project.slug}/quality`);
      const panel = page.getByTestId('clicks-panel');
      await panel.waitFor();
      await panel.getByTestId('examination-chart').locator('.recharts-line').first().waitFor();
      // the shifted cohort: a sudden drop, its start marked on the chart
      await panel.getByTestId('clicks-slice').selectOption('cohort=new');
      await panel.getByTestId('clicks-degradation').getByText('sudden drop').waitFor();
      await panel.getByTestId('slice-ctr-chart').getByText('drop begins').waitFor();
      await page.getByTestId('evaluate').click();
      await page
        .getByTestId('alerts-panel')
        .getByText(/click-through of "runs" for cohort=new fell suddenly/)
        .waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('ranking-clicks.png'), fullPage: true, animations: 'disabled' });
      await panel.getByTestId('clicks-slice').selectOption('cohort=old');
      await panel.getByTestId('clicks-degradation').getByText('steady').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

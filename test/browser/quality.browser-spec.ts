import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { unitDraw } from '@backflow/sampling';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';
import { backdatePredictions } from '../helpers/backdate';

describe('browser: an admin reads quality and monitoring as charts', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '5000' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows accuracy per slice with intervals, drift per feature, alerts after an evaluation, and rater agreement', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Mail triage',
      overlap: 2,
      routing: { threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 },
      monitoring: { drift: { minCount: 40 }, minLabels: 10 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const batch = (from: number, n: number, shift: number, frRight: number) =>
      Array.from({ length: n }, (_, k) => {
        const i = from + k;
        const country = ['FR', 'DE', 'US'][i % 3];
        const uncertain = i % 4 === 0;
        const right = country === 'FR' ? unitDraw(`r${i}`) < frRight : unitDraw(`r${i}`) < 0.9;
        return {
          id: randomUUID(),
          model: { name: 'mail', version: '2' },
          input: {
            truth: right ? 'ham' : 'spam',
            length: unitDraw(`l${i}`) * 100 + (country === 'FR' ? shift : 0),
            sender: ['mail.example', 'news.example', 'shop.example'][i % 3],
          },
          scores: uncertain ? { ham: 0.6, spam: 0.4 } : { ham: 0.95, spam: 0.05 },
          slice: { country },
        };
      });
    const ingest = async (items: unknown[]) => expect((await app.request('POST', path('/predictions/batch'), { token: key, body: items })).status).toBe(200);
    const a = await createUser(app, admin, 'rater', project);
    const b = await createUser(app, admin, 'rater', project);
    const labelAll = async (token: string, wrongEvery: number) => {
      for (let n = 0; ; n++) {
        const { body } = await app.request('POST', path('/tasks/claim'), { token, body: {} });
        if (!body.task) return;
        const label = n % wrongEvery === wrongEvery - 1 ? (body.task.input.truth === 'ham' ? 'spam' : 'ham') : body.task.input.truth;
        await app.request('POST', path(`/tasks/${body.task.id}/annotations`), { token, body: { id: randomUUID(), label, timeSpentMs: 2000 + 37 * n } });
      }
    };
    // yesterday's traffic in the reference window, then today's, where FR drifts and its accuracy falls
    await ingest(batch(0, 480, 0, 0.9));
    await labelAll(a.token, 1000);
    await labelAll(b.token, 9);
    await backdatePredictions(app, project.id, `now() - interval '30 hours' - (random() * interval '12 hours')`);
    await ingest(batch(480, 480, 70, 0.35));
    await labelAll(a.token, 1000);
    await labelAll(b.token, 9);
    await backdatePredictions(app, project.id, `now() - (random() * interval '20 hours')`, `received_at > now() - interval '1 hour'`);

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
      await page.getByTestId('open-quality').first().click();
      await page.waitForURL(`**/projects/${project.slug}/quality`);
      await page.getByTestId('accuracy-panel').waitFor();
      await page.getByTestId('evaluate').click();
      await page.getByText(/Evaluated: \d+ new alerts?/).waitFor();
      await page
        .getByTestId('alerts-panel')
        .getByText(/accuracy on country=FR fell/)
        .waitFor();
      await page
        .getByTestId('alerts-panel')
        .getByText(/length drifted on country=FR/)
        .waitFor();
      await page.getByTestId('boosts').getByText('country=FR').waitFor();
      expect(await page.getByTestId('accuracy-table').locator('tbody tr').count()).toBeGreaterThan(3);
      expect(await page.getByTestId('drift-feature').inputValue()).toBe('length');
      const kappa = Number(await page.getByTestId('kappa').textContent());
      expect(kappa).toBeGreaterThan(0);
      expect(kappa).toBeLessThan(1);
      // every chart drew
      expect(await page.locator('.recharts-surface').count()).toBeGreaterThanOrEqual(5);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('quality-monitoring.png'), fullPage: true, animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

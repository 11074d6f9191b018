import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createApiKey, createProject, predictionBody } from '../factories';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { launchChromium, screenshotPath } from './support/chromium';

describe('browser: a feedback rule added, then applied to the feedback that came before it', () => {
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

  it('offers “Apply to past feedback” once the rules are saved, shows its progress, and a second run writes nothing', async () => {
    const token = await app.login();
    const project = await createProject(app, token, {
      name: 'Mail with clicks',
      routing: { threshold: 0.99, explorationRate: 0, dedupeWindowMinutes: 0 },
      feedbackRules: { rules: [] },
    });
    const key = (await createApiKey(app, token, project.slug, ['ingest'])).secret;
    // 30 predictions under the model server's own request ids; 24 of them clicked before any rule existed
    const predictions = Array.from({ length: 30 }, (_, i) => predictionBody({ id: `req-${randomUUID().slice(0, 8)}-${i}`, scores: { ham: 0.7, spam: 0.3 } }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions })).body.accepted).toBe(30);
    const clicks = predictions.slice(0, 24).map((p, i) => ({ id: `click-${i}`, predictionId: p.id, type: 'click' }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: clicks })).body.accepted).toBe(24);
    const labels = async () =>
      (await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND source = 'feedback'`, [project.id]))[0].n as number;
    expect(await labels()).toBe(0);

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
      await page.goto(`${app.url}/projects/${project.slug}/settings/feedback`);

      const rules = page.getByTestId('feedback-rules');
      await rules.waitFor();
      // nothing to apply before a rule is saved
      await expect(rules.getByTestId('reapply-feedback').count()).resolves.toBe(0);
      await rules.getByRole('button', { name: 'Add a rule' }).click();
      const rule = rules.getByRole('group', { name: 'Rule 1' });
      await rule.getByLabel('Event type').fill('click');
      await rule.getByRole('combobox').selectOption('ham');
      await rules.getByRole('button', { name: 'Save feedback rules' }).click();
      await rules.getByText('Saved: feedback arriving from now on follows these rules.').waitFor();

      const offer = rules.getByTestId('reapply-feedback');
      await offer.getByRole('button', { name: 'Apply to past feedback' }).click();
      const status = offer.getByTestId('reapply-feedback-status');
      await status.getByText('Done: 24 of 24 predictions with feedback decided again, 24 feedback labels written.').waitFor();
      expect(await labels()).toBe(24);
      await offer.scrollIntoViewIfNeeded();
      await page.evaluate(() => document.querySelector<HTMLElement>('.app-header')!.style.setProperty('position', 'static'));
      await rules.screenshot({ path: screenshotPath('feedback-reapply.png'), animations: 'disabled' });
      await page.evaluate(() => document.querySelector<HTMLElement>('.app-header')!.style.removeProperty('position'));

      // again: every label is there already
      await offer.getByRole('button', { name: 'Apply again' }).click();
      await status.getByText('Done: 24 of 24 predictions with feedback decided again, 0 feedback labels written.').waitFor();
      expect(await labels()).toBe(24);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

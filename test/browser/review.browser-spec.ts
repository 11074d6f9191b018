import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createApiKey, createProject, createUser } from '../factories';
import { launchChromium, screenshotPath } from './support/chromium';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('browser: a reviewer decides a disagreement with the keyboard', () => {
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

  it("shows every rater's answer and the agreement, and makes the reviewer's label final", async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Disputed mail',
      overlap: 2,
      maskedFields: ['sender'],
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const predictionId = randomUUID();
    const ingested = await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
      token: key,
      body: {
        id: predictionId,
        model: { name: 'm', version: '1' },
        input: { text: 'Win a free cruise: reply with your bank details', sender: 'promo@cruise.example' },
        scores: { ham: 0.5, spam: 0.5 },
      },
    });
    expect(ingested.status).toBe(201);
    // two raters disagree: the task goes to review
    for (const label of ['ham', 'spam']) {
      const rater = await createUser(app, admin, 'rater', project);
      const { task } = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body;
      expect(
        (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, { token: rater.token, body: { id: randomUUID(), label } }))
          .status,
      ).toBe(201);
    }
    const reviewer = await createUser(app, admin, 'reviewer', project);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(app.url);
      await page.fill('input[name="email"]', reviewer.email);
      await page.fill('input[name="password"]', reviewer.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('open-review').click();
      await page.getByText('Win a free cruise').waitFor();
      const answers = page.getByRole('region', { name: 'How the raters answered' });
      await answers.getByText('agreement 50%').waitFor();
      await answers.getByText('1 of 2').first().waitFor();
      expect(await page.content()).not.toContain('promo@cruise.example');
      await page.screenshot({ path: screenshotPath('reviewer-queue.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('2');
      await page.keyboard.press('Enter');
      await page.getByTestId('review-empty').waitFor();
      await page.locator('[data-testid="decided-count"]', { hasText: '1' }).waitFor();
      const labels = await app.sql(`SELECT value, source FROM labels WHERE prediction_id = $1 AND superseded_at IS NULL`, [predictionId]);
      expect(labels).toEqual([{ value: 'spam', source: 'review' }]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

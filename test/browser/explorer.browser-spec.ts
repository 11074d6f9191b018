import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshotPath } from './support/chromium';
import { expectAccessible } from './support/axe';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';

describe('browser: a reviewer explores the data, opens an example and relabels it', () => {
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

  async function signedIn(person: { email: string; password: string }) {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(app.url);
    await page.fill('input[name="email"]', person.email);
    await page.fill('input[name="password"]', person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    return { context, page, errors };
  }

  it('filters by slice and confidence, pages on, saves the search, opens one prediction with its answers and relabels it', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Run suggestions',
      labels: [
        { name: 'good', hotkey: '1' },
        { name: 'bad', hotkey: '2' },
      ],
      maskedFields: ['email'],
      routing: { strategy: 'least_confidence', threshold: 0.4, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const countries = ['FR', 'DE', 'US'];
    const predictions = Array.from({ length: 120 }, (_, i) => {
      const top = 0.5 + ((i * 37) % 50) / 100;
      return {
        id: randomUUID(),
        model: { name: 'runs', version: i < 60 ? '3' : '4' },
        input: { suggestion: `Easy ${5 + (i % 10)} km along the river, run ${i}`, email: `runner${i}@example.com`, pace: 5 + (i % 3) },
        scores: { good: top, bad: Number((1 - top).toFixed(2)) },
        slice: { country: countries[i % 3], plan: i % 2 ? 'free' : 'premium' },
      };
    });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
    const rater = await createUser(app, admin, 'rater', project);
    const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
    const taskId = claimed.body.task.id as string;
    const answered = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${taskId}/annotations`, {
      token: rater.token,
      body: { id: randomUUID(), label: 'good' },
    });
    expect(answered.status).toBe(201);
    const [{ prediction_id: labeledId }] = await app.sql(`SELECT prediction_id::text FROM tasks WHERE id = $1`, [taskId]);
    const reviewer = await createUser(app, admin, 'reviewer', project);

    const { context, page, errors } = await signedIn(reviewer);
    try {
      await page.getByTestId('open-explorer').click();
      await page.getByRole('heading', { level: 1, name: 'Run suggestions: data' }).waitFor();
      await page.getByTestId('results').waitFor();
      // newest first, a page of 50; masked fields never reach a reviewer
      expect(await page.getByTestId('result-link').count()).toBe(50);
      expect(await page.getByTestId('results').innerText()).not.toContain('@example.com');
      await expectAccessible(page, 'data explorer');

      await page.getByTestId('filter-slice').fill('country:FR');
      await page.getByTestId('filter-max-confidence').fill('0.7');
      await page.getByTestId('filter-sort').selectOption('least_confident');
      await page.getByTestId('search').click();
      const expected = predictions.filter((p) => p.slice.country === 'FR' && p.scores.good <= 0.7).length;
      await page.getByTestId('results-summary').getByText(`${expected} predictions in confidence order`).waitFor();
      expect(page.url()).toContain('slice=country%3AFR');
      const shown = await page.locator('[data-testid="results"] tbody tr td:nth-child(4)').allInnerTexts();
      const values = shown.map((text) => Number(text.trim()));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      await page.getByTestId('view-name').fill('French, unsure');
      await page.getByTestId('save-view').click();
      await page.getByText('Saved as “French, unsure”.').waitFor();
      await page.screenshot({ path: screenshotPath('explorer.png'), fullPage: true, animations: 'disabled' });

      // the saved view brings the same search back after clearing
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByTestId('results-summary').getByText('50 predictions in arrival order').waitFor();
      await page.getByTestId('more').click();
      await page.getByTestId('results-summary').getByText('100 predictions').waitFor();
      await page.getByTestId('saved-views').selectOption({ label: 'French, unsure' });
      await page.getByTestId('results-summary').getByText(`${expected} predictions in confidence order`).waitFor();

      // the routed one, by its task: the example page with the rater's answer and the label history
      await page.getByTestId('filter-slice').fill('');
      await page.getByTestId('filter-max-confidence').fill('');
      await page.getByTestId('filter-sort').selectOption('newest');
      await page.getByTestId('filter-source').selectOption('consensus');
      await page.getByTestId('search').click();
      await page.getByTestId('results-summary').getByText('1 prediction in label time order').waitFor();
      await page.getByTestId('result-link').click();
      await page.getByTestId('answers').getByText(rater.email).waitFor();
      expect(page.url()).toContain(`/explorer/${labeledId}`);
      expect(await page.getByTestId('example-input').innerText()).not.toContain('@example.com');
      await page.getByTestId('relabel-label').selectOption('bad');
      await page.getByTestId('relabel-reason').fill('A river run in the dark is not a good suggestion');
      await page.getByTestId('relabel-submit').click();
      await page.getByRole('status').getByText('Relabeled bad.').waitFor();
      await page.getByTestId('relabel-history').getByText(reviewer.email, { exact: false }).waitFor();
      const history = await page.getByTestId('label-history').innerText();
      expect(history).toMatch(/bad \(review\)[\s\S]*current[\s\S]*good \(consensus\)/);
      await expectAccessible(page, 'example');
      await page.screenshot({ path: screenshotPath('explorer-example.png'), fullPage: true, animations: 'disabled' });

      // Back returns to the search as it was (it is in the address); the keyboard runs a new one with Enter
      await page.getByTestId('back-to-data').click();
      // (the search for consensus labels now finds none: the relabel made the label a reviewer's)
      await page.getByTestId('results-summary').getByText('0 predictions in label time order').waitFor();
      expect(await page.getByTestId('filter-source').inputValue()).toBe('consensus');
      await page.getByTestId('filter-source').selectOption('');
      await page.getByTestId('filter-q').focus();
      await page.keyboard.type('run 7');
      await page.keyboard.press('Enter');
      // "run 7" and "run 70" to "run 79"
      await page.getByTestId('results-summary').getByText('11 predictions in arrival order').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

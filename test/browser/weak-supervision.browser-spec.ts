import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createApiKey, createProject, createUser } from '../factories';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { launchChromium, screenshotPath } from './support/chromium';

describe('browser: labeling functions on the project settings page', () => {
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

  /** A rater claims task after task and answers each with its input's truth, until none is left. */
  async function labelWithTruth(slug: string, token: string) {
    for (;;) {
      const { body } = await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, { token, body: {} });
      if (!body.task) return;
      await app.request('POST', `/api/v1/projects/${slug}/tasks/${body.task.id}/annotations`, {
        token,
        body: { id: randomUUID(), label: body.task.input.truth },
      });
    }
  }

  /** A browser page signed in as this person, with the page's errors collected. */
  async function signedIn(person: { email: string; password: string }) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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

  it('charts each function’s coverage, conflicts and accuracy, previews a new one’s votes before it is saved, and refuses a dangerous pattern', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Mail triage',
      routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 },
      weakSupervision: {
        functions: [
          { name: 'free', label: 'spam', when: { kind: 'keywords', on: { feature: 'subject' }, keywords: ['free'] } },
          { name: 'dollars', label: 'spam', when: { kind: 'regex', on: { feature: 'subject' }, pattern: '\\$\\d+' } },
          { name: 'french', label: 'ham', when: { kind: 'in', on: { slice: 'country' }, values: ['FR'] } },
        ],
      },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const batch = Array.from({ length: 160 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'mail', version: '1' },
      input: { subject: [`free entry ${i}`, `win $${i}`, `free $${i} now`, `hello ${i}`][i % 4], truth: i % 4 === 3 || i % 5 === 0 ? 'ham' : 'spam' },
      scores: { ham: 0.7, spam: 0.3 },
      slice: { country: i % 3 === 0 ? 'FR' : 'DE' },
    }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: batch })).status).toBe(200);
    // the conflicts (a spam vote on a French prediction) are tasks: a rater labels them
    const rater = await createUser(app, admin, 'rater', project);
    await labelWithTruth(project.slug, rater.token);

    const { context, page, errors } = await signedIn(ADMIN);
    try {
      await page.goto(`${app.url}/projects/${project.slug}/settings/weak-supervision`);
      const panel = page.getByTestId('weak-supervision');
      await panel.getByTestId('weak-functions-chart').locator('.recharts-bar-rectangle').first().waitFor();
      const chart = await panel.getByTestId('weak-functions-chart').getAttribute('aria-label');
      // free covers subjects 0 and 2 of every 4 (50%); it conflicts with french on a third of them
      expect(chart).toMatch(
        /^Labeling functions: free covers 50\.0%, conflicts 16\.9%, accuracy \d+\.\d%; dollars covers 50\.0%, conflicts \d+\.\d%, accuracy \d+\.\d%; french covers 33\.8%/,
      );
      expect(await panel.getByTestId('weak-functions').locator('tbody tr').count()).toBe(3);
      expect(await panel.getByTestId('weak-totals').textContent()).toMatch(/^Over the newest 160 predictions \(\d+ with a human label\)/);

      // a new function, previewed as it is written
      await panel.getByLabel('Name', { exact: true }).fill('hello');
      await panel.getByLabel('Votes').selectOption('ham');
      await panel.getByRole('textbox', { name: 'Named' }).fill('subject');
      await panel.getByRole('textbox', { name: 'Words' }).fill('hello, hi');
      await panel
        .getByTestId('weak-preview-figures')
        .filter({ hasText: /^“hello” would vote on 25\.0% of the newest 160 predictions/ })
        .waitFor();
      expect(await panel.getByTestId('weak-preview-votes').locator('tbody tr').count()).toBe(8);
      // (the sticky header would cover the top of the panel in a picture of the panel alone)
      await page.evaluate(() => document.querySelector<HTMLElement>('.app-header')?.style.setProperty('position', 'static'));
      await panel.screenshot({ path: screenshotPath('weak-supervision.png'), animations: 'disabled' });
      await panel.getByRole('button', { name: 'Add function' }).click();
      await panel.getByText('Saved: “hello” votes from now on.').waitFor();
      await panel.getByTestId('weak-functions').locator('tbody tr').nth(3).waitFor();
      const [saved] = await app.sql(`SELECT weak_supervision FROM projects WHERE id = $1`, [project.id]);
      expect(saved.weak_supervision.functions.at(-1)).toEqual({
        name: 'hello',
        label: 'ham',
        when: { kind: 'keywords', on: { feature: 'subject' }, keywords: ['hello', 'hi'] },
        enabled: true,
      });

      // a pattern that could backtrack catastrophically is refused in the preview, and cannot be added
      await panel.getByLabel('Name', { exact: true }).fill('evil');
      await panel.getByLabel('When').selectOption('regex');
      await panel.getByRole('textbox', { name: 'Pattern' }).fill('(a+)+$');
      await panel
        .getByTestId('weak-preview')
        .getByText(/could backtrack catastrophically/)
        .waitFor();
      expect(await panel.getByRole('button', { name: 'Add function' }).isDisabled()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a rater the label the neighbours gave a prediction, beside the model’s guess', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Propagated mail',
      labeling: { showPrediction: true },
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      weakSupervision: { propagation: { k: 3, maxDistance: 0.05, minConfidence: 0.6 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const mail = (i: number, axis: number) => ({
      id: randomUUID(),
      model: { name: 'mail', version: '1' },
      input: { subject: `mail ${i}`, truth: axis === 0 ? 'spam' : 'ham' },
      scores: { ham: 0.6, spam: 0.4 },
      embedding: [0, 1].map((k) => (k === axis ? 1 : 0.001 * i)),
    });
    const rater = await createUser(app, admin, 'rater', project);
    // six labelled by the rater through the API: spam around one axis, ham around the other
    expect(
      (await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [0, 1, 2, 3, 4, 5].map((i) => mail(i, i % 2)) }))
        .status,
    ).toBe(200);
    await labelWithTruth(project.slug, rater.token);
    // one more near the spam axis, not routed; the pass labels it; a backfill then routes it
    await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 } },
    });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [mail(7, 0)] })).status).toBe(200);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin })).body.propagated).toBe(1);
    await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 } },
    });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token: admin, body: {} })).body.routed.total).toBe(1);

    const { context, page, errors } = await signedIn(rater);
    try {
      await page.goto(`${app.url}/projects/${project.slug}/label`);
      await page.locator('article.task-card').waitFor();
      const hint = page.locator('button[data-label="spam"]').getByTestId('machine-hint');
      await hint.waitFor();
      expect(await hint.textContent()).toBe('neighbours say 100%');
      // the model's own guess stays where it was
      expect(await page.locator('button[data-label="ham"]').textContent()).toContain("model's guess");
      await page.locator('article.task-card').screenshot({ path: screenshotPath('rater-machine-label.png'), animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

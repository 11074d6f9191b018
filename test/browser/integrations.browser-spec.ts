import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { createApiKey, createProject } from '../factories';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'label-studio-export.json');

describe('browser: an admin plugs in KServe and moves a Label Studio project in and out', () => {
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

  it('shows the sink URL and its state, imports a Label Studio file, and downloads the project as Label Studio tasks', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, { name: 'Reviews', labels: [{ name: 'Positive' }, { name: 'Negative' }, { name: 'Neutral' }] });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    // one KServe pair and one half still waiting for its pair
    const event = (id: string, kind: string, body: unknown) =>
      fetch(`${app.url}/api/v1/projects/${project.slug}/integrations/kserve`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'ce-id': id,
          'ce-specversion': '1.0',
          'ce-type': `org.kubeflow.serving.inference.${kind}`,
          'ce-source': 'http://localhost:9081/',
          'ce-inferenceservicename': 'reviews',
        },
        body: JSON.stringify(body),
      });
    expect((await event('pair-1', 'request', { instances: [[1, 2, 3]] })).status).toBe(202);
    expect((await event('pair-1', 'response', { predictions: [[0.7, 0.2, 0.1]] })).status).toBe(201);
    expect((await event('half-2', 'response', { predictions: [[0.1, 0.1, 0.8]] })).status).toBe(202);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(app.url);
      await page.fill('input[name="email"]', ADMIN.email);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Reviews').first().waitFor();
      await page.goto(`${app.url}/projects/${project.slug}/settings/integrations`);
      const panel = page.getByTestId('integrations-panel');
      await panel.waitFor();
      expect(await page.getByTestId('kserve-url').textContent()).toBe(`${app.url}/api/v1/projects/${project.slug}/integrations/kserve`);
      const tiles = page.getByTestId('kserve-status');
      await expect(tiles.locator('div', { hasText: 'Pairs in the last day' }).locator('dd').textContent()).resolves.toBe('1');
      await expect(tiles.locator('div', { hasText: 'Waiting for their pair' }).locator('dd').textContent()).resolves.toBe('1');

      // import: the file input behind the button
      await page.getByTestId('label-studio-import').locator('input[type="file"]').setInputFiles(FIXTURE);
      const notice = page.getByTestId('label-studio-imported');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(
        /^Imported \d+ tasks: \d+ new predictions \(0 already here\), \d+ answers, \d+ labels, \d+ imported raters\.$/,
      );
      const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1 AND model_name = 'label-studio'`, [project.id]);
      expect(n).toBeGreaterThan(0);

      // the page's sticky header would sit over the panel's top in an element shot
      // (set through the DOM: the page's Content-Security-Policy refuses an injected style tag)
      await page.evaluate(() => document.querySelector<HTMLElement>('.app-header')?.style.setProperty('position', 'static', 'important'));
      await panel.screenshot({ path: screenshotPath('integrations.png'), animations: 'disabled' });

      // the download (labeled predictions only, the default) is the imported tasks with their answers
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('label-studio-export').click()]);
      const tasks = JSON.parse((await (await download.createReadStream()).toArray()).map(String).join('')) as Array<{ annotations: unknown[] }>;
      expect(tasks.length).toBeGreaterThan(0);
      expect(tasks.every((task) => Array.isArray(task.annotations))).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

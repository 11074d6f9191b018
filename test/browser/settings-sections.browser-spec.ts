import type { Browser } from 'playwright-core';
import { launchChromium, screenshotPath } from './support/chromium';
import { expectAccessible } from './support/axe';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { createProject } from '../factories';

describe('browser: every project setting in the UI, a section at a time', () => {
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

  it('edits labeling, monitoring and export settings that only the API could change, refusing a bad value by its field', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, { name: 'Settings at hand', labels: [{ name: 'ham' }, { name: 'spam' }] });
    const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const stored = async () => (await app.request('GET', `/api/v1/projects/${project.slug}`, { token: admin })).body;
    try {
      await page.goto(app.url);
      await page.fill('input[name="email"]', ADMIN.email);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();

      // labeling: a lease out of range is named and nothing is saved; then a valid change is
      await page.goto(`${app.url}/projects/${project.slug}/settings/labeling`);
      const labeling = page.getByTestId('labeling-settings');
      await labeling.getByLabel('Lease length (seconds)').fill('5');
      await labeling.getByRole('button', { name: 'Save labeling settings' }).click();
      await labeling
        .getByText(/Lease length \(seconds\) must be a whole number from 10 to 3600/)
        .first()
        .waitFor();
      expect((await stored()).labeling.leaseSeconds).toBe(120);
      await labeling.getByLabel('Lease length (seconds)').fill('300');
      await labeling.getByLabel('Gold rate (%)').fill('10');
      await labeling.getByRole('checkbox', { name: /prediction/i }).check();
      await labeling.getByRole('button', { name: 'Save labeling settings' }).click();
      await labeling.getByText(/^Saved/).waitFor();
      expect((await stored()).labeling).toMatchObject({ leaseSeconds: 300, goldRate: 0.1, showPrediction: true });
      await expectAccessible(page, 'the labeling settings');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('settings-labeling.png'), fullPage: true, animations: 'disabled' });

      // monitoring: a tighter window and margin
      await page
        .getByRole('navigation', { name: 'Settings' })
        .getByRole('link', { name: /^Monitoring/ })
        .click();
      await page.waitForURL(`**/projects/${project.slug}/settings/monitoring`);
      const monitoring = page.getByTestId('monitoring-settings');
      await monitoring.getByLabel('Current window (hours)').fill('12');
      await monitoring.getByLabel(/Accuracy margin/).fill('3');
      await monitoring.getByRole('button', { name: 'Save monitoring settings' }).click();
      await monitoring.getByText(/^Saved/).waitFor();
      expect((await stored()).monitoring).toMatchObject({ windowHours: 12, accuracyMargin: 0.03 });
      await expectAccessible(page, 'the monitoring settings');

      // exports: CSV too, a 70/30 split, a schedule and a webhook
      await page
        .getByRole('navigation', { name: 'Settings' })
        .getByRole('link', { name: /^Exports/ })
        .click();
      const exporting = page.getByTestId('export-settings');
      await exporting.getByRole('checkbox', { name: /^csv/i }).check();
      await exporting.getByLabel('Train split (%)').fill('70');
      await exporting.getByLabel(/Schedule/).fill('nonsense');
      await exporting.getByRole('button', { name: 'Save export settings' }).click();
      await exporting
        .getByText(/cron expression of five fields/)
        .first()
        .waitFor();
      await exporting.getByLabel(/Schedule/).fill('30 6 * * 1');
      await exporting.getByLabel(/webhook URL/i).fill('https://pipelines.example.com/backflow');
      await exporting.getByLabel(/webhook secret/i).fill('a-secret-of-sixteen-or-more');
      await exporting.getByRole('button', { name: 'Save export settings' }).click();
      await exporting.getByText(/^Saved/).waitFor();
      expect((await stored()).export).toMatchObject({
        formats: ['tfrecord', 'csv'],
        splits: { train: 70, eval: 30 },
        schedule: '30 6 * * 1',
        webhook: { url: 'https://pipelines.example.com/backflow' },
      });
      await expectAccessible(page, 'the export settings');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('settings-exports.png'), fullPage: true, animations: 'disabled' });

      // a section that does not exist says so, with the way back
      await page.goto(`${app.url}/projects/${project.slug}/settings/nowhere`);
      await page.getByText('This project’s settings have no section “nowhere”.', { exact: false }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

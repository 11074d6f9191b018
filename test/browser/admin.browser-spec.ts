import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';

describe('browser: an admin sets up a project and its key, and the key feeds a rater', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-ui-export-'));
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: exportRoot });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  async function signedIn(email: string, password: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(app.url);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    return { context, page, errors };
  }

  it('creates a project and an API key in the UI; a prediction sent with the key reaches a rater', async () => {
    const admin = await signedIn(ADMIN.email, ADMIN.password);
    try {
      const { page } = admin;
      await page.getByTestId('new-project').click();
      await page.getByRole('heading', { level: 1, name: 'New project' }).waitFor();
      await page.getByLabel('Name', { exact: true }).fill('Support tickets');
      expect(await page.getByLabel('Slug').inputValue()).toBe('support-tickets');
      await page.getByLabel('Label 1', { exact: true }).fill('billing');
      await page.getByLabel('Label 2', { exact: true }).fill('bug');
      await page.getByRole('button', { name: 'Add a label' }).click();
      await page.getByLabel('Label 3', { exact: true }).fill('other');
      await page.getByLabel('Instructions', { exact: true }).fill('# Ticket triage\n\nPick **bug** when the product misbehaves.');
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.getByTestId('instructions-preview').getByRole('heading', { name: 'Ticket triage' }).waitFor();
      await page.getByLabel('Masked fields').fill('customer_email');
      await page.getByLabel('Route when uncertainty ≥').fill('0');
      // (the header is sticky: a full-page picture is taken from the top)
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('admin-new-project.png'), fullPage: true, animations: 'disabled' });
      await page.getByRole('button', { name: 'Create project' }).click();

      await page.waitForURL('**/projects/support-tickets/settings');
      await page.getByRole('heading', { level: 1, name: 'Support tickets' }).waitFor();
      await page.getByLabel('Key name').fill('model-server');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.getByTestId('new-key-secret').textContent())!.trim();
      expect(secret.length).toBeGreaterThan(20);
      await page.getByTestId('api-key-row').first().waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('admin-project-settings.png'), fullPage: true, animations: 'disabled' });

      // what the UI made is what the API stores
      const [stored] = await app.sql(
        `SELECT labels, instructions, masked_fields, routing->>'threshold' AS threshold FROM projects WHERE slug = 'support-tickets'`,
      );
      expect(stored.labels.map((l: { name: string }) => l.name)).toEqual(['billing', 'bug', 'other']);
      expect(stored.masked_fields).toEqual(['customer_email']);
      expect(stored.threshold).toBe('0');

      // the key feeds the project
      const id = randomUUID();
      const ingested = await app.request('POST', '/api/v1/projects/support-tickets/predictions', {
        token: secret,
        body: {
          id,
          model: { name: 'triage', version: '3' },
          input: { ticket: 'The invoice page shows an error 500 since this morning.', customer_email: 'hidden@example.com' },
          scores: { billing: 0.4, bug: 0.5, other: 0.1 },
        },
      });
      expect(ingested.status).toBe(201);

      // the admin gives a new person an account and the rater role, in the UI (the People section)
      await page
        .getByRole('navigation', { name: 'Settings' })
        .getByRole('link', { name: /^People/ })
        .click();
      await page.waitForURL('**/projects/support-tickets/settings/people');
      const email = `rater-${randomUUID().slice(0, 8)}@example.com`;
      const password = 'Rater-pass-123!';
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByLabel('Password for a new account').fill(password);
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByTestId('member-row').filter({ hasText: email }).waitFor();

      // the rater finds the prediction in their queue, without the masked field, and labels it
      const rater = await signedIn(email, password);
      try {
        await rater.page.getByTestId('start-labeling').click();
        await rater.page.getByText('The invoice page shows an error 500 since this morning.').waitFor();
        expect(await rater.page.content()).not.toContain('hidden@example.com');
        await rater.page.keyboard.press('2');
        await rater.page.keyboard.press('Enter');
        await rater.page.locator('[data-testid="own-count"]', { hasText: '1' }).waitFor();
        expect(rater.errors).toEqual([]);

        // the admin's live operations (the overview) show the open task and the rater holding it, as charts
        await page
          .getByRole('navigation', { name: 'Settings' })
          .getByRole('link', { name: /^Overview/ })
          .click();
        const ops = page.getByTestId('live-operations');
        await ops.getByTestId('ops-open').filter({ hasText: /^0$/ }).waitFor();
        await ops.getByTestId('ops-answers').filter({ hasText: /^1$/ }).waitFor();
        expect(await ops.locator('.recharts-wrapper').count()).toBe(2);
        await ops.scrollIntoViewIfNeeded();
        await page.screenshot({ path: screenshotPath('admin-operations.png'), animations: 'disabled' });
        // and the raters table (People) has the answer
        await page
          .getByRole('navigation', { name: 'Settings' })
          .getByRole('link', { name: /^People/ })
          .click();
        await page
          .getByTestId('raters-table')
          .getByRole('row', { name: new RegExp(email) })
          .getByRole('cell', { name: '1', exact: true })
          .waitFor();
        await page.getByTestId('raters-table').scrollIntoViewIfNeeded();
        await page.screenshot({ path: screenshotPath('admin-people.png'), animations: 'disabled' });
      } finally {
        await rater.context.close();
      }
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });

  it('previews a routing policy as charts while it is edited, saves it, and edits the project', async () => {
    const token = await app.login();
    const slug = `routed-${randomUUID().slice(0, 6)}`;
    expect(
      (
        await app.request('POST', '/api/v1/projects', {
          token,
          body: { slug, name: 'Routed', taskType: 'single_label', labels: [{ name: 'ham' }, { name: 'spam' }], routing: { explorationRate: 0 } },
        })
      ).status,
    ).toBe(201);
    const key = (await app.request('POST', `/api/v1/projects/${slug}/api-keys`, { token, body: { name: 'k', scopes: ['ingest'] } })).body.secret;
    // 200 predictions, top score spread from 0.5 to 1
    const batch = Array.from({ length: 200 }, (_, i) => {
      const top = 0.5 + i / 400;
      return {
        id: randomUUID(),
        model: { name: 'm', version: '1' },
        input: { n: i },
        scores: { ham: top, spam: 1 - top },
        slice: { country: ['FR', 'DE', 'US'][i % 3] },
      };
    });
    expect((await app.request('POST', `/api/v1/projects/${slug}/predictions/batch`, { token: key, body: batch })).status).toBe(200);

    const admin = await signedIn(ADMIN.email, ADMIN.password);
    try {
      const { page } = admin;
      await page.goto(`${app.url}/projects/${slug}/settings/routing`);
      const editor = page.getByTestId('routing-editor');
      await editor.waitFor();
      await editor.getByLabel('Threshold (0–1)').fill('0.25');
      // (uncertainty 1 − top ≥ 0.25 for top ≤ 0.75: the first 101)
      await editor.getByTestId('preview-routed').filter({ hasText: /^101$/ }).waitFor();
      await editor.getByRole('img', { name: 'Predictions routed per slice' }).locator('.recharts-bar-rectangle').first().waitFor();
      await editor.scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath('admin-routing.png'), fullPage: false, animations: 'disabled' });
      // five tasks per fifty predictions: four windows of the 200, five each
      await editor.getByLabel('At most this many tasks…').fill('5');
      await editor.getByLabel('…per this many predictions').fill('50');
      await editor.getByLabel('At most, per request').fill('30');
      await editor.getByTestId('preview-routed').filter({ hasText: /^20$/ }).waitFor();
      await editor.getByRole('button', { name: 'Save routing' }).click();
      await editor.getByText('Saved: new predictions are routed by this policy.').waitFor();
      const [saved] = await app.sql(`SELECT routing FROM projects WHERE slug = $1`, [slug]);
      expect(saved.routing).toMatchObject({
        strategy: 'least_confidence',
        threshold: 0.25,
        explorationRate: 0,
        budget: { perBatch: 30, perPredictions: { tasks: 5, predictions: 50 } },
      });
      // a burst of seconds says nothing of an hour: the share routed stands for it
      await editor.getByTestId('preview-span').waitFor();
      expect(await editor.getByTestId('preview-share').innerText()).toMatch(/^\d+(\.\d)?%$/);
      // the saved policy routes the predictions that came before it, within its budget
      await editor.getByTestId('backfill').click();
      await editor
        .getByTestId('backfill-status')
        .filter({ hasText: /^200 examined, \d+ routed.*none older is left without a task\.$/ })
        .waitFor();
      const routed = Number(/examined, (\d+) routed/.exec(await editor.getByTestId('backfill-status').innerText())![1]);
      const [{ n: tasks }] = await app.sql(`SELECT count(*)::int AS n FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.slug = $1`, [slug]);
      expect(tasks).toBe(routed);
      expect(routed).toBeGreaterThan(0);
      await expect(editor.getByTestId('backfill').isDisabled()).resolves.toBe(true);
      // (the header stays put while the element is captured, or it lands in the middle of the picture; set through the CSSOM, which the CSP allows)
      await page.evaluate(() => document.querySelector<HTMLElement>('.app-header')!.style.setProperty('position', 'static'));
      await editor.screenshot({ path: screenshotPath('admin-routing-backfill.png'), animations: 'disabled' });
      await page.evaluate(() => document.querySelector<HTMLElement>('.app-header')!.style.removeProperty('position'));

      // every group of settings is a section with its own address, reached from the list beside it
      const sections = page.getByRole('navigation', { name: 'Settings' });
      await sections.getByRole('link', { name: /^Project/ }).click();
      await page.waitForURL(`**/projects/${slug}/settings/general`);
      expect(await sections.getByRole('link', { name: /^Project/ }).getAttribute('aria-current')).toBe('page');
      await page.getByLabel('Project name').fill('Routed mail');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByText('Saved. Raters see the change on their next task.').waitFor();
      const [renamed] = await app.sql(`SELECT name FROM projects WHERE slug = $1`, [slug]);
      expect(renamed.name).toBe('Routed mail');

      // a click within 30 minutes means ham; a correction names its label; silence for a day means spam
      await sections.getByRole('link', { name: /^Feedback rules/ }).click();
      await page.waitForURL(`**/projects/${slug}/settings/feedback`);
      const rules = page.getByTestId('feedback-rules');
      await rules.getByRole('button', { name: 'Add a rule' }).click();
      await rules.getByLabel('Event type').fill('click');
      await rules.getByLabel('Within (minutes)').fill('30');
      await rules.getByRole('button', { name: 'Add a rule' }).click();
      const second = rules.getByRole('group', { name: 'Rule 2' });
      await second.getByLabel('Event type').fill('correction');
      await second.getByLabel('Label').selectOption('$value');
      await second.getByLabel('Priority').fill('10');
      await rules.getByLabel('With no matching event at all').selectOption('spam');
      await rules.getByRole('button', { name: 'Save feedback rules' }).click();
      await rules.getByText('Saved: feedback arriving from now on follows these rules.').waitFor();
      const [withRules] = await app.sql(`SELECT feedback_rules FROM projects WHERE slug = $1`, [slug]);
      expect(withRules.feedback_rules).toEqual({
        rules: [
          { eventType: 'click', label: 'ham', windowMinutes: 30, priority: 0 },
          { eventType: 'correction', label: '$value', windowMinutes: 60, priority: 10 },
        ],
        absence: { label: 'spam', windowMinutes: 1440 },
      });

      // keep raw predictions 30 days, archive what goes, and run it now
      await sections.getByRole('link', { name: /^Retention/ }).click();
      const retention = page.getByTestId('retention');
      await retention.getByLabel('Keep predictions for (days)').fill('30');
      await retention.getByLabel('Archive what goes (Parquet)').check();
      await retention.getByRole('button', { name: 'Save retention' }).click();
      await retention.getByText('Saved: predictions older than 30 days may go, hourly.').waitFor();
      expect((await app.sql(`SELECT retention_settings FROM projects WHERE slug = $1`, [slug]))[0].retention_settings).toEqual({ days: 30, archive: true });
      await retention.getByRole('button', { name: 'Run now' }).click();
      await retention.getByText(/^Removed 0 predictions/).waitFor();
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });

  it('creates an account, changes its role and disables it on the users page', async () => {
    const admin = await signedIn(ADMIN.email, ADMIN.password);
    try {
      const { page } = admin;
      await page.getByTestId('users-link').click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      const email = `person-${randomUUID().slice(0, 8)}@example.com`;
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByLabel('Password', { exact: true }).fill('Person-pass-1234!');
      await page.getByRole('button', { name: 'Create account' }).click();
      const row = page.getByTestId('user-row').filter({ hasText: email });
      await row.waitFor();
      await row.getByLabel(`Role of ${email}`).selectOption('reviewer');
      await page.waitForFunction(async (address) => {
        const response = await fetch('/api/v1/users');
        const { users } = await response.json();
        return users.find((u: { email: string }) => u.email === address)?.role === 'reviewer';
      }, email);
      await row.getByRole('button', { name: `Disable ${email}` }).click();
      await row.getByRole('button', { name: `Enable ${email}` }).waitFor();
      const [stored] = await app.sql(`SELECT role, disabled_at IS NOT NULL AS disabled FROM users WHERE email = $1`, [email]);
      expect(stored).toEqual({ role: 'reviewer', disabled: true });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('admin-users.png'), fullPage: true, animations: 'disabled' });
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });

  it('exports the new labels from the project page, with the progress shown and the files listed', async () => {
    const token = await app.login();
    const slug = `exported-${randomUUID().slice(0, 6)}`;
    const created = await app.request('POST', '/api/v1/projects', {
      token,
      body: {
        slug,
        name: 'Exported',
        taskType: 'single_label',
        labels: [{ name: 'ham' }, { name: 'spam' }],
        routing: { explorationRate: 0 },
        feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
      },
    });
    expect(created.status).toBe(201);
    const key = (await app.request('POST', `/api/v1/projects/${slug}/api-keys`, { token, body: { name: 'k', scopes: ['ingest'] } })).body.secret;
    const batch = Array.from({ length: 40 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { n: i },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    expect((await app.request('POST', `/api/v1/projects/${slug}/predictions/batch`, { token: key, body: batch })).status).toBe(200);
    expect(
      (
        await app.request('POST', `/api/v1/projects/${slug}/feedback`, {
          token: key,
          body: batch.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' })),
        })
      ).status,
    ).toBe(201);

    const admin = await signedIn(ADMIN.email, ADMIN.password);
    try {
      const { page } = admin;
      await page.goto(`${app.url}/projects/${slug}/settings/exports`);
      const panel = page.getByTestId('exports-panel');
      await panel.getByText('No span yet.').waitFor();
      await panel.getByRole('button', { name: 'Export new labels' }).click();
      await panel.getByTestId('export-progress').getByText('completed (40 of 40 rows)').waitFor();
      const table = panel.getByTestId('spans-table');
      await table.getByText('version 1: completed, 2 files, TFDV statistics and anomalies').waitFor();
      // a finished version's files are in plain sight, nothing to expand; each is saved under a name that keeps its split
      for (const split of ['train', 'eval']) {
        const link = table.getByRole('link', { name: `Split-${split}/data_tfrecord-00000-of-00001.gz` });
        await expect(link.isVisible()).resolves.toBe(true);
        const download = await page.request.get(`${app.url}${await link.getAttribute('href')}`);
        expect(download.status()).toBe(200);
        expect((await download.body()).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
        expect(download.headers()['content-disposition']).toBe(`attachment; filename="${slug}-span-1-v1-${split}-data_tfrecord-00000-of-00001.gz"`);
      }
      await panel.scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath('admin-exports.png'), animations: 'disabled' });
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });
});

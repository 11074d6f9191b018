import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Namespace } from 'socket.io';
import { LabelingGateway } from '../../server/src/realtime/labeling.gateway';
import { createApiKey, createProject, createUser } from '../factories';
import { launchChromium, screenshotPath } from './support/chromium';
import { startTestApp, type TestApp } from '../helpers/test-app';

const SECRET = 'masked-secret-7f3a@example.com';

describe('browser: a rater labels with the keyboard over the live socket', () => {
  let app: TestApp;
  let browser: Browser;
  let admin: string;
  let project: { id: string; slug: string };
  let key: string;

  beforeAll(async () => {
    app = await startTestApp();
    browser = await launchChromium();
    admin = await app.login();
    project = await createProject(app, admin, {
      name: 'Inbox triage',
      instructions: '## How to label\n\n- **spam**: unsolicited bulk mail\n- **ham**: everything a person wanted',
      maskedFields: ['sender_email'],
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
    });
    key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    await ingest(7);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function ingest(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const response = await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
        token: key,
        body: {
          id: randomUUID(),
          model: { name: 'mail', version: '1' },
          input: {
            subject: `Quarterly report ${i}`,
            body: `Hello team,\n\nPlease find the figures for quarter ${i} attached.\n\nBest regards,\nThe finance desk`,
            sender_email: SECRET,
            links: i,
            has_attachment: i % 2 === 0,
          },
          scores: { ham: 0.55, spam: 0.45 },
        },
      });
      if (response.status !== 201) throw new Error(`ingest -> ${response.status} ${JSON.stringify(response.body)}`);
    }
  }

  /** A signed-in rater's page, recording every HTTP body and socket frame it receives. */
  async function raterPage(rater: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page; received: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const received: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on(
      'response',
      (response) =>
        void response.text().then(
          (text) => received.push(text),
          () => undefined,
        ),
    );
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => received.push(String(payload))));
    await page.goto(app.url);
    await page.fill('input[name="email"]', rater.email);
    await page.fill('input[name="password"]', rater.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    return { context, page, received, errors };
  }

  it('labels five tasks with the keyboard alone, never sees the masked field, and sees others work live', async () => {
    const rater = await createUser(app, admin, 'rater', project);
    const other = await createUser(app, admin, 'rater', project);
    const { context, page, received, errors } = await raterPage(rater);
    const watcher = await raterPage(other);
    try {
      // the project card shows the queue, and a link to label it
      await page.locator('[data-testid="card-queue-depth"]', { hasText: '7 tasks wait' }).waitFor();
      await page.screenshot({ path: screenshotPath('rater-projects.png'), fullPage: true, animations: 'disabled' });
      // keyboard only: Tab to the link and Enter
      for (let i = 0; i < 20 && !(await page.evaluate(() => document.activeElement?.dataset.testid === 'start-labeling')); i++)
        await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/projects/${project.slug}/label`);
      const card = page.locator('article.task-card');
      await card.waitFor();
      await page.getByRole('button', { name: /spam/ }).waitFor();

      // the instructions are one key away, rendered from markdown
      await page.keyboard.press('i');
      await page.getByRole('complementary', { name: 'Instructions' }).getByRole('heading', { name: 'How to label' }).waitFor();
      await page.screenshot({ path: screenshotPath('rater-labeling.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('Escape');

      // the other rater opens the same queue and watches its depth
      await watcher.page.goto(`${app.url}/projects/${project.slug}/label`);
      await watcher.page.locator('article.task-card').waitFor();

      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = await card.getAttribute('data-task-id');
        expect(id).toBeTruthy();
        seen.push(id!);
        await page.keyboard.press('2');
        await page.locator('button[data-label="spam"][aria-pressed="true"]').waitFor();
        await page.keyboard.press('Enter');
        // the next task is already there (or, at the end, nothing is left for this rater)
        await page.waitForFunction((previous) => document.querySelector('article.task-card')?.getAttribute('data-task-id') !== previous, id);
      }
      expect(new Set(seen).size).toBe(5);
      await page.locator('[data-testid="own-count"]', { hasText: '5' }).waitFor();

      const stored = await app.sql(`SELECT task_id, label FROM annotations WHERE rater_id = $1 ORDER BY created_at`, [rater.id]);
      expect(stored.map((r) => r.label)).toEqual(['spam', 'spam', 'spam', 'spam', 'spam']);
      expect(stored.map((r) => r.task_id).sort()).toEqual([...seen].sort());

      // the watcher saw the queue shrink without reloading: 7 tasks, 5 answered, its own 2 held are still open
      await watcher.page.locator('[data-testid="queue-depth"]', { hasText: /^2$/ }).waitFor();
      await watcher.page.locator('[data-testid="done-today"]', { hasText: /^5$/ }).waitFor();

      // the masked field never reached the page: not in the DOM, not in any response or socket frame
      expect(await page.content()).not.toContain(SECRET);
      expect(received.length).toBeGreaterThan(5);
      for (const body of [...received, ...watcher.received]) expect(body).not.toContain(SECRET);
      expect(errors).toEqual([]);
      expect(watcher.errors).toEqual([]);
    } finally {
      await context.close();
      await watcher.context.close();
    }
  });

  it('shows the lost connection, reconnects by itself, and goes on labeling', async () => {
    const rater = await createUser(app, admin, 'rater', project);
    await ingest(2);
    const { context, page, errors } = await raterPage(rater);
    try {
      await page.goto(`${app.url}/projects/${project.slug}/label`);
      const card = page.locator('article.task-card');
      await card.waitFor();
      // cut every labeling socket's transport under the server, as a network drop or a restart would
      const gateway = app.app.get<unknown, { namespace: Namespace }>(LabelingGateway);
      for (const socket of gateway.namespace.sockets.values()) socket.conn.close();
      await page.locator('[data-testid="connection-banner"]').waitFor();
      await page.screenshot({ path: screenshotPath('rater-reconnecting.png'), animations: 'disabled' });
      await page.locator('[data-testid="connection-banner"]').waitFor({ state: 'detached' });
      const id = await card.getAttribute('data-task-id');
      await page.keyboard.press('1');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="own-count"]', { hasText: '1' }).waitFor();
      const stored = await app.sql(`SELECT task_id, label FROM annotations WHERE rater_id = $1`, [rater.id]);
      expect(stored).toEqual([{ task_id: id, label: 'ham' }]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('takes a stored answer back with Z while its task still waits for other raters', async () => {
    const shared = await createProject(app, admin, {
      name: 'Shared queue',
      overlap: 2,
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      // sent at once: what is taken back here is a stored answer, by the server (a held one is rater-screen.browser-spec's)
      labeling: { goldRate: 0, undoSeconds: 0 },
    });
    const sharedKey = (await createApiKey(app, admin, shared.slug, ['ingest'])).secret;
    for (let i = 0; i < 3; i++) {
      const response = await app.request('POST', `/api/v1/projects/${shared.slug}/predictions`, {
        token: sharedKey,
        body: { id: randomUUID(), model: { name: 'm', version: '1' }, input: { text: `note ${i}` }, scores: { ham: 0.5, spam: 0.5 } },
      });
      expect(response.status).toBe(201);
    }
    const rater = await createUser(app, admin, 'rater', shared);
    const { context, page, errors } = await raterPage(rater);
    try {
      await page.goto(`${app.url}/projects/${shared.slug}/label`);
      const card = page.locator('article.task-card');
      await card.waitFor();
      const first = await card.getAttribute('data-task-id');
      await page.keyboard.press('1');
      await page.keyboard.press('Enter');
      await page.waitForFunction((previous) => document.querySelector('article.task-card')?.getAttribute('data-task-id') !== previous, first);
      await page.locator('[data-testid="own-count"]', { hasText: '1' }).waitFor();
      await page.keyboard.press('z');
      await page.locator('[data-testid="labeling-notice"]', { hasText: 'Answer taken back' }).waitFor();
      expect(await card.getAttribute('data-task-id')).toBe(first);
      await page.locator('[data-testid="own-count"]', { hasText: '0' }).waitFor();
      await page.keyboard.press('2');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="own-count"]', { hasText: '1' }).waitFor();
      const answers = await app.sql(`SELECT label FROM annotations WHERE rater_id = $1 AND task_id = $2`, [rater.id, first]);
      expect(answers).toEqual([{ label: 'spam' }]);
      const leases = await app.sql(`SELECT count(*)::int AS n FROM task_leases WHERE rater_id = $1 AND expires_at > now()`, [rater.id]);
      expect(leases[0].n).toBeLessThanOrEqual(2);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

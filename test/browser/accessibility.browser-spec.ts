import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey, createProject, createUser } from '../factories';
import { expectAccessible } from './support/axe';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';

type Person = { email: string; password: string };

/** What has the keyboard focus: its role or tag and its accessible name, and whether a focus ring shows. */
async function focused(page: Page): Promise<{ name: string; ring: boolean; tag: string }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return { name: '', ring: false, tag: 'body' };
    const labelledBy = element.getAttribute('aria-labelledby');
    const name = (
      element.getAttribute('aria-label') ??
      (labelledBy ? document.getElementById(labelledBy.split(' ')[0])?.textContent : null) ??
      element.textContent ??
      ''
    )
      .replace(/\s+/g, ' ')
      .trim();
    const style = getComputedStyle(element);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    return { name, ring, tag: element.tagName.toLowerCase() };
  });
}

/** Tabs through the page from the top until focus comes back round (or `max` presses): what each stop was. */
async function tabOrder(page: Page, max = 40): Promise<Array<{ name: string; ring: boolean; tag: string }>> {
  await page.evaluate(() => (document.activeElement as { blur?: () => void } | null)?.blur?.());
  await page.locator('body').click({ position: { x: 2, y: 2 } });
  const stops: Array<{ name: string; ring: boolean; tag: string }> = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const stop = await focused(page);
    if (stop.tag === 'body' || (stops.length > 0 && stop.name === stops[0].name && stop.tag === stops[0].tag)) break;
    stops.push(stop);
  }
  return stops;
}

/** The names in `expected` appear among the stops, in this order (other stops may come between). */
function inOrder(stops: Array<{ name: string }>, expected: RegExp[]): string[] {
  const missing: string[] = [];
  let from = 0;
  for (const pattern of expected) {
    const at = stops.findIndex((stop, index) => index >= from && pattern.test(stop.name));
    if (at < 0)
      missing.push(
        `${String(pattern)} not among the stops after it: ${stops
          .slice(from)
          .map((stop) => stop.name || '(unnamed)')
          .join(' | ')}`,
      );
    else from = at + 1;
  }
  return missing;
}

// issue 25 item 6: the rater and admin screens pass axe-core with no serious or critical violation,
// every action is reachable by keyboard, and a screen a role does not open says which role it needs
describe('browser: accessibility of the rater, reviewer and admin screens; pages a role does not open', () => {
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
      name: 'Support tickets',
      instructions: '## Labels\n\n- **ham**: a real request\n- **spam**: anything else',
      overlap: 2,
      maskedFields: ['customer_email'],
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0, undoSeconds: 5 },
    });
    key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    for (let i = 0; i < 8; i++) {
      const response = await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
        token: key,
        body: {
          id: randomUUID(),
          model: { name: 'tickets', version: '2' },
          input: {
            title: `Printer on floor ${i} is offline`,
            text: `Hello,\n\nthe printer on floor ${i} stopped answering this morning. Could someone look at it?\n\nThanks`,
            customer_email: `someone${i}@example.com`,
            priority: i % 3,
          },
          scores: { ham: 0.5, spam: 0.5 },
          slice: { team: i % 2 ? 'ops' : 'sales' },
        },
      });
      expect(response.status).toBe(201);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signedIn(person: Person): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(app.url);
    await page.locator('input[name="email"]').waitFor();
    await expectAccessible(page, 'the sign-in page');
    await page.fill('input[name="email"]', person.email);
    await page.fill('input[name="password"]', person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    await page.locator('[data-testid="project-card"], [data-testid="projects-empty"]').first().waitFor();
    return { context, page, errors };
  }

  it('the rater screen: no serious violation in any state, and every action in reading order by Tab, each with a visible focus ring', async () => {
    const rater = await createUser(app, admin, 'rater', project);
    const { context, page, errors } = await signedIn(rater);
    try {
      await expectAccessible(page, "a rater's projects page");
      await page.goto(`${app.url}/projects/${project.slug}/label`);
      await page.locator('article.task-card').waitFor();
      await expectAccessible(page, 'the rater screen');

      const stops = await tabOrder(page);
      expect(inOrder(stops, [/Signed in as/, /Log out/, /Projects/, /^text$/, /ham/, /spam/, /^Submit/, /^Skip/, /^Instructions/])).toEqual([]);
      expect(stops.filter((stop) => !stop.ring).map((stop) => stop.name)).toEqual([]);

      // the instructions, and the skip dialog (its focus starts inside it, Escape closes it)
      await page.keyboard.press('i');
      await page.getByRole('complementary', { name: 'Instructions' }).waitFor();
      await expectAccessible(page, 'the rater screen with the instructions open');
      await page.keyboard.press('Escape');
      await page.keyboard.press('s');
      const dialog = page.getByRole('dialog', { name: 'Skip this task' });
      await dialog.waitFor();
      expect(await page.evaluate(() => document.activeElement?.closest('[role="dialog"]') !== null)).toBe(true);
      await expectAccessible(page, 'the skip dialog');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });

      // answered by keyboard; Undo is the next stop after the task's own actions, and Enter on it takes the answer back
      const first = await page.locator('article.task-card').getAttribute('data-task-id');
      await page.keyboard.press('1');
      await page.keyboard.press('Enter');
      await page.getByTestId('last-answer').getByText('Answered: ham').waitFor();
      const withUndo = await tabOrder(page);
      expect(inOrder(withUndo, [/Log out/, /^Undo/, /^text$/, /^Submit/])).toEqual([]);
      await page.getByRole('button', { name: /^Undo/ }).focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('labeling-notice').getByText('Taken back').waitFor();
      expect(await page.locator('article.task-card').getAttribute('data-task-id')).toBe(first);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the review screen: no serious violation, and a decision by keyboard alone', async () => {
    const disputed = await createProject(app, admin, {
      name: 'Disputed tickets',
      overlap: 2,
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
    });
    const disputedKey = (await createApiKey(app, admin, disputed.slug, ['ingest'])).secret;
    const ingested = await app.request('POST', `/api/v1/projects/${disputed.slug}/predictions`, {
      token: disputedKey,
      body: {
        id: randomUUID(),
        model: { name: 'tickets', version: '2' },
        input: { title: 'Refund?', text: 'I was charged twice.' },
        scores: { ham: 0.5, spam: 0.5 },
      },
    });
    expect(ingested.status).toBe(201);
    const [a, b] = await Promise.all([createUser(app, admin, 'rater', disputed), createUser(app, admin, 'rater', disputed)]);
    const reviewer = await createUser(app, admin, 'reviewer', disputed);
    // the two raters disagree on the task: it goes to review
    const claim = async (token: string) =>
      (await app.request('POST', `/api/v1/projects/${disputed.slug}/tasks/claim`, { token, body: {} })).body.task as { id: string };
    const claimed = await claim(a.token);
    expect((await claim(b.token)).id).toBe(claimed.id);
    for (const [rater, label] of [
      [a, 'ham'],
      [b, 'spam'],
    ] as const) {
      const sent = await app.request('POST', `/api/v1/projects/${disputed.slug}/tasks/${claimed.id}/annotations`, {
        token: rater.token,
        body: { id: randomUUID(), label },
      });
      expect(sent.status).toBe(201);
    }
    const { context, page, errors } = await signedIn(reviewer);
    try {
      await page.goto(`${app.url}/projects/${disputed.slug}/review`);
      await page.locator('article.task-card').waitFor();
      await expectAccessible(page, 'the review screen');
      const stops = await tabOrder(page);
      expect(inOrder(stops, [/Log out/, /Projects/, /ham/, /spam/, /^Decide/])).toEqual([]);
      expect(stops.filter((stop) => !stop.ring).map((stop) => stop.name)).toEqual([]);
      await page.keyboard.press('2');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="decided-count"]', { hasText: '1' }).waitFor();
      const [label] = await app.sql(
        `SELECT l.value, l.source FROM labels l JOIN tasks t ON t.prediction_id = l.prediction_id WHERE t.id = $1 AND l.superseded_at IS NULL`,
        [claimed.id],
      );
      expect(label).toEqual({ value: 'spam', source: 'review' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the admin's screens: projects, settings (every section), users, a new project and quality pass; an error's heading says what happened", async () => {
    const { context, page, errors } = await signedIn(ADMIN);
    try {
      await expectAccessible(page, "an admin's projects page");
      // every section of the settings, each at its own address
      for (const section of [
        'general',
        'routing',
        'feedback',
        'weak-supervision',
        'labeling',
        'people',
        'monitoring',
        'exports',
        'retention',
        'integrations',
        '',
      ]) {
        await page.goto(`${app.url}/projects/${project.slug}/settings${section ? `/${section}` : ''}`);
        await page.locator('.settings-nav a[aria-current="page"]').waitFor();
        await page.locator('.settings-content .admin-section').first().waitFor();
        await page.waitForLoadState('networkidle');
        await expectAccessible(page, `the project settings, ${section || 'overview'}`);
      }
      await page.getByRole('heading', { name: 'API keys' }).waitFor();

      // a refused key: the heading from its code, the server's message naming the field
      await page.getByLabel('Key name').fill('k'.repeat(101));
      await page.getByRole('button', { name: 'Create key' }).click();
      const refused = page.getByRole('alert').filter({ hasText: 'name' });
      await refused.getByText('Something in the request is not valid').waitFor();
      expect(await page.getByText('Something went wrong').count()).toBe(0);
      await expectAccessible(page, 'the project settings page with an error');

      for (const [path, ready, screen] of [
        ['/users', 'heading', 'the users page'],
        ['/projects/new', 'heading', 'the new project page'],
        [`/projects/${project.slug}/quality`, 'heading', 'the quality page'],
      ] as const) {
        await page.goto(`${app.url}${path}`);
        await page.getByRole(ready, { level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        await expectAccessible(page, screen);
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says which role a page needs when a person opens one their role does not open, and offers the way back', async () => {
    const rater = await createUser(app, admin, 'rater', project);
    const outsider = await createProject(app, admin, { name: 'Not theirs' });
    const { context, page, errors } = await signedIn(rater);
    try {
      const forbidden = page.getByTestId('forbidden');
      await page.goto(`${app.url}/projects/${project.slug}/settings`);
      await forbidden.getByRole('heading', { level: 1, name: 'This page is for admins' }).waitFor();
      await forbidden.getByText(`needs the admin role. You are signed in as ${rater.email}, and your role there is rater.`).waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('forbidden-title');
      await page.screenshot({ path: screenshotPath('forbidden.png'), fullPage: true, animations: 'disabled' });
      await expectAccessible(page, 'the page a role does not open');

      await page.goto(`${app.url}/users`);
      await forbidden.getByRole('heading', { name: 'This page is for admins' }).waitFor();
      await forbidden.getByText('your role is rater').waitFor();

      await page.goto(`${app.url}/projects/${project.slug}/review`);
      await forbidden.getByRole('heading', { name: 'This page is for the project’s reviewers' }).waitFor();
      await forbidden.getByText('the reviewer role in this project').waitFor();
      // the way on: the labeling queue they may open
      await forbidden.getByRole('button', { name: 'Label this project' }).click();
      await page.locator('article.task-card').waitFor();

      await page.goto(`${app.url}/projects/${outsider.slug}/label`);
      await forbidden.getByRole('heading', { name: 'You are not a member of this project' }).waitFor();
      await forbidden.getByRole('button', { name: 'Go to your projects' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey, createProject, createUser } from '../factories';
import { expectAccessible } from './support/axe';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';

type Person = { email: string; password: string; id?: string };

// issue 25's rater screen: a stable layout the admin orders, nothing chosen before the rater
// chooses, a hint for Enter with nothing chosen, what was sent and an undo window that works when
// one answer decides, a reload back to the same task and choice, two tabs of one rater, a
// caught-up page that says why the queue is not empty, a broken image said to be broken
describe('browser: the rater screen', () => {
  let app: TestApp;
  let browser: Browser;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    browser = await launchChromium();
    admin = await app.login();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function project(settings: Record<string, unknown> = {}) {
    const made = await createProject(app, admin, {
      name: `Inbox ${randomUUID().slice(0, 6)}`,
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0, undoSeconds: 2 },
      ...settings,
    });
    const key = (await createApiKey(app, admin, made.slug, ['ingest'])).secret;
    const ingest = async (inputs: Array<Record<string, unknown>>) => {
      for (const input of inputs) {
        const response = await app.request('POST', `/api/v1/projects/${made.slug}/predictions`, {
          token: key,
          body: { id: randomUUID(), model: { name: 'mail', version: '1' }, input, scores: { ham: 0.5, spam: 0.5 } },
        });
        if (response.status !== 201) throw new Error(`ingest -> ${response.status} ${JSON.stringify(response.body)}`);
      }
    };
    return { ...made, key, ingest, path: (suffix: string) => `/api/v1/projects/${made.slug}${suffix}` };
  }

  /** Mail whose subject and body take turns being the long one: before, the longer moved between the table and a block of its own. */
  const mail = (i: number) => ({
    subject: i % 2 ? `Re: re: fwd: the quarterly figures you asked about on the phone last Tuesday, with the corrections (${i})` : `Figures ${i}`,
    body: i % 2 ? `Short note ${i}` : `Hello team,\n\nPlease find the figures for quarter ${i} attached.\n\nBest regards,\nThe finance desk`,
    links: i,
    has_attachment: i % 2 === 0,
  });

  async function signedIn(person: Person, context?: BrowserContext): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const own = context ?? (await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    own.setDefaultTimeout(15_000);
    const page = await own.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    if (!context) {
      await page.goto(app.url);
      await page.fill('input[name="email"]', person.email);
      await page.fill('input[name="password"]', person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    }
    return { context: own, page, errors };
  }

  const card = (page: Page) => page.locator('article.task-card');
  const taskId = (page: Page) => card(page).getAttribute('data-task-id');
  /** Where each field of the task on screen is: `row:subject`, `primary:body`, in the order on screen. */
  const layoutOf = (page: Page) =>
    page.$$eval('[data-testid="task-input"] [data-field]', (elements) =>
      elements.map((e) => `${(e as HTMLElement).dataset.role}:${(e as HTMLElement).dataset.field}`),
    );
  const answersOf = (raterId: string) =>
    app.sql<{ task_id: string; label: string }>(`SELECT task_id, label FROM annotations WHERE rater_id = $1 ORDER BY created_at`, [raterId]);
  /** No generic failure anywhere on the page. */
  const noGenericError = async (page: Page) => expect(await page.getByText('Something went wrong').count()).toBe(0);

  it('lays every task out alike (the subject above the body, the body the text to read, whatever their lengths); the admin reorders the fields and picks the text', async () => {
    const inbox = await project();
    await inbox.ingest([0, 1, 2, 3, 4].map(mail));
    const rater = await createUser(app, admin, 'rater', inbox);
    const { context, page, errors } = await signedIn(rater);
    try {
      await page.goto(`${app.url}/projects/${inbox.slug}/label`);
      const seen: string[][] = [];
      for (let i = 0; i < 3; i++) {
        await card(page).waitFor();
        const id = await taskId(page);
        seen.push(await layoutOf(page));
        if (i === 1) await page.screenshot({ path: screenshotPath('rater-layout.png'), fullPage: true, animations: 'disabled' });
        await page.keyboard.press('1');
        await page.keyboard.press('Enter');
        await page.waitForFunction((previous) => document.querySelector('article.task-card')?.getAttribute('data-task-id') !== previous, id);
      }
      expect(seen).toEqual([
        ['row:subject', 'primary:body', 'row:has_attachment', 'row:links'],
        ['row:subject', 'primary:body', 'row:has_attachment', 'row:links'],
        ['row:subject', 'primary:body', 'row:has_attachment', 'row:links'],
      ]);

      // the admin orders the fields on the settings page, with the keyboard alone
      const adminPage = await signedIn(ADMIN);
      try {
        await adminPage.page.goto(`${app.url}/projects/${inbox.slug}/settings/labeling`);
        const editor = adminPage.page.getByTestId('task-layout-editor');
        await editor.getByRole('heading', { name: 'Rater screen' }).waitFor();
        for (const field of ['subject', 'links', 'body']) {
          await editor.getByLabel('Add a field by name').fill(field);
          await editor.getByLabel('Add a field by name').press('Enter');
        }
        // links before subject: its "up" button, pressed from the keyboard
        await editor.getByRole('button', { name: 'Move links up' }).focus();
        await adminPage.page.keyboard.press('Enter');
        // the subject is the text to read
        await editor.getByRole('radio', { name: /^subject/ }).focus();
        await adminPage.page.keyboard.press('Space');
        await editor.getByLabel('Undo window (seconds)').fill('3');
        await expect(editor.locator('.task-layout__row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.field))).resolves.toEqual([
          'links',
          'subject',
          'body',
        ]);
        await expectAccessible(adminPage.page, 'the settings page with the rater screen editor');
        await editor.getByRole('button', { name: 'Save rater screen' }).click();
        await editor.getByText('Saved.').waitFor();
        // the section alone, from the whole page (where the sticky header stays at the top)
        const box = await editor.evaluate((e) => {
          window.scrollTo(0, 0);
          const r = e.getBoundingClientRect();
          return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
        });
        await adminPage.page.screenshot({ path: screenshotPath('admin-rater-screen.png'), fullPage: true, clip: box, animations: 'disabled' });
        const saved = await app.request('GET', inbox.path(''), { token: admin });
        expect(saved.body.labeling).toMatchObject({ layout: { fields: ['links', 'subject', 'body'], primary: 'subject' }, undoSeconds: 3 });
        expect(adminPage.errors).toEqual([]);
      } finally {
        await adminPage.context.close();
      }

      // the rater's held tasks come back with the project's layout now (a reload resumes them)
      await page.reload();
      await card(page).waitFor();
      expect(await layoutOf(page)).toEqual(['row:links', 'primary:subject', 'row:body', 'row:has_attachment']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows no label as chosen before the rater chooses; Enter with nothing chosen says what to press (announced) and sends nothing', async () => {
    const inbox = await project();
    await inbox.ingest([mail(0), mail(1)]);
    const rater = await createUser(app, admin, 'rater', inbox);
    const { context, page, errors } = await signedIn(rater);
    try {
      await page.goto(`${app.url}/projects/${inbox.slug}/label`);
      await card(page).waitFor();
      const ham = page.locator('button[data-label="ham"]');
      const spam = page.locator('button[data-label="spam"]');
      expect(await page.locator('button.label-button[aria-pressed="true"]').count()).toBe(0);
      // the pointer resting on the first label (where the project card's button was) does not make it look chosen
      await ham.hover();
      const look = (locator: typeof ham) => locator.evaluate((e) => ({ background: getComputedStyle(e).backgroundColor, color: getComputedStyle(e).color }));
      const hovered = await look(ham);

      await page.keyboard.press('Enter');
      const hint = page.getByTestId('submit-hint');
      await hint.getByText('Choose a label first: press 1 for ham, 2 for spam or click one, then Enter.').waitFor();
      expect(await hint.getAttribute('role')).toBe('status');
      expect(await hint.getAttribute('aria-live')).toBe('polite');
      await page.mouse.move(0, 0);
      await page.screenshot({ path: screenshotPath('rater-choose-first.png'), fullPage: true, animations: 'disabled' });
      await expectAccessible(page, 'the rater screen with the hint to choose first');
      expect(await answersOf(rater.id)).toEqual([]);

      await page.keyboard.press('2');
      await page.locator('button[data-label="spam"][aria-pressed="true"]').waitFor();
      const chosen = await look(spam);
      expect(chosen.background).not.toBe(hovered.background);
      expect(chosen.color).not.toBe(hovered.color);
      // chosen: the hint goes
      await hint.getByText('Choose a label first').waitFor({ state: 'detached' });
      await noGenericError(page);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('confirms what was sent; Undo (Z) takes the answer back within the window though one answer decides the task; after it the label is final and Undo is gone', async () => {
    const inbox = await project({ labeling: { goldRate: 0, undoSeconds: 3 } });
    await inbox.ingest([mail(0), mail(1), mail(2)]);
    const rater = await createUser(app, admin, 'rater', inbox);
    const { context, page, errors } = await signedIn(rater);
    try {
      await page.goto(`${app.url}/projects/${inbox.slug}/label`);
      await card(page).waitFor();
      const first = await taskId(page);
      await page.keyboard.press('2');
      await page.keyboard.press('Enter');
      const last = page.getByTestId('last-answer');
      await last.getByText('Answered: spam').waitFor();
      await last.getByRole('button', { name: /Undo/ }).waitFor();
      expect(await taskId(page)).not.toBe(first);
      await page.screenshot({ path: screenshotPath('rater-sent-undo.png'), fullPage: true, animations: 'disabled' });
      await expectAccessible(page, 'the rater screen with the last answer and Undo');

      // Z within the window: the task comes back with its choice, and nothing reached the server
      await page.keyboard.press('z');
      await page.getByTestId('labeling-notice').getByText('Taken back: “spam” was not sent.').waitFor();
      expect(await taskId(page)).toBe(first);
      await page.locator('button[data-label="spam"][aria-pressed="true"]').waitFor();
      expect(await answersOf(rater.id)).toEqual([]);

      // another choice, sent once the window closes: final (one answer decides), Undo gone
      await page.keyboard.press('1');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="last-answer"][data-phase="stored"]').getByText('Sent: ham').waitFor({ timeout: 10_000 });
      expect(await last.getByRole('button', { name: /Undo/ }).count()).toBe(0);
      expect(await answersOf(rater.id)).toEqual([{ task_id: first, label: 'ham' }]);
      const [label] = await app.sql(
        `SELECT l.value, l.source FROM labels l JOIN tasks t ON t.prediction_id = l.prediction_id WHERE t.id = $1 AND l.superseded_at IS NULL`,
        [first],
      );
      expect(label).toEqual({ value: 'ham', source: 'consensus' });
      await page.keyboard.press('z');
      await page
        .getByTestId('labeling-notice')
        .getByText(/^Too late to undo/)
        .waitFor();
      await page.locator('[data-testid="own-count"]', { hasText: '1' }).waitFor();
      await noGenericError(page);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('comes back after a reload to the same task with the choice kept, and sends an answer a reload, or leaving the page, caught inside its window', async () => {
    const inbox = await project({ labeling: { goldRate: 0, undoSeconds: 30 } });
    await inbox.ingest([0, 1, 2, 3].map(mail));
    const rater = await createUser(app, admin, 'rater', inbox);
    const { context, page, errors } = await signedIn(rater);
    try {
      await page.goto(`${app.url}/projects/${inbox.slug}/label`);
      await card(page).waitFor();
      const onScreen = await taskId(page);
      await page.keyboard.press('2');
      await page.locator('button[data-label="spam"][aria-pressed="true"]').waitFor();
      await page.reload();
      await card(page).waitFor();
      expect(await taskId(page)).toBe(onScreen);
      await page.locator('button[data-label="spam"][aria-pressed="true"]').waitFor();

      // answered, then reloaded within the (long) window: the answer is sent by the next page, and its task is not shown again
      await page.keyboard.press('Enter');
      await page.getByTestId('last-answer').getByText('Answered: spam').waitFor();
      const next = await taskId(page);
      await page.reload();
      await card(page).waitFor();
      expect(await taskId(page)).toBe(next);
      for (let i = 0; i < 50 && (await answersOf(rater.id)).length === 0; i++) await page.waitForTimeout(100);
      expect(await answersOf(rater.id)).toEqual([{ task_id: onScreen, label: 'spam' }]);
      expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('backflow:outbox:') && localStorage.getItem(k)))).toEqual([]);

      // answered, then off to the projects list within the window: the answer goes as the page goes
      await page.keyboard.press('1');
      await page.keyboard.press('Enter');
      await page.getByTestId('last-answer').getByText('Answered: ham').waitFor();
      await page.getByRole('button', { name: '← Projects' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
      for (let i = 0; i < 50 && (await answersOf(rater.id)).length < 2; i++) await page.waitForTimeout(100);
      expect(await answersOf(rater.id)).toEqual([
        { task_id: onScreen, label: 'spam' },
        { task_id: next, label: 'ham' },
      ]);
      await noGenericError(page);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps two tabs of one rater apart: the tab opened last labels, the other says so and takes the tasks back on request; nothing doubled, nothing lost', async () => {
    const inbox = await project({ labeling: { goldRate: 0, undoSeconds: 30 } });
    await inbox.ingest([0, 1, 2, 3, 4].map(mail));
    const rater = await createUser(app, admin, 'rater', inbox);
    const first = await signedIn(rater);
    try {
      await first.page.goto(`${app.url}/projects/${inbox.slug}/label`);
      await card(first.page).waitFor();
      // an answer held in the first tab's window when the second opens
      const answered = await taskId(first.page);
      await first.page.keyboard.press('2');
      await first.page.keyboard.press('Enter');
      await first.page.getByTestId('last-answer').getByText('Answered: spam').waitFor();
      const onScreen = await taskId(first.page);

      const second = await signedIn(rater, first.context);
      await second.page.goto(`${app.url}/projects/${inbox.slug}/label`);
      await card(second.page).waitFor();
      const moved = first.page.getByTestId('sitting-moved');
      await moved.getByRole('heading', { name: 'You are labeling this project in another tab' }).waitFor();
      // the second shows the task the first had on screen, never the one answered in the first
      expect(await taskId(second.page)).toBe(onScreen);
      expect(await card(first.page).count()).toBe(0);
      await first.page.screenshot({ path: screenshotPath('rater-two-tabs.png'), fullPage: true, animations: 'disabled' });
      await expectAccessible(first.page, 'the rater screen moved to another tab');
      // the first tab's held answer went when it moved: stored once
      for (let i = 0; i < 50 && (await answersOf(rater.id)).length === 0; i++) await first.page.waitForTimeout(100);
      expect(await answersOf(rater.id)).toEqual([{ task_id: answered, label: 'spam' }]);

      // the second answers; the first takes the tasks back
      await second.page.keyboard.press('1');
      await second.page.keyboard.press('Enter');
      await second.page.getByTestId('last-answer').getByText('Answered: ham').waitFor();
      await moved.getByRole('button', { name: 'Label here instead' }).click();
      await card(first.page).waitFor();
      await second.page.getByTestId('sitting-moved').waitFor();
      const back = await taskId(first.page);
      expect([answered, onScreen]).not.toContain(back);
      // the second tab's held answer went as it moved, once
      for (let i = 0; i < 50 && (await answersOf(rater.id)).length < 2; i++) await first.page.waitForTimeout(100);
      const stored = await answersOf(rater.id);
      expect(stored).toEqual([
        { task_id: answered, label: 'spam' },
        { task_id: onScreen, label: 'ham' },
      ]);
      const leases = await app.sql(`SELECT count(*)::int AS n FROM task_leases WHERE rater_id = $1 AND expires_at > now()`, [rater.id]);
      expect(leases[0].n).toBeLessThanOrEqual(2);
      for (const page of [first.page, second.page]) await noGenericError(page);
      expect(first.errors).toEqual([]);
      expect(second.errors).toEqual([]);
    } finally {
      await first.context.close();
    }
  });

  it('says, when the rater is caught up, why the tasks in the queue are not theirs, with the same figure as the queue', async () => {
    const shared = await project({ overlap: 2, labeling: { goldRate: 0, undoSeconds: 0 } });
    await shared.ingest([0, 1, 2, 3, 4].map(mail));
    const [me, other, third] = await Promise.all([1, 2, 3].map(() => createUser(app, admin, 'rater', shared)));
    const claim = async (token: string) => (await app.request('POST', shared.path('/tasks/claim'), { token, body: {} })).body.task as { id: string };
    // the first two tasks: both slots of each held by the other two raters
    for (const token of [other.token, other.token, third.token, third.token]) await claim(token);
    // two answered by me (each waits for a second answer), one skipped
    for (let i = 0; i < 2; i++) {
      const task = await claim(me.token);
      expect(
        (await app.request('POST', shared.path(`/tasks/${task.id}/annotations`), { token: me.token, body: { id: randomUUID(), label: 'ham' } })).status,
      ).toBe(201);
    }
    const skipped = await claim(me.token);
    expect((await app.request('POST', shared.path(`/tasks/${skipped.id}/skip`), { token: me.token, body: { reason: 'skip' } })).status).toBe(200);

    const { context, page, errors } = await signedIn(me);
    try {
      await page.goto(`${app.url}/projects/${shared.slug}/label`);
      const idle = page.getByTestId('caught-up');
      await idle.getByRole('heading', { name: 'You are all caught up' }).waitFor();
      await page.locator('[data-testid="queue-depth"]', { hasText: /^5$/ }).waitFor();
      await idle
        .getByText(
          'The 5 tasks in the queue are not for you now: 2 are being labeled by other raters (a task comes back here if its rater lets it go); 2 have your answer and wait for other raters; 1 was skipped by you.',
        )
        .waitFor();
      await page.screenshot({ path: screenshotPath('rater-caught-up.png'), fullPage: true, animations: 'disabled' });
      await expectAccessible(page, 'the caught-up rater screen');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows an image that cannot be loaded as a placeholder that says so, with its address', async () => {
    const photos = await project();
    const missing = `${app.url}/images/missing-cat.png`;
    await photos.ingest([{ caption: 'A cat on a windowsill', photo: missing }]);
    const rater = await createUser(app, admin, 'rater', photos);
    const { context, page, errors } = await signedIn(rater);
    try {
      await page.goto(`${app.url}/projects/${photos.slug}/label`);
      const broken = page.getByTestId('broken-image');
      await broken.getByText('The image “photo” could not be loaded.').waitFor();
      expect(await broken.locator('code').textContent()).toBe(missing);
      expect(await page.locator('img[alt="photo"]').count()).toBe(0);
      await page.screenshot({ path: screenshotPath('rater-broken-image.png'), fullPage: true, animations: 'disabled' });
      await expectAccessible(page, 'the rater screen with an image that did not load');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

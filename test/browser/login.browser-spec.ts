import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { createProject, createUser } from '../factories';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { launchChromium } from './support/chromium';

const ARTIFACTS = path.join(__dirname, 'artifacts');
const SESSION_COOKIE = 'backflow_session';

const EMAIL = 'input[name="email"]';
const PASSWORD = 'input[name="password"]';
const CARD = '[data-testid="project-card"]';
const EMPTY = '[data-testid="projects-empty"]';
const CURRENT_EMAIL = '[data-testid="current-user-email"]';

describe('browser: sign-in, session cookie and the projects page', () => {
  let app: TestApp;
  let browser: Browser;
  let adminToken: string;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  const own = { slug: 'browser-own', name: 'Browser own project' };
  const foreign = { slug: 'browser-foreign', name: 'Browser foreign project' };

  beforeAll(async () => {
    app = await startTestApp();
    // the shared launcher: fails loudly when Chromium or the built client is missing, and on any CSP violation
    browser = await launchChromium();
    adminToken = await app.login();
    await createProject(app, adminToken, own);
    await createProject(app, adminToken, foreign);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterEach(async () => {
    await context?.close(); // unset when beforeAll failed: let its error be the only one
    // An uncaught exception in the client fails the test even when the page looked right
    expect(pageErrors).toEqual([]);
  });

  async function signIn(email: string, password: string): Promise<void> {
    await page.goto(app.url);
    await page.fill(EMAIL, email);
    await page.fill(PASSWORD, password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function waitForProjectsPage(): Promise<void> {
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    // The list loads after the heading: wait until cards or the empty state replace the skeleton
    await page.locator(`${CARD}, ${EMPTY}`).first().waitFor();
  }

  async function waitForSignInForm(): Promise<void> {
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.locator(EMAIL).waitFor();
  }

  const cardSlugs = () => page.locator(CARD).evaluateAll((cards) => cards.map((card) => card.getAttribute('data-slug') ?? ''));
  const focusedName = () => page.evaluate(() => document.activeElement?.getAttribute('name') ?? null);
  const sessionCookie = async (): Promise<Cookie | undefined> => (await context.cookies(app.url)).find((c) => c.name === SESSION_COOKIE);

  it('signs a rater in with the keyboard alone and shows only their project, behind an HttpOnly cookie', async () => {
    const rater = await createUser(app, adminToken, 'rater', own);
    await page.goto(app.url);
    await page.locator(EMAIL).waitFor();

    expect(await focusedName()).toBe('email'); // autofocus: no click needed
    await page.keyboard.type(rater.email);
    await page.keyboard.press('Tab');
    expect(await focusedName()).toBe('password');
    await page.keyboard.type(rater.password);
    await page.keyboard.press('Enter');

    await waitForProjectsPage();
    expect(await cardSlugs()).toEqual([own.slug]);
    const card = page.locator(CARD).first();
    expect(await card.getByRole('heading', { level: 2 }).textContent()).toBe(own.name);
    expect(await page.locator(CURRENT_EMAIL).textContent()).toBe(rater.email);

    expect(await sessionCookie()).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await page.evaluate(() => document.cookie)).not.toContain(SESSION_COOKIE);
  });

  it('shows the server message for a wrong password and stays on the sign-in form', async () => {
    const rater = await createUser(app, adminToken, 'rater', own);
    await page.goto(app.url);
    const loginResponse = page.waitForResponse((response) => response.url().endsWith('/api/v1/auth/login'));
    await page.fill(EMAIL, rater.email);
    await page.fill(PASSWORD, `${rater.password}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const response = await loginResponse;
    expect(response.status()).toBe(401);
    const { message } = (await response.json()) as { message: string };
    expect(message).toBeTruthy();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(message);
    await waitForSignInForm();
    expect(await page.locator(EMAIL).inputValue()).toBe(rater.email); // the typed email is kept
    expect(await page.locator(CURRENT_EMAIL).count()).toBe(0);
    expect(await sessionCookie()).toBeUndefined();
  });

  it('keeps the session across a reload, and logging out ends it for the browser and the server', async () => {
    const rater = await createUser(app, adminToken, 'rater', own);
    await signIn(rater.email, rater.password);
    await waitForProjectsPage();
    const cookie = await sessionCookie();
    expect(cookie?.value).toBeTruthy();

    await page.reload();
    await waitForProjectsPage();
    expect(await page.locator(CURRENT_EMAIL).textContent()).toBe(rater.email);

    await page.getByRole('button', { name: 'Log out' }).click();
    await waitForSignInForm();
    expect(await sessionCookie()).toBeUndefined();

    await page.reload();
    await waitForSignInForm();
    expect(await page.locator(CURRENT_EMAIL).count()).toBe(0);

    // The old cookie replayed by hand must be dead server-side, not merely forgotten by the browser
    const me = await app.request('GET', '/api/v1/me', { headers: { cookie: `${SESSION_COOKIE}=${cookie?.value}` } });
    expect(me.status).toBe(401);
  });

  it('shows an admin every project', async () => {
    const extra = [await createProject(app, adminToken), await createProject(app, adminToken)];
    await signIn(ADMIN.email, ADMIN.password);
    await waitForProjectsPage();

    const all = await app.sql<{ slug: string }>('SELECT slug FROM projects');
    const shown = await cardSlugs();
    expect([...shown].sort()).toEqual(all.map((row) => row.slug).sort());
    expect(shown).toEqual(expect.arrayContaining([own.slug, foreign.slug, ...extra.map((p) => p.slug)]));
    expect(await page.locator(CURRENT_EMAIL).textContent()).toBe(ADMIN.email);
  });

  it('renders the projects page to a full-page screenshot', async () => {
    await signIn(ADMIN.email, ADMIN.password);
    await waitForProjectsPage();
    await page.evaluate(async () => {
      await document.fonts.ready;
    });

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'projects.png');
    fs.rmSync(file, { force: true });
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });

    const png = fs.readFileSync(file);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000); // a blank page compresses to far less
  });
});

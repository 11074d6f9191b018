import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createProject, createUser } from '../factories';
import { ADMIN, type TestApp } from '../helpers/test-app';
import { startAppWithProvider, type TestOidcProvider } from '../helpers/oidc-provider';
import { launchChromium, screenshotPath } from './support/chromium';

const STRONG = 'Lantern-quixotic-harbour-907';

/** A browser context whose page's uncaught errors are collected (a test fails on any). */
async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

async function signInWithPassword(page: Page, app: TestApp, email: string, password: string): Promise<void> {
  await page.goto(app.url);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
}

describe('browser: passwords and single sign-on', () => {
  let browser: Browser;
  let app: TestApp;
  let provider: TestOidcProvider;
  let admin: string;

  beforeAll(async () => {
    ({ app, provider } = await startAppWithProvider({ OIDC_RATER_GROUPS: 'bf-raters', OIDC_PROJECT_GROUPS: 'spam-raters=sso-browser:rater' }));
    browser = await launchChromium();
    admin = await app.login();
    await createProject(app, admin, { slug: 'sso-browser', name: 'Spam filter' });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await provider?.close();
  });

  it('changes one’s password on the account page: a wrong current password is named, then the change signs the other session out', async () => {
    // signed in elsewhere twice: the factory's session and this one
    const rater = await createUser(app, admin, 'rater');
    const other = await app.login(rater.email, rater.password);
    const { context, page, errors } = await openPage(browser);
    try {
      await signInWithPassword(page, app, rater.email, rater.password);
      await page.getByTestId('current-user-email').click();
      await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/account');

      await page.getByLabel('Current password').fill('not-my-password');
      await page.getByLabel('New password', { exact: true }).fill(STRONG);
      await page.getByLabel('New password, again').fill(STRONG);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('this is not your current password').waitFor();

      await page.getByLabel('Current password').fill(rater.password);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByTestId('password-changed').waitFor();
      expect(await page.getByTestId('password-changed').textContent()).toContain('Your 2 other sessions were signed out');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('account-password.png'), fullPage: true, animations: 'disabled' });

      expect((await app.request('GET', '/api/v1/me', { token: other })).status).toBe(401);
      expect((await app.request('GET', '/api/v1/me', { token: rater.token })).status).toBe(401);
      // this session goes on, and the new password signs in
      expect(await page.evaluate(() => fetch('/api/v1/me').then((r) => r.status))).toBe(200);
      await app.login(rater.email, STRONG);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lets an admin reset a password on the users page: a generated one, shown once', async () => {
    const rater = await createUser(app, admin, 'rater');
    const { context, page, errors } = await openPage(browser);
    try {
      await signInWithPassword(page, app, ADMIN.email, ADMIN.password);
      await page.goto(`${app.url}/users`);
      const row = page.getByTestId('user-row').filter({ hasText: rater.email });
      await row.getByRole('button', { name: `Reset the password of ${rater.email}` }).click();
      await page.getByRole('heading', { name: `New password for ${rater.email}` }).waitFor();
      await page.getByLabel('Type one').check();
      await page.getByRole('textbox', { name: 'New password' }).waitFor();
      await page.getByTestId('password-reset').screenshot({ path: screenshotPath('admin-password-reset-form.png'), animations: 'disabled' });
      await page.getByLabel('Generate one, to hand over').check();
      await page.getByRole('button', { name: 'Set the new password' }).click();
      const secret = await page.getByTestId('reset-password-secret').textContent();
      expect(secret).toMatch(/^[\w-]{20,}$/);
      expect(await page.getByTestId('password-reset-done').textContent()).toContain('Their session was ended');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('admin-password-reset.png'), fullPage: true, animations: 'disabled' });
      expect((await app.request('GET', '/api/v1/me', { token: rater.token })).status).toBe(401);
      await app.login(rater.email, secret!);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('signs in with the provider’s button: its sign-in and consent pages, then back on the page it left, with the mapped project', async () => {
    provider.accounts.set('ada', { email: 'ada@example.com', groups: ['bf-raters', 'spam-raters'] });
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${app.url}/projects/sso-browser/label`);
      const button = page.getByRole('link', { name: 'Sign in with Test IdP' });
      await button.waitFor();
      // both ways in: the provider, or a password
      await page.locator('input[name="email"]').waitFor();
      await page.screenshot({ path: screenshotPath('login-sso.png'), animations: 'disabled' });
      expect(await button.getAttribute('href')).toBe('/api/v1/auth/oidc/login?returnTo=%2Fprojects%2Fsso-browser%2Flabel');

      await button.click();
      await page.waitForURL((url) => url.origin === provider.issuer);
      await page.fill('input[name="login"]', 'ada');
      await page.fill('input[name="password"]', 'any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.waitForURL(`${app.url}/projects/sso-browser/label`);
      await page.getByTestId('current-user-email').waitFor();
      expect(await page.getByTestId('current-user-email').textContent()).toBe('ada@example.com');
      const session = (await context.cookies(app.url)).find((cookie) => cookie.name === 'backflow_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect((await app.sql(`SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ada@example.com'`))[0].role).toBe('rater');

      // her account page says where her password lives
      await page.goto(`${app.url}/account`);
      expect(await page.getByTestId('no-local-password').textContent()).toContain('You sign in with Test IdP and have no Backflow password');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('browser: single sign-on only', () => {
  let browser: Browser;
  let app: TestApp;
  let provider: TestOidcProvider;

  beforeAll(async () => {
    ({ app, provider } = await startAppWithProvider({ LOCAL_PASSWORDS: 'false', OIDC_PROVIDER_NAME: 'Keycloak', OIDC_ADMIN_GROUPS: 'bf-admins' }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await provider?.close();
  });

  it('shows only the provider’s button, and says why somebody it gives no role was not signed in', async () => {
    provider.accounts.set('nobody', { email: 'nobody@example.com', groups: ['marketing'] });
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(app.url);
      await page.getByRole('link', { name: 'Sign in with Keycloak' }).waitFor();
      expect(await page.locator('input[name="email"]').count()).toBe(0);
      expect(await page.locator('input[name="password"]').count()).toBe(0);
      await page.screenshot({ path: screenshotPath('login-sso-only.png'), animations: 'disabled' });

      await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
      await page.fill('input[name="login"]', 'nobody');
      await page.fill('input[name="password"]', 'any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByTestId('sso-error').waitFor();
      expect(await page.getByTestId('sso-error').textContent()).toContain('in no group that gives a Backflow role');
      // the code is read once and leaves the address
      expect(new URL(page.url()).search).toBe('');
      await page.screenshot({ path: screenshotPath('login-sso-refused.png'), animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { signInThroughProvider, startAppWithProvider, type TestOidcProvider } from '../helpers/oidc-provider';
import { createProject, createUser } from '../factories';
import { freePort } from '../helpers/server-process';

/**
 * Single sign-on against a real OpenID provider (oidc-provider, started here on a free port):
 * every sign-in goes through Backflow's login route, the provider's authorization endpoint, its
 * sign-in and consent forms and back to the callback over HTTP, as a browser does it.
 */
describe('single sign-on with an OpenID Connect provider', () => {
  let app: TestApp;
  let provider: TestOidcProvider;
  let admin: string;
  let spam: { id: string; slug: string };
  let houses: { id: string; slug: string };

  beforeAll(async () => {
    ({ app, provider } = await startAppWithProvider({
      OIDC_ADMIN_GROUPS: 'bf-admins',
      OIDC_REVIEWER_GROUPS: 'bf-reviewers',
      OIDC_RATER_GROUPS: 'bf-raters',
      OIDC_PROJECT_GROUPS: 'spam-raters=sso-spam:rater, spam-reviewers=sso-spam:reviewer, houses-raters=sso-houses:rater',
    }));
    admin = await app.login();
    spam = await createProject(app, admin, { slug: 'sso-spam' });
    houses = await createProject(app, admin, { slug: 'sso-houses' });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
  });

  const me = (session: string | undefined) => app.request('GET', '/api/v1/me', { headers: { cookie: `backflow_session=${session}` } });
  const audit = (userId: string) =>
    app.sql<{ action: string; project_id: string | null }>(`SELECT action, project_id FROM audit_log WHERE target_id = $1 ORDER BY id`, [userId]);

  it('says how to sign in: passwords and the provider', async () => {
    const methods = await app.request('GET', '/api/v1/auth/methods');
    expect(methods.status).toBe(200);
    expect(methods.body).toEqual({ password: true, sso: { provider: 'Test IdP', loginUrl: '/api/v1/auth/oidc/login' } });
  });

  it('makes an account just in time, with the role and memberships its groups give, and signs it in with the usual session cookie', async () => {
    provider.accounts.set('ada', { email: 'Ada.Lovelace@Example.com', email_verified: true, groups: ['bf-raters', 'spam-raters', 'marketing'] });
    const signedIn = await signInThroughProvider(app, 'ada', { returnTo: '/projects/sso-spam/label' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/projects/sso-spam/label');
    expect(signedIn.session).toMatch(/^bfs_/);
    // the flow's cookie is spent
    expect(signedIn.jar.get(app.url, 'backflow_sso')).toBeUndefined();

    const who = await me(signedIn.session);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      user: { email: 'ada.lovelace@example.com', role: 'rater' },
      memberships: [{ projectSlug: 'sso-spam', role: 'rater' }],
      localPassword: false,
    });
    const [row] = await app.sql(`SELECT sso_issuer, sso_subject, password_hash FROM users WHERE email = 'ada.lovelace@example.com'`);
    expect(row).toEqual({ sso_issuer: provider.issuer, sso_subject: 'ada', password_hash: '!sso: no password' });
    // no password can sign this account in
    const login = await app.request('POST', '/api/v1/auth/login', { body: { email: 'ada.lovelace@example.com', password: '!sso: no password' } });
    expect(login.status).toBe(401);
    expect((await audit(who.body.user.id)).map((r) => r.action)).toEqual(['user.created', 'membership.added']);
    // the session is a session like any: the project opens to her
    expect((await app.request('GET', `/api/v1/projects/${spam.slug}`, { headers: { cookie: `backflow_session=${signedIn.session}` } })).status).toBe(200);
  });

  it('re-reads role and memberships at the next sign-in: a group taken away at the provider is gone here, and her other sessions lose it at once', async () => {
    provider.accounts.set('grace', { email: 'grace@example.com', groups: ['bf-reviewers', 'spam-reviewers', 'houses-raters'] });
    const first = await signInThroughProvider(app, 'grace');
    expect(first.location).toBe('/');
    const grace = (await me(first.session)).body;
    expect(grace.user.role).toBe('reviewer');
    expect(grace.memberships).toEqual([
      { projectSlug: 'sso-houses', role: 'rater' },
      { projectSlug: 'sso-spam', role: 'reviewer' },
    ]);
    // an admin adds her to a project the mapping does not name: that membership is the admins' to keep
    const other = await createProject(app, admin);
    expect(
      (await app.request('POST', `/api/v1/projects/${other.slug}/members`, { token: admin, body: { email: 'grace@example.com', role: 'rater' } })).status,
    ).toBe(201);

    provider.accounts.set('grace', { email: 'grace@example.com', groups: ['spam-raters'] });
    const second = await signInThroughProvider(app, 'grace');
    expect(second.status).toBe(303);
    const after = (await me(second.session)).body;
    expect(after.user).toMatchObject({ id: grace.user.id, role: 'rater' });
    expect(after.memberships).toEqual([
      { projectSlug: other.slug, role: 'rater' },
      { projectSlug: 'sso-spam', role: 'rater' },
    ]);
    // the first session is still a session, but it has lost what the provider took away
    expect((await app.request('GET', `/api/v1/projects/${houses.slug}`, { headers: { cookie: `backflow_session=${first.session}` } })).status).toBe(403);
    expect((await app.request('GET', `/api/v1/projects/${spam.slug}/quality`, { headers: { cookie: `backflow_session=${first.session}` } })).status).toBe(403);
    const actions = (await audit(grace.user.id)).map((r) => r.action);
    // made (spam, houses), the admins' membership, the role lowered (which makes her a rater in spam too), houses taken away
    expect(actions).toEqual(['user.created', 'membership.added', 'membership.added', 'membership.added', 'user.updated', 'membership.removed']);

    // out of every group: refused, and the sessions she had end
    provider.accounts.set('grace', { email: 'grace@example.com', groups: [] });
    const refused = await signInThroughProvider(app, 'grace', { html: false });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('auth/sso_no_role');
    expect(refused.session).toBeUndefined();
    expect((await me(second.session)).status).toBe(401);
    expect((await me(first.session)).status).toBe(401);
  });

  it('gives the admin role from a group, and links an account that exists by its email (keeping its password)', async () => {
    const local = await createUser(app, admin, 'rater');
    provider.accounts.set('linus', { email: local.email, groups: ['bf-admins', 'spam-raters'] });
    const signedIn = await signInThroughProvider(app, 'linus');
    const who = (await me(signedIn.session)).body;
    expect(who.user).toMatchObject({ id: local.id, role: 'admin' });
    // admins see every project: no memberships
    expect(who.memberships).toEqual([]);
    expect((await app.request('GET', '/api/v1/users', { headers: { cookie: `backflow_session=${signedIn.session}` } })).status).toBe(200);
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: local.email, password: local.password } })).status).toBe(200);
    const listed = (await app.request('GET', '/api/v1/users', { token: admin })).body.users.find((u: { id: string }) => u.id === local.id);
    expect(listed).toMatchObject({ role: 'admin', sso: true });
    expect((await audit(local.id)).map((r) => r.action)).toContain('user.sso_linked');
  });

  it('refuses a disabled account, an unverified email, and an email another identity holds', async () => {
    provider.accounts.set('dora', { email: 'dora@example.com', groups: ['bf-raters'] });
    const dora = (await me((await signInThroughProvider(app, 'dora')).session)).body.user;
    expect((await app.request('PATCH', `/api/v1/users/${dora.id}`, { token: admin, body: { disabled: true } })).status).toBe(200);
    const disabled = await signInThroughProvider(app, 'dora', { html: false });
    expect(disabled.status).toBe(403);
    expect(disabled.body.code).toBe('auth/sso_account_disabled');

    provider.accounts.set('eve', { email: 'eve@example.com', email_verified: false, groups: ['bf-admins'] });
    const unverified = await signInThroughProvider(app, 'eve', { html: false });
    expect(unverified.body).toMatchObject({ code: 'auth/sso_email_unverified', field: 'email_verified' });
    expect(await app.sql(`SELECT 1 FROM users WHERE email = 'eve@example.com'`)).toEqual([]);

    provider.accounts.set('mallory', { email: 'ada.lovelace@example.com', groups: ['bf-admins'] });
    const taken = await signInThroughProvider(app, 'mallory', { html: false });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('auth/sso_email_taken');
    expect((await app.sql(`SELECT role FROM users WHERE email = 'ada.lovelace@example.com'`))[0].role).toBe('rater');
  });

  describe('refuses an answer that is not the one this browser asked for', () => {
    beforeAll(() => provider.accounts.set('nina', { email: 'nina@example.com', groups: ['bf-admins'] }));

    it('a state that does not match the browser’s flow (a forged or swapped callback)', async () => {
      const forged = await signInThroughProvider(app, 'nina', { html: false, tamperCallback: (url) => url.searchParams.set('state', 'forged-state') });
      expect(forged.status).toBe(400);
      expect(forged.body).toMatchObject({ code: 'auth/sso_state_mismatch', field: 'state' });
      expect(forged.session).toBeUndefined();
      // a browser is taken to the sign-in page, told why
      const browser = await signInThroughProvider(app, 'nina', { tamperCallback: (url) => url.searchParams.set('state', 'forged-state') });
      expect(browser.status).toBe(303);
      expect(browser.location).toBe('/?signInError=auth%2Fsso_state_mismatch');
      expect(browser.session).toBeUndefined();
    });

    it('a callback in a browser that never started the sign-in (login CSRF), or once the flow is spent', async () => {
      const started = await signInThroughProvider(app, 'nina');
      expect(started.status).toBe(303);
      // an attacker's finished sign-in sent to a victim's browser: it holds no flow cookie
      const elsewhere = await fetch(started.callbackUrl, { redirect: 'manual', headers: { accept: 'application/json' } });
      expect(elsewhere.status).toBe(400);
      expect(((await elsewhere.json()) as { code: string }).code).toBe('auth/sso_flow_missing');
      expect(elsewhere.headers.getSetCookie().some((c) => c.startsWith('backflow_session='))).toBe(false);
      // the same browser again: its flow was spent by the first visit
      const replayed = await fetch(started.callbackUrl, { redirect: 'manual', headers: { accept: 'application/json', cookie: started.jar.header(app.url)! } });
      expect(replayed.status).toBe(400);
      expect(((await replayed.json()) as { code: string }).code).toBe('auth/sso_flow_missing');
    });

    it('an ID token whose nonce is not the flow’s', async () => {
      const replayed = await signInThroughProvider(app, 'nina', { html: false, tamperFlow: (flow) => (flow.nonce = 'another-sign-in-nonce') });
      expect(replayed.body).toMatchObject({ code: 'auth/sso_nonce_mismatch', field: 'nonce' });
      expect(replayed.status).toBe(401);
      expect(replayed.session).toBeUndefined();
    });

    it('a code redeemed without its PKCE verifier, or twice', async () => {
      const stolen = await signInThroughProvider(app, 'nina', { html: false, tamperFlow: (flow) => (flow.codeVerifier = 'x'.repeat(43)) });
      expect(stolen.status).toBe(401);
      expect(stolen.body).toMatchObject({ code: 'auth/sso_code_rejected', field: 'code' });
      expect(stolen.session).toBeUndefined();

      const once = await signInThroughProvider(app, 'nina');
      expect(once.session).toMatch(/^bfs_/);
      // the same code again, under a new flow of this browser: the provider has spent it
      const again = await signInThroughProvider(app, 'nina', {
        html: false,
        tamperCallback: (url) => url.searchParams.set('code', new URL(once.callbackUrl).searchParams.get('code')!),
      });
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('auth/sso_code_rejected');
    });

    it('the provider’s own refusal (the person said no at its consent page)', async () => {
      const declined = await signInThroughProvider(app, 'nina', { html: false, abortAtConsent: true });
      expect(declined.status).toBe(401);
      expect(declined.body).toMatchObject({ code: 'auth/sso_refused' });
      expect(declined.body.message).toContain('access_denied');
    });
  });

  it('keeps the cross-site rule: the callback, a top-level GET from the provider’s site, signs in; a cross-site POST with the cookie is still refused', async () => {
    provider.accounts.set('otto', { email: 'otto@example.com', groups: ['bf-raters'] });
    const signedIn = await signInThroughProvider(app, 'otto');
    expect(signedIn.session).toMatch(/^bfs_/);
    const crossSite = await app.request('POST', '/api/v1/me/password', {
      headers: { cookie: `backflow_session=${signedIn.session}`, origin: provider.issuer },
      body: { currentPassword: 'x', newPassword: 'y-y-y-y-y-y-y-y' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.code).toBe('auth/cross_site');
    // returnTo is a path of this app, never another site
    const away = await app.request('GET', '/api/v1/auth/oidc/login?returnTo=//evil.example.com/');
    expect(away.status).toBe(400);
    expect(away.body.field).toBe('query.returnTo');
  });
});

describe('single sign-on with local passwords off', () => {
  let app: TestApp;
  let provider: TestOidcProvider;

  beforeAll(async () => {
    ({ app, provider } = await startAppWithProvider({ LOCAL_PASSWORDS: 'false', OIDC_ROLE_CLAIM: 'backflow.role' }));
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
  });

  it('makes no password admin at the first start, refuses password sign-ins with a stable code, and signs people in through the provider', async () => {
    expect(await app.sql(`SELECT 1 FROM users WHERE email = $1`, [ADMIN.email])).toEqual([]);
    const methods = await app.request('GET', '/api/v1/auth/methods');
    expect(methods.body).toEqual({ password: false, sso: { provider: 'Test IdP', loginUrl: '/api/v1/auth/oidc/login' } });

    const login = await app.request('POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe('auth/local_passwords_off');

    // the role from a nested claim (Keycloak's realm roles are read the same way)
    provider.accounts.set('root', { email: 'root@example.com', backflow: { role: 'admin' } });
    const signedIn = await signInThroughProvider(app, 'root');
    const who = await app.request('GET', '/api/v1/me', { headers: { cookie: `backflow_session=${signedIn.session}` } });
    expect(who.body).toMatchObject({ user: { role: 'admin' }, localPassword: false });
    const change = await app.request('POST', '/api/v1/me/password', {
      headers: { cookie: `backflow_session=${signedIn.session}` },
      body: { currentPassword: 'whatever', newPassword: 'Another-long-passphrase-42' },
    });
    expect(change.body.code).toBe('auth/local_passwords_off');
    const reset = await app.request('POST', `/api/v1/users/${who.body.user.id}/password`, {
      headers: { cookie: `backflow_session=${signedIn.session}` },
      body: {},
    });
    expect(reset.body.code).toBe('auth/local_passwords_off');
  });
});

describe('single sign-on not configured', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.close());

  it('says so on its routes, and offers passwords only', async () => {
    expect((await app.request('GET', '/api/v1/auth/methods')).body).toEqual({ password: true, sso: null });
    const login = await app.request('GET', '/api/v1/auth/oidc/login');
    expect(login.status).toBe(404);
    expect(login.body.code).toBe('auth/sso_not_configured');
  });
});

describe('single sign-on with a provider that cannot be reached', () => {
  let app: TestApp;
  beforeAll(async () => {
    const nobody = await freePort();
    app = await startTestApp({
      OIDC_ISSUER: `http://127.0.0.1:${nobody}`,
      OIDC_CLIENT_ID: 'backflow',
      OIDC_REDIRECT_URL: 'http://127.0.0.1:1/api/v1/auth/oidc/callback',
    });
  });
  afterAll(() => app.close());

  it('answers 503 with a code, and takes a browser back to the sign-in page saying so; passwords still work', async () => {
    const api = await app.request('GET', '/api/v1/auth/oidc/login');
    expect(api.status).toBe(503);
    expect(api.body.code).toBe('auth/sso_unavailable');
    const browser = await fetch(`${app.url}/api/v1/auth/oidc/login`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe('/?signInError=auth%2Fsso_unavailable');
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } })).status).toBe(200);
  });
});

import { ADMIN, startTestApp, TestApp } from '../helpers/test-app';
import { createProject, createUser } from '../factories';

describe('auth: sessions, roles and project membership', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW_SECONDS: '60' });
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('creates the first admin from the environment with an argon2id hash', async () => {
    const [row] = await app.sql(`SELECT role, password_hash FROM users WHERE email = $1`, [ADMIN.email]);
    expect(row.role).toBe('admin');
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(ADMIN.password);
  });

  it('logs in with a token usable as Bearer and as the HttpOnly cookie, and logs out', async () => {
    const login = await app.request('POST', '/api/v1/auth/login', { body: { email: 'ADMIN@example.com', password: ADMIN.password } });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ email: ADMIN.email, role: 'admin' });
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/backflow_session=bfs_/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);

    const byBearer = await app.request('GET', '/api/v1/me', { token: login.body.token });
    expect(byBearer.status).toBe(200);
    expect(byBearer.body.user.email).toBe(ADMIN.email);
    const byCookie = await app.request('GET', '/api/v1/me', { headers: { cookie: cookie.split(';')[0] } });
    expect(byCookie.status).toBe(200);

    const logout = await app.request('POST', '/api/v1/auth/logout', { headers: { cookie: cookie.split(';')[0] } });
    expect(logout.status).toBe(204);
    const after = await app.request('GET', '/api/v1/me', { token: login.body.token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('auth/unauthenticated');
  });

  it('refuses a wrong password without saying whether the email exists', async () => {
    const wrong = await app.request('POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: 'nope-nope-nope' } });
    const unknown = await app.request('POST', '/api/v1/auth/login', { body: { email: 'ghost@example.com', password: 'nope-nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.code).toBe('auth/invalid_credentials');
    expect(unknown.body.message).toBe(wrong.body.message);
  });

  it('never adopts a session id the client brings (no session fixation), and a new sign-in is a new session', async () => {
    // an attacker plants a cookie, then the victim signs in with it still set
    const planted = `bfs_${'a'.repeat(43)}`;
    const login = await app.request('POST', '/api/v1/auth/login', {
      headers: { cookie: `backflow_session=${planted}` },
      body: { email: ADMIN.email, password: ADMIN.password },
    });
    expect(login.status).toBe(200);
    expect(login.body.token).not.toBe(planted);
    expect(login.headers.get('set-cookie')).not.toContain(planted);
    expect((await app.request('GET', '/api/v1/me', { headers: { cookie: `backflow_session=${planted}` } })).status).toBe(401);
    // signing in while signed in gives another session, both stored as digests of their tokens
    const again = await app.request('POST', '/api/v1/auth/login', { token: login.body.token, body: { email: ADMIN.email, password: ADMIN.password } });
    expect(again.body.token).not.toBe(login.body.token);
    expect(
      await app.sql(`SELECT count(*)::int AS n FROM sessions WHERE token_hash = sha256($1::bytea) OR token_hash = sha256($2::bytea)`, [
        Buffer.from(login.body.token),
        Buffer.from(again.body.token),
      ]),
    ).toEqual([{ n: 2 }]);
  });

  it('expires sessions', async () => {
    const token = await app.login();
    expect((await app.request('GET', '/api/v1/me', { token })).status).toBe(200);
    await app.sql(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = sha256($1::bytea)`, [Buffer.from(token)]);
    const expired = await app.request('GET', '/api/v1/me', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('auth/session_expired');
  });

  it('rate-limits failed logins per account, parallel guesses included, without believing X-Forwarded-For', async () => {
    const rater = await createUser(app, admin, 'rater');
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        app.request('POST', '/api/v1/auth/login', {
          body: { email: rater.email, password: `wrong-password-${i}` },
          headers: { 'x-forwarded-for': `6.6.6.${i}` },
        }),
      ),
    );
    expect(guesses.filter((r) => r.status === 401)).toHaveLength(3);
    expect(guesses.filter((r) => r.status === 429)).toHaveLength(9);
    const limited = await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: rater.password } });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'auth/rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    const [session] = await app.sql(`SELECT ip FROM sessions ORDER BY created_at DESC LIMIT 1`);
    expect(session.ip).not.toMatch(/^6\.6\.6\./);
  });

  it('denies a rater the admin routes and projects they do not belong to', async () => {
    const own = await createProject(app, admin);
    const foreign = await createProject(app, admin);
    const rater = await createUser(app, admin, 'rater', own);

    const list = await app.request('GET', '/api/v1/projects', { token: rater.token });
    expect(list.status).toBe(200);
    expect(list.body.projects.map((p: { slug: string }) => p.slug)).toEqual([own.slug]);
    expect(list.body.projects[0].myRole).toBe('rater');
    // the labeling view, not the admin's configuration
    expect(Object.keys(list.body.projects[0]).sort()).toEqual([
      'createdAt',
      'id',
      'instructions',
      'labels',
      'myRole',
      'name',
      'overlap',
      'questions',
      'routingQuestion',
      'slug',
      'taskType',
      'updatedAt',
    ]);

    expect((await app.request('GET', `/api/v1/projects/${own.slug}`, { token: rater.token })).status).toBe(200);
    const other = await app.request('GET', `/api/v1/projects/${foreign.slug}`, { token: rater.token });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('auth/not_a_member');

    const adminOnly = [
      app.request('POST', '/api/v1/projects', {
        body: { slug: 'x-rater', name: 'x', taskType: 'single_label', labels: [{ name: 'a' }, { name: 'b' }] },
        token: rater.token,
      }),
      app.request('PATCH', `/api/v1/projects/${own.slug}`, { body: { name: 'renamed' }, token: rater.token }),
      app.request('POST', '/api/v1/users', { body: { email: 'x@example.com', password: 'Long-enough-1', role: 'admin' }, token: rater.token }),
      app.request('POST', `/api/v1/projects/${own.slug}/members`, { body: { email: rater.email, role: 'rater' }, token: rater.token }),
      app.request('POST', `/api/v1/projects/${own.slug}/api-keys`, { body: { name: 'k', scopes: ['ingest'] }, token: rater.token }),
    ];
    for (const response of await Promise.all(adminOnly)) {
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('auth/forbidden');
    }
    const [{ count }] = await app.sql(`SELECT count(*)::int AS count FROM projects WHERE slug = 'x-rater'`);
    expect(count).toBe(0);
  });

  it('lets anonymous callers reach no API route but login, every documented route checked', async () => {
    const docs = await app.request('GET', '/api/docs/openapi.json');
    const operations = Object.entries(docs.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{[^}]+\}/g, (p) => (p === '{slug}' ? 'some-project' : '00000000-0000-4000-8000-000000000000')),
      })),
    );
    expect(operations.length).toBeGreaterThan(10);
    const open: string[] = [];
    for (const { method, path } of operations) {
      const response = await app.request(method, path, { token: null, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
      if (response.status === 401) expect(response.body).toEqual({ code: 'auth/unauthenticated', message: expect.any(String), requestId: expect.any(String) });
      else open.push(`${method} ${path}`);
    }
    // how to sign in, and the single sign-on routes (404 here: not configured)
    expect(open.sort()).toEqual([
      'GET /api/v1/auth/methods',
      'GET /api/v1/auth/oidc/callback',
      'GET /api/v1/auth/oidc/login',
      'GET /healthz',
      'GET /readyz',
      'POST /api/v1/auth/login',
    ]);
  });

  it('writes an audit row for admin actions', async () => {
    const project = await createProject(app, admin);
    const rows = await app.sql(`SELECT action, actor_user_id, request_id FROM audit_log WHERE target_id = $1`, [project.id]);
    expect(rows).toEqual([{ action: 'project.created', actor_user_id: expect.any(String), request_id: expect.any(String) }]);
  });

  it('lets an admin change a role or disable a user: their sessions end and they cannot sign in', async () => {
    const rater = await createUser(app, admin, 'rater');
    const listed = await app.request('GET', '/api/v1/users', { token: admin });
    expect(listed.body.users).toEqual(expect.arrayContaining([expect.objectContaining({ id: rater.id, role: 'rater', disabledAt: null })]));

    const disabled = await app.request('PATCH', `/api/v1/users/${rater.id}`, { token: admin, body: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ id: rater.id, disabledAt: expect.any(String) });
    expect((await app.request('GET', '/api/v1/me', { token: rater.token })).status).toBe(401);
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: rater.password } })).status).toBe(401);

    const enabled = await app.request('PATCH', `/api/v1/users/${rater.id}`, { token: admin, body: { disabled: false, role: 'reviewer' } });
    expect(enabled.body).toMatchObject({ role: 'reviewer', disabledAt: null });
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: rater.password } })).status).toBe(200);
    const audit = await app.sql(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.updated' AND target_id = $1`, [rater.id]);
    expect(audit[0].n).toBe(2);

    // an admin cannot lock themselves out; bad input names its field; raters cannot do it at all
    const me = (await app.request('GET', '/api/v1/me', { token: admin })).body.user;
    expect((await app.request('PATCH', `/api/v1/users/${me.id}`, { token: admin, body: { disabled: true } })).body.code).toBe('users/cannot_lock_out_self');
    expect((await app.request('PATCH', `/api/v1/users/${me.id}`, { token: admin, body: { role: 'rater' } })).status).toBe(409);
    const bad = await app.request('PATCH', `/api/v1/users/${rater.id}`, { token: admin, body: { role: 'owner' } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('role');
    expect((await app.request('PATCH', `/api/v1/users/${rater.id}`, { token: admin, body: {} })).status).toBe(400);
    expect((await app.request('PATCH', '/api/v1/users/00000000-0000-4000-8000-000000000000', { token: admin, body: { disabled: true } })).status).toBe(404);
    const other = await createUser(app, admin, 'rater');
    expect((await app.request('PATCH', `/api/v1/users/${rater.id}`, { token: other.token, body: { disabled: true } })).status).toBe(403);
  });
});

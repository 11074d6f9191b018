import * as net from 'node:net';
import { io } from 'socket.io-client';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

const EVIL = 'https://evil.example';

/** Sends raw bytes on a fresh connection and resolves with what the server answers (until it closes or `until` matches). */
function rawExchange(url: string, send: (socket: net.Socket) => void, until = /\r\n\r\n[\s\S]*\}/): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => send(socket));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until.test(text)) socket.end();
    });
    socket.on('close', () => resolve({ text, closed: true }));
    socket.on('error', (error) => (text ? resolve({ text, closed: true }) : reject(error)));
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) =>
  JSON.parse(
    text
      .slice(text.indexOf('\r\n\r\n') + 4)
      .replace(/^[0-9a-f]+\r\n/, '')
      .replace(/\r\n0\r\n\r\n$/, ''),
  );

describe('cross-site requests and sockets', () => {
  let app: TestApp;
  let admin: string;
  let slug: string;

  beforeAll(async () => {
    app = await startTestApp({ ALLOWED_ORIGINS: 'http://ui.example:5173' });
    admin = await app.login();
    slug = (await createProject(app, admin)).slug;
  });
  afterAll(() => app.close());

  const connect = (headers: Record<string, string>) =>
    new Promise<{ connected: boolean; error?: string }>((resolve) => {
      const socket = io(`${app.url}/labeling`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
      socket.once('connect', () => {
        socket.close();
        resolve({ connected: true });
      });
      socket.once('connect_error', (error) => {
        socket.close();
        resolve({ connected: false, error: error.message });
      });
    });

  it('refuses a socket from another site that carries only the session cookie, and takes one from the app itself or an allowed origin', async () => {
    const rater = await createUser(app, admin, 'rater', { slug });
    const cookie = `backflow_session=${rater.token}`;
    expect(await connect({ cookie, origin: EVIL })).toEqual({ connected: false, error: expect.any(String) });
    expect(await connect({ cookie, origin: app.url })).toEqual({ connected: true });
    expect(await connect({ cookie, origin: 'http://ui.example:5173' })).toEqual({ connected: true });
    // an opaque origin (a sandboxed frame) is never the app's
    expect((await connect({ cookie, origin: 'null' })).connected).toBe(false);
  });

  it('refuses a cross-site post with the session cookie, even a text/plain one to a route without a body, and the session lives on', async () => {
    const rater = await createUser(app, admin, 'rater', { slug });
    const paused = await createUser(app, admin, 'rater', { slug });
    await app.sql(`INSERT INTO rater_quality (project_id, rater_id, paused_at) SELECT id, $2, now() FROM projects WHERE slug = $1`, [slug, paused.id]);
    const crossSite = (method: string, path: string, token: string) =>
      app.request(method, path, { raw: 'x', headers: { cookie: `backflow_session=${token}`, origin: EVIL, 'content-type': 'text/plain' } });
    for (const [path, token] of [
      ['/api/v1/auth/logout', rater.token],
      [`/api/v1/projects/${slug}/raters/${paused.id}/resume`, admin],
      [`/api/v1/projects/${slug}/monitoring/evaluate`, admin],
    ] as const) {
      const response = await crossSite('POST', path, token);
      expect({ path, status: response.status, code: response.body?.code }).toEqual({ path, status: 403, code: 'auth/cross_site' });
    }
    expect(await app.sql(`SELECT paused_at IS NOT NULL AS paused FROM rater_quality WHERE rater_id = $1`, [paused.id])).toEqual([{ paused: true }]);
    // the same form without an Origin but with the browser's Referer is refused too
    const referred = await app.request('POST', '/api/v1/auth/logout', { headers: { cookie: `backflow_session=${rater.token}`, referer: `${EVIL}/page` } });
    expect(referred.status).toBe(403);
    expect((await app.request('GET', '/api/v1/me', { headers: { cookie: `backflow_session=${rater.token}` } })).status).toBe(200);
    // a sign-in from another site (login CSRF) is refused as well
    expect(
      (await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: rater.password }, headers: { origin: EVIL } })).status,
    ).toBe(403);
  });

  it('takes the same requests from the app itself, from an allowed origin, and with a bearer token from anywhere', async () => {
    const rater = await createUser(app, admin, 'rater', { slug });
    const cookie = `backflow_session=${rater.token}`;
    expect((await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, { body: {}, headers: { cookie, origin: app.url } })).status).toBe(200);
    expect(
      (await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, { body: {}, headers: { cookie, origin: 'http://ui.example:5173' } })).status,
    ).toBe(200);
    expect((await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, { body: {}, token: rater.token, headers: { origin: EVIL } })).status).toBe(200);
    // a non-browser client sends no Origin at all
    expect((await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, { body: {}, headers: { cookie } })).status).toBe(200);
    const key = await createApiKey(app, admin, slug, ['ingest']);
    expect(
      (await app.request('POST', `/api/v1/projects/${slug}/predictions`, { body: predictionBody(), headers: { 'x-api-key': key.secret, origin: EVIL } }))
        .status,
    ).toBe(201);
    // reading is not changing: a GET with the cookie from another site is answered (the browser keeps the answer from that site)
    expect((await app.request('GET', '/api/v1/me', { headers: { cookie, origin: EVIL } })).status).toBe(200);
    // a text/plain body is read by no route
    const plain = await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, {
      raw: '{}',
      token: rater.token,
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
  });
});

describe('credentials before the body, body limits and stalled bodies', () => {
  let app: TestApp;
  let admin: string;
  let slug: string;
  let ingestKey: string;

  beforeAll(async () => {
    app = await startTestApp({ REQUEST_BODY_TIMEOUT_SECONDS: '1', HTTP_MAX_BODY_KB: '64' });
    admin = await app.login();
    slug = (await createProject(app, admin)).slug;
    ingestKey = (await createApiKey(app, admin, slug, ['ingest'])).secret;
  });
  afterAll(() => app.close());

  it('refuses a bad token from its headers alone: the 401 comes back without one byte of the announced body sent, and the connection closes', async () => {
    for (const token of ['bfk_not_a_key', 'bfs_not_a_session', 'garbage']) {
      const { text, closed } = await rawExchange(app.url, (socket) =>
        socket.write(
          `POST /api/v1/projects/${slug}/predictions/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 60000000\r\n\r\n`,
        ),
      );
      expect(statusOf(text)).toBe(401);
      expect(text.toLowerCase()).toContain('connection: close');
      expect(closed).toBe(true);
    }
    // no credential at all, and a key of another project, likewise
    const other = await createProject(app, admin);
    for (const auth of ['', `Authorization: Bearer ${ingestKey}\r\n`]) {
      const { text } = await rawExchange(app.url, (socket) =>
        socket.write(
          `POST /api/v1/projects/${other.slug}/predictions/batch HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 60000000\r\n\r\n`,
        ),
      );
      expect(statusOf(text)).toBe(auth ? 403 : 401);
    }
  });

  it('keeps small bodies for the routes that take no batch, and large ones for ingest', async () => {
    const big = { name: 'x'.repeat(100 * 1024) };
    const patched = await app.request('PATCH', `/api/v1/projects/${slug}`, { body: big, token: admin });
    expect(patched.status).toBe(413);
    expect(patched.body).toMatchObject({ code: 'http/payload_too_large', message: expect.stringContaining('HTTP_MAX_BODY_KB') });
    const batch = Array.from({ length: 400 }, () => predictionBody());
    expect(JSON.stringify(batch).length).toBeGreaterThan(100 * 1024);
    const ingested = await app.request('POST', `/api/v1/projects/${slug}/predictions/batch`, { body: batch, token: ingestKey });
    expect(ingested.status).toBe(200);
    expect(ingested.body.accepted).toBe(400);
  });

  it('cuts a body that trickles in, with 408, and stores nothing of it', async () => {
    const prediction = JSON.stringify(predictionBody());
    const { text } = await rawExchange(app.url, (socket) => {
      socket.write(
        `POST /api/v1/projects/${slug}/predictions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ingestKey}\r\nContent-Type: application/json\r\nContent-Length: ${prediction.length}\r\n\r\n`,
      );
      let sent = 0;
      const trickle = setInterval(() => {
        if (socket.destroyed || sent >= prediction.length - 1) return clearInterval(trickle);
        socket.write(prediction[sent++]);
      }, 200);
      socket.on('close', () => clearInterval(trickle));
    });
    expect(statusOf(text)).toBe(408);
    expect(bodyOf(text)).toMatchObject({ code: 'http/body_timeout', field: 'body' });
    expect(await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE id = $1`, [JSON.parse(prediction).id])).toEqual([{ n: 0 }]);
  });

  it('lets a long NDJSON stream through as long as it keeps flowing', async () => {
    const lines = Array.from({ length: 60 }, () => `${JSON.stringify(predictionBody())}\n`);
    const { text } = await rawExchange(app.url, (socket) => {
      socket.write(
        `POST /api/v1/projects/${slug}/predictions/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ingestKey}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      // 2.4 s of stream in all: past the 1 s window, but every window brings more than a kilobyte
      let i = 0;
      const flow = setInterval(() => {
        if (i < lines.length) {
          const chunk = lines[i++];
          socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
        } else {
          clearInterval(flow);
          socket.write('0\r\n\r\n');
        }
      }, 40);
    });
    expect(statusOf(text)).toBe(200);
    expect(bodyOf(text)).toMatchObject({ accepted: 60 });
  });
});

describe('security headers', () => {
  it('sends CSP without inline script, no framing, nosniff and a referrer policy on the UI and the API; HSTS only with secure cookies', async () => {
    const app = await startTestApp();
    const secure = await startTestApp({ COOKIE_SECURE: 'true' });
    try {
      for (const path of ['/', '/projects', '/api/v1/me', '/healthz']) {
        const response = await fetch(app.url + path, { headers: { accept: 'text/html' } });
        const csp = response.headers.get('content-security-policy') ?? '';
        expect({ path, csp }).toEqual({ path, csp: expect.stringContaining("frame-ancestors 'none'") });
        expect(csp).toMatch(/script-src 'self'(;|$)/);
        expect(csp).not.toContain('unsafe-inline');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(response.headers.get('referrer-policy')).toBe('same-origin');
        expect(response.headers.get('strict-transport-security')).toBeNull();
      }
      expect((await fetch(`${secure.url}/`)).headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    } finally {
      await app.close();
      await secure.close();
    }
  });
});

describe('sign-in limits and password strength', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    // behind a proxy, so each guess can claim its own address
    app = await startTestApp({ TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '5' });
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('counts an account’s failures whatever address they come from, answers 429 with Retry-After, and lets the right password in after the window', async () => {
    const rater = await createUser(app, admin, 'rater');
    const guess = (i: number, password = `wrong-password-${i}`) =>
      app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password }, headers: { 'x-forwarded-for': `203.0.113.${i}` } });
    for (let i = 0; i < 5; i++) expect((await guess(i)).status).toBe(401);
    const limited = await guess(99, rater.password);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('auth/rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(300);
    // another account from the same addresses is not held back
    const other = await createUser(app, admin, 'rater');
    expect(
      (
        await app.request('POST', '/api/v1/auth/login', {
          body: { email: other.email, password: other.password },
          headers: { 'x-forwarded-for': '203.0.113.1' },
        })
      ).status,
    ).toBe(200);
    // the window passes (moved back in the database, as every server process would see it)
    await app.sql(`UPDATE login_failures SET failed_at = failed_at - interval '1 hour' WHERE account = $1`, [rater.email]);
    expect((await guess(100, rater.password)).status).toBe(200);
    expect(await app.sql(`SELECT count(*)::int AS n FROM login_failures WHERE account = $1`, [rater.email])).toEqual([{ n: 0 }]);
  });

  it('refuses passwords that are easy to guess, with the reason, and stores no user', async () => {
    for (const password of ['1234567890', '          ', 'Password123!', 'qwertyuiopasdf']) {
      const email = `weak-${password.trim().length}-${Math.random().toString(36).slice(2)}@example.com`;
      const response = await app.request('POST', '/api/v1/users', { body: { email, password, role: 'rater' }, token: admin });
      expect({ password, status: response.status, code: response.body.code, field: response.body.field }).toEqual({
        password,
        status: 400,
        code: 'users/weak_password',
        field: 'password',
      });
      expect(response.body.message).toMatch(/too easy to guess.*\w/);
      expect(await app.sql(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email])).toEqual([{ n: 0 }]);
    }
    // the person's own email is a word an attacker tries first
    const named = await app.request('POST', '/api/v1/users', {
      body: { email: 'margaret.hamilton@example.com', password: 'margarethamilton', role: 'rater' },
      token: admin,
    });
    expect(named.body.code).toBe('users/weak_password');
    expect(
      (await app.request('POST', '/api/v1/users', { body: { email: 'strong@example.com', password: 'tidal-Orchid-93-lantern', role: 'rater' }, token: admin }))
        .status,
    ).toBe(201);
  });
});

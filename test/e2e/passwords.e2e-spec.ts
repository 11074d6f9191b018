import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { createDatabase } from '../helpers/test-database';
import { loginAt, spawnServer, type ServerProcess } from '../helpers/server-process';
import { createProject, createUser } from '../factories';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', '..', 'server', 'dist', 'cli.js');
const STRONG = () => `Quixotic-harbour-${Math.random().toString(36).slice(2, 8)}-lantern`;

/** A labeling socket of a session, recording why it was ended and when it was cut. */
async function socketOf(app: TestApp, token: string) {
  const socket: Socket = io(`${app.url}/labeling`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const revoked: Array<{ reason: string }> = [];
  socket.on('session:revoked', (payload: { reason: string }) => revoked.push(payload));
  const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return { socket, revoked, disconnected };
}

async function within<T>(what: string, promise: Promise<T>, ms = 5_000): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms))]);
}

describe('passwords: changed by their owner, reset by an admin or on the server', () => {
  let app: TestApp;
  let admin: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    app = await startTestApp({ LOGIN_MAX_FAILURES: '4', LOGIN_WINDOW_SECONDS: '60' });
    admin = await app.login();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app.close();
  });

  const change = (token: string, body: unknown) => app.request('POST', '/api/v1/me/password', { token, body });

  it('changes one’s own password: the current one is required, the new one is rated, other sessions and their sockets end at once', async () => {
    const project = await createProject(app, admin);
    const rater = await createUser(app, admin, 'rater', project);
    const elsewhere = await app.login(rater.email, rater.password);
    const live = await socketOf(app, elsewhere);
    sockets.push(live.socket);

    const wrong = await change(rater.token, { currentPassword: 'not-my-password', newPassword: STRONG() });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'users/wrong_current_password', field: 'currentPassword' });
    const weak = await change(rater.token, { currentPassword: rater.password, newPassword: 'password1234' });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ code: 'users/weak_password', field: 'newPassword' });
    expect(weak.body.message).toMatch(/^newPassword: /);
    const same = await change(rater.token, { currentPassword: rater.password, newPassword: rater.password });
    expect(same.body).toMatchObject({ code: 'users/password_unchanged', field: 'newPassword' });
    const short = await change(rater.token, { currentPassword: rater.password, newPassword: 'short' });
    expect(short.body).toMatchObject({ code: 'validation/invalid', field: 'newPassword' });

    const next = STRONG();
    const changed = await change(rater.token, { currentPassword: rater.password, newPassword: next });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ sessionsEnded: 1 });
    // the other session's socket hears why, and is cut; its requests are refused
    await within('the other session cut', live.disconnected);
    expect(live.revoked).toEqual([{ reason: 'password_changed' }]);
    expect((await app.request('GET', '/api/v1/me', { token: elsewhere })).status).toBe(401);
    // the session that changed it goes on
    expect((await app.request('GET', '/api/v1/me', { token: rater.token })).status).toBe(200);
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: rater.password } })).status).toBe(401);
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: next } })).status).toBe(200);

    const [row] = await app.sql(`SELECT password_hash, password_changed_at FROM users WHERE id = $1`, [rater.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_changed_at).toBeInstanceOf(Date);
    const audit = await app.sql(`SELECT actor_user_id, details FROM audit_log WHERE action = 'user.password_changed' AND target_id = $1`, [rater.id]);
    expect(audit).toEqual([{ actor_user_id: rater.id, details: { sessionsEnded: 1 } }]);
  });

  it('counts wrong current passwords as failed sign-ins: a stolen session cannot guess on', async () => {
    const rater = await createUser(app, admin, 'rater');
    for (let i = 0; i < 4; i++) expect((await change(rater.token, { currentPassword: `guess-${i}`, newPassword: STRONG() })).status).toBe(400);
    const limited = await change(rater.token, { currentPassword: rater.password, newPassword: STRONG() });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('auth/rate_limited');
    expect(limited.headers.get('retry-after')).toBeTruthy();
  });

  it('lets an admin reset somebody’s password: generated and shown once, or given; every session of theirs ends; audited without the password', async () => {
    const project = await createProject(app, admin);
    const rater = await createUser(app, admin, 'rater', project);
    const live = await socketOf(app, rater.token);
    sockets.push(live.socket);

    const generated = await app.request('POST', `/api/v1/users/${rater.id}/password`, { token: admin, body: {} });
    expect(generated.status).toBe(200);
    expect(generated.body).toEqual({ password: expect.stringMatching(/^[\w-]{20,}$/), sessionsEnded: 1 });
    await within('the rater’s socket cut', live.disconnected);
    expect(live.revoked).toEqual([{ reason: 'password_changed' }]);
    expect((await app.request('GET', '/api/v1/me', { token: rater.token })).status).toBe(401);
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: generated.body.password } })).status).toBe(200);

    const given = STRONG();
    const set = await app.request('POST', `/api/v1/users/${rater.id}/password`, { token: admin, body: { password: given } });
    expect(set.body).toEqual({ sessionsEnded: 1 });
    expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater.email, password: given } })).status).toBe(200);

    const weak = await app.request('POST', `/api/v1/users/${rater.id}/password`, { token: admin, body: { password: '1234567890' } });
    expect(weak.body).toMatchObject({ code: 'users/weak_password', field: 'password' });
    const unknown = await app.request('POST', '/api/v1/users/00000000-0000-4000-8000-000000000000/password', { token: admin, body: {} });
    expect(unknown.status).toBe(404);
    const byRater = await app.request('POST', `/api/v1/users/${rater.id}/password`, { token: await app.login(rater.email, given), body: {} });
    expect(byRater.status).toBe(403);

    const audit = await app.sql(`SELECT details FROM audit_log WHERE action = 'user.password_reset' AND target_id = $1 ORDER BY id`, [rater.id]);
    expect(audit.map((r) => r.details)).toEqual([
      { email: rater.email, generated: true, sessionsEnded: 1 },
      { email: rater.email, generated: false, sessionsEnded: 1 },
    ]);
    expect(JSON.stringify(audit)).not.toContain(generated.body.password);
  });

  it('keeps the session of an admin who resets their own password, and ends their others', async () => {
    const other = await createUser(app, admin, 'admin');
    const second = await app.login(other.email, other.password);
    const reset = await app.request('POST', `/api/v1/users/${other.id}/password`, { token: other.token, body: {} });
    expect(reset.body.sessionsEnded).toBe(1);
    expect((await app.request('GET', '/api/v1/me', { token: other.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/me', { token: second })).status).toBe(401);
  });

  it('resets a password on the server with the CLI (the way back in), ending the sessions the running server holds', async () => {
    const other = await createUser(app, admin, 'admin');
    const { stdout } = await run(process.execPath, [CLI, '--json', 'users:reset-password', '--email', other.email.toUpperCase()], {
      env: { PATH: process.env.PATH, DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'warn' },
    });
    const reset = JSON.parse(stdout);
    expect(reset).toEqual({ userId: other.id, email: other.email, sessionsEnded: 1, password: expect.any(String) });
    expect((await app.request('GET', '/api/v1/me', { token: other.token })).status).toBe(401);
    await app.login(other.email, reset.password);
    const [audit] = await app.sql(`SELECT actor_user_id, request_id FROM audit_log WHERE action = 'user.password_reset' AND target_id = $1`, [other.id]);
    expect(audit).toEqual({ actor_user_id: null, request_id: 'cli' });

    const missing = await run(process.execPath, [CLI, 'users:reset-password', '--email', 'nobody@example.com'], {
      env: { PATH: process.env.PATH, DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'warn' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('users/not_found') });
  });
});

describe('first-start credentials: apart from the log', () => {
  let server: ServerProcess | undefined;
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let dataDir: string;

  beforeAll(async () => {
    database = await createDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-first-admin-'));
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) await server.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes a generated password to a 0600 file, names it in a framed block on stderr, never in a log line; the file goes once the password is changed', async () => {
    server = await spawnServer({ DATABASE_URL: database.url, BACKFLOW_DATA_DIR: dataDir, BACKFLOW_ADMIN_EMAIL: '', BACKFLOW_ADMIN_PASSWORD: '' });
    await server.waitReady();
    const file = path.join(dataDir, 'first-admin-credentials');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const password = /^password: (\S+)$/m.exec(fs.readFileSync(file, 'utf8'))![1];
    const output = server.output();
    expect(output).not.toContain(password);
    expect(output).toContain(`|   password: in ${file} (mode 0600)`);
    expect(output).toMatch(/\+-{20,}\+\n\| Backflow created the first admin\./);
    // every log line is JSON; the notice is not among them
    const logLines = output.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.some((line) => JSON.parse(line).msg === `created the first admin admin@backflow.local; its password is in ${file}`)).toBe(true);

    const token = await loginAt(server.url, 'admin@backflow.local', password);
    const changed = await fetch(`${server.url}/api/v1/me/password`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: password, newPassword: STRONG() }),
    });
    expect(changed.status).toBe(200);
    expect(fs.existsSync(file)).toBe(false);
  });
});

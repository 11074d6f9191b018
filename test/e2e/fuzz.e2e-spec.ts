import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { io, Socket } from 'socket.io-client';
import { z } from 'zod';
import {
  FeedbackInput,
  LabelStudioTask,
  PredictionInput,
  SocketClaim,
  SocketHeartbeat,
  SocketSkip,
  SocketResume,
  SocketSubmit,
  SocketUndo,
} from '@backflow/contracts';
import {
  appliesTo,
  dotted,
  featureValue,
  Hazard,
  HAZARD_CLASSES,
  HazardClass,
  HAZARDS,
  Leaf,
  leavesOf,
  mutate,
  RawJson,
  toJsonText,
  valueOf,
} from '../helpers/contract-arbitraries';
import { RouteContract, routeContractsOf } from '../helpers/routes';
import { startTestApp } from '../helpers/test-app';
import { createDatabase, withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';

/**
 * Property-based fuzzing from the contracts: for every route (read from the running app) and
 * every socket event, a body generated from its zod schema, valid by the server's rules where a
 * template says how, with one leaf replaced by a hostile value of that leaf's type. Seeded (the
 * seed is printed): FUZZ_SEED=<seed> replays a run, FUZZ_SEED=random explores a new one,
 * FUZZ_RUNS=<factor> scales the number of cases and the time allowed, FUZZ_TRACE=<file> appends
 * every request sent, FUZZ_SERVER_LOG=<file> keeps the server's output.
 */
// a fixed seed keeps CI's run the same every time; FUZZ_SEED=random explores (and prints the seed to replay)
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED || 20_261_203);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
// cases per class of hazard, through fast-check (a failure is shrunk to its smallest case), and
// the seconds a class may take at most: on a busy machine the suite runs fewer cases, not longer
const RUNS: Record<HazardClass, number> = { text: 1_200, date: 400, integer: 600, depth: 400, type: 1_200 };
const SECONDS: Record<HazardClass, number> = { text: 12, date: 4, integer: 5, depth: 5, type: 12 };
const SOCKET_RUNS = 600;
const SOCKET_SECONDS = 5;
// the fewest cases a route gets, and how many more an ingest route gets than another
const MIN_RUNS = 8;
const INGEST_WEIGHT = 12;
// the memory phase: the same cases again, eight at a time, in rounds (the first round's time decides how many)
const MEMORY_CASES = 1_500;
const ROUNDS = 5;
const ROUND_SECONDS = 5;
// the server's heap limit here: what the requests left behind would have to fit in it
const OLD_SPACE_MIB = 192;

const LABELS = ['ham', 'spam'];
const probabilityPair = fc.double({ min: 0, max: 1, noNaN: true }).map((ham) => ({ ham, spam: 1 - ham }));
// a prediction's id: a UUID, or a model server's own request id (1 to 128 printable ASCII characters, ADR 0043)
const predictionId = fc.oneof(fc.uuid({ version: 4 }), fc.stringMatching(/^[\x21-\x7e]{1,128}$/));
const prediction = {
  id: predictionId,
  model: { name: 'fuzz-model', version: fc.constantFrom('1', '2') },
  input: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), featureValue, { minKeys: 1, maxKeys: 5 }),
  scores: probabilityPair,
  predictedLabel: fc.option(fc.constantFrom(...LABELS), { nil: undefined }),
  // the project's one question is a label named "label": a suggestion for it, or none
  suggestions: fc.option(
    probabilityPair.map((scores) => ({ label: { scores } })),
    { nil: undefined },
  ),
  slice: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), { nil: undefined }),
  // other models' scores of the project's labels, by member; an embedding of float32's range
  committee: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), probabilityPair, { minKeys: 1, maxKeys: 3 }), { nil: undefined }),
  embedding: fc.option(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 8 }), { nil: undefined }),
  metadata: fc.option(
    fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.integer(),
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.integer(), { maxLength: 3 }),
      ),
      { maxKeys: 3 },
    ),
    { nil: undefined },
  ),
};
const feedback = { id: fc.uuid({ version: 4 }), predictionId, type: fc.constantFrom('click', 'rating', 'correction') };
const KserveV1 = z.strictObject({ instances: z.array(z.array(z.union([z.string(), z.number(), z.boolean()]))) });

/** Bodies the server validates itself (no pipe to read them from): their contract, and a template that makes them valid by its rules. */
function unpipedBody(route: string): { schema: z.ZodType; template?: unknown } | undefined {
  if (route === 'POST /api/v1/projects/:slug/predictions') return { schema: PredictionInput, template: prediction };
  if (route === 'POST /api/v1/projects/:slug/predictions/batch')
    return { schema: z.array(PredictionInput), template: fc.array(valueOf(PredictionInput, prediction), { minLength: 1, maxLength: 4 }) };
  if (route === 'POST /api/v1/projects/:slug/feedback') return { schema: FeedbackInput, template: feedback };
  if (route === 'POST /api/v1/projects/:slug/integrations/kserve')
    return { schema: KserveV1, template: { instances: fc.array(fc.array(featureValue, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 }) } };
  if (route === 'POST /api/v1/projects/:slug/import/label-studio')
    return {
      schema: z.array(LabelStudioTask),
      template: [
        {
          id: 1,
          data: { text: 'x' },
          annotations: [{ completed_by: 1, result: [{ from_name: 'label', to_name: 'text', type: 'choices', value: { choices: ['ham'] } }] }],
        },
      ],
    };
  return undefined;
}

/** Parts of bodies that validation pipes read, made valid by the server's rules. */
const TEMPLATES: Record<string, unknown> = {
  'POST /api/v1/projects': { slug: fc.stringMatching(/^fz-[a-z0-9]{6}$/), name: 'Fuzz', taskType: 'single_label', labels: [{ name: 'a' }, { name: 'b' }] },
  'POST /api/v1/users': { email: fc.emailAddress(), password: 'Pass-word-1234-long', role: 'rater' },
  'POST /api/v1/auth/login': { email: 'fuzz@example.com', password: 'wrong-password' },
  'POST /api/v1/projects/:slug/gold': { items: [{ input: { text: 'x' }, label: 'ham' }] },
  'POST /api/v1/projects/:slug/tasks/:id/review': { label: 'ham' },
};

const ROUTE_PARAM = /:([a-zA-Z]+)/g;

interface Target {
  contract: RouteContract;
  method: string;
  template: string;
  body?: { schema: z.ZodType; base: fc.Arbitrary<unknown> };
  query?: { schema: z.ZodType; base: fc.Arbitrary<unknown> };
  params: string[];
}

function targetOf(contract: RouteContract): Target {
  const [method, template] = contract.route.split(' ');
  const unpiped = unpipedBody(contract.route);
  const bodySchema = contract.body ?? unpiped?.schema;
  const bodyTemplate = unpiped?.template ?? TEMPLATES[contract.route];
  return {
    contract,
    method,
    template,
    body: bodySchema && method !== 'GET' && method !== 'DELETE' ? { schema: bodySchema, base: valueOf(bodySchema, bodyTemplate) } : undefined,
    query: contract.query ? { schema: contract.query, base: valueOf(contract.query) } : undefined,
    params: [...template.matchAll(ROUTE_PARAM)].map((m) => m[1]),
  };
}

type Placement = 'body' | 'query' | 'path' | 'raw';
interface FuzzCase {
  target: Target;
  hazard: Hazard;
  placement: Placement;
  leaf?: Leaf;
  body?: unknown;
  query: Record<string, unknown>;
  rawBody?: { text: string; type: string };
  ndjson: boolean;
  partial: boolean;
}

/** A body that cannot be right whatever the route: broken JSON, bytes that are not UTF-8, the wrong content type. */
const MALFORMED: Array<{ text: string | Buffer; type: string }> = [
  { text: '{"a":', type: 'application/json' },
  { text: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), type: 'application/json' },
  { text: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`, type: 'application/json' },
  { text: '{"n":NaN}', type: 'application/json' },
  { text: '', type: 'application/json' },
  { text: '\u0000'.repeat(64) + '{}', type: 'application/json' },
  { text: '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}', type: 'application/json' },
  { text: '{"a":1}', type: 'text/plain' },
  { text: 'a=1', type: 'application/x-www-form-urlencoded' },
  { text: '--x\r\n\r\n--x--', type: 'multipart/form-data; boundary=x' },
  { text: '<a/>', type: 'application/xml' },
  { text: '{"a":1}\n{"a":\n', type: 'application/x-ndjson' },
];

const queryValue = (value: unknown): string => (value instanceof RawJson ? value.text : typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));

/** Percent-encoding of any string, lone surrogates included (as the bytes a careless client sends: CESU-8). */
function encodeAny(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value]
      .map((c) =>
        /[\ud800-\udfff]/.test(c)
          ? [...Buffer.from([0xed, 0xa0 + ((c.charCodeAt(0) >> 6) & 0x1f) - 0x20, 0x80 | (c.charCodeAt(0) & 0x3f)])]
              .map((b) => `%${b.toString(16).toUpperCase()}`)
              .join('')
          : encodeURIComponent(c),
      )
      .join('');
  }
}

const inUrl = (hazard: Hazard) => queryValue(hazard.value).length < 4_096;

function caseArbitrary(targets: Target[], klass: HazardClass): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...targets).chain((target) => {
    const placements: Placement[] = [];
    if (target.body) placements.push('body');
    if (target.query) placements.push('query');
    if (target.params.length && klass === 'text') placements.push('path');
    if (klass === 'type' && target.method !== 'GET' && target.method !== 'DELETE') placements.push('raw');
    return fc
      .record({
        target: fc.constant(target),
        placement: fc.constantFrom(...(placements.length ? placements : (['path'] as Placement[]))),
        body: target.body?.base ?? fc.constant(undefined),
        query: target.query?.base ?? fc.constant({}),
        pick: fc.nat(),
        hazard: fc.constantFrom(...HAZARDS[klass]),
        urlHazard: fc.constantFrom(...HAZARDS[klass].filter((h) => inUrl(h))),
        raw: fc.constantFrom(...MALFORMED),
        ndjson: fc.boolean(),
        partial: fc.boolean(),
      })
      .map(({ target, placement, body, query, pick, hazard: bodyHazard, urlHazard, raw, ndjson, partial }): FuzzCase => {
        // a URL holds at most a few kilobytes: its length is the HTTP parser's to refuse, before any route
        const hazard = placement === 'body' || placement === 'raw' ? bodyHazard : urlHazard;
        const fuzz: FuzzCase = { target, hazard, placement, body, query: query as Record<string, unknown>, ndjson, partial };
        if (placement === 'raw') fuzz.rawBody = { text: typeof raw.text === 'string' ? raw.text : raw.text.toString('latin1'), type: raw.type };
        if (placement === 'body' || placement === 'query') {
          const part = placement === 'body' ? target.body! : target.query!;
          const leaves = leavesOf(part.schema, placement === 'body' ? body : query).filter(
            (leaf) => appliesTo(klass, leaf) && (placement === 'body' || leaf.path.length === 1),
          );
          if (leaves.length) {
            fuzz.leaf = leaves[pick % leaves.length];
            const mutated = mutate(placement === 'body' ? body : query, fuzz.leaf, hazard.value);
            if (placement === 'body') fuzz.body = mutated;
            else fuzz.query = mutated as Record<string, unknown>;
          }
        }
        return fuzz;
      });
  });
}

interface Sent {
  status: number;
  reply: any;
  text: string;
  contentType: string;
}

describe('fuzzing from the contracts: every route and socket event, hostile values of every field type', () => {
  let server: ServerProcess;
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let local: Awaited<ReturnType<typeof startTestApp>>;
  let targets: Target[];
  let admin: string;
  let key: string;
  let slug: string;
  const refusedIds = { predictions: new Set<string>(), feedback_events: new Set<string>() };
  const acceptedIds = { predictions: new Set<string>(), feedback_events: new Set<string>() };
  let sent = 0;

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    // the routes and their schemas, read from the application itself; the traffic goes to the built server in its own process
    local = await startTestApp();
    targets = routeContractsOf(local.app).map(targetOf);
    database = await createDatabase({ empty: true });
    server = await spawnServer({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      LOGIN_MAX_FAILURES: '1000000',
      NODE_OPTIONS: `--max-old-space-size=${OLD_SPACE_MIB}`,
    });
    await server.waitReady();
    admin = await loginAt(server.url);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${admin}` };
    slug = `fuzz-${randomUUID().slice(0, 8)}`;
    await fetch(`${server.url}/api/v1/projects`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ slug, name: slug, taskType: 'single_label', labels: LABELS.map((name) => ({ name })) }),
    });
    key = (
      await (
        await fetch(`${server.url}/api/v1/projects/${slug}/api-keys`, { method: 'POST', headers, body: JSON.stringify({ name: 'k', scopes: ['ingest'] }) })
      ).json()
    ).secret as string;
  }, 120_000);

  afterAll(async () => {
    if (process.env.FUZZ_SERVER_LOG && server) fs.writeFileSync(process.env.FUZZ_SERVER_LOG, server.output());
    if (server && server.child.exitCode === null) await server.stop();
    await database?.drop();
    await local?.close();
  });

  /** Sends one case and notes which ingested ids were refused and which stored. */
  async function send(fuzz: FuzzCase): Promise<Sent> {
    const { target } = fuzz;
    const route = target.contract.route;
    const hostilePath = fuzz.placement === 'path' && typeof fuzz.hazard.value === 'string' ? encodeAny(fuzz.hazard.value) || 'x' : undefined;
    const path = target.template.replace(ROUTE_PARAM, (_m, name: string) =>
      name === 'slug' ? (hostilePath && target.params.length === 1 ? hostilePath : slug) : (hostilePath ?? randomUUID()),
    );
    let search = '';
    for (const [name, value] of Object.entries(fuzz.query))
      if (value !== undefined) search += `${search ? '&' : '?'}${encodeURIComponent(name)}=${encodeAny(queryValue(value))}`;
    const batch = route.endsWith('/predictions/batch');
    if ((batch || route.endsWith('/feedback')) && fuzz.partial) search += `${search ? '&' : '?'}partial=true`;
    const ingest = /\/(predictions|feedback|integrations)/.test(route);
    const token = ingest ? key : route.endsWith('/logout') ? `bf_${randomUUID()}` : admin;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (route.endsWith('/integrations/kserve'))
      Object.assign(headers, { 'ce-id': randomUUID(), 'ce-type': 'org.kubeflow.serving.inference.request', 'ce-specversion': '1.0', 'ce-source': 'fuzz' });
    let body: string | Buffer | undefined;
    if (fuzz.rawBody) {
      body = Buffer.from(fuzz.rawBody.text, 'latin1');
      headers['content-type'] = fuzz.rawBody.type;
    } else if (target.body) {
      const ndjson = batch && fuzz.ndjson && Array.isArray(fuzz.body);
      body = ndjson ? (fuzz.body as unknown[]).map(toJsonText).join('\n') : toJsonText(fuzz.body);
      headers['content-type'] = ndjson ? 'application/x-ndjson' : 'application/json';
    }
    if (process.env.FUZZ_TRACE)
      fs.appendFileSync(
        process.env.FUZZ_TRACE,
        `${Date.now()} ${rssOf(server.child.pid!).toFixed(0)} ${target.method} ${path}${search.slice(0, 200)} ${typeof body === 'string' ? body.slice(0, 300) : ''}\n`,
      );
    let response: Response;
    try {
      response = await fetch(`${server.url}${path}${search}`, { method: target.method, headers, body, signal: AbortSignal.timeout(15_000) });
    } catch (error) {
      const exited =
        server.child.exitCode !== null || /ECONNREFUSED/.test(String((error as { cause?: unknown }).cause))
          ? ` (the server's last words: ${server.output().slice(-1_500)})`
          : '';
      const cause = (error as { cause?: unknown }).cause;
      throw new Error(`${route}: ${String(error)} ${cause instanceof Error ? cause.message : ''}${exited}`, { cause: error });
    }
    const text = await response.text();
    sent++;
    let reply: any;
    try {
      reply = JSON.parse(text);
    } catch {
      reply = undefined;
    }
    note(route, fuzz, response.status, reply);
    return { status: response.status, reply, text, contentType: response.headers.get('content-type') ?? '' };
  }

  function note(route: string, fuzz: FuzzCase, status: number, reply: any): void {
    const table = route.endsWith('/feedback') ? 'feedback_events' : /\/predictions(\/batch)?$/.test(route) ? 'predictions' : undefined;
    if (!table || fuzz.rawBody) return;
    const items = Array.isArray(fuzz.body) ? fuzz.body : [fuzz.body];
    const rejected = new Set<number>((reply?.rejected ?? []).map((r: { index: number }) => r.index));
    items.forEach((item, index) => {
      const id = (item as { id?: unknown })?.id;
      if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) return;
      (status >= 400 || rejected.has(index) ? refusedIds : acceptedIds)[table].add(id);
    });
  }

  /** What must hold for every case: no 5xx, a coded error with its request id, and the hazards that must be refused refused. */
  function check(fuzz: FuzzCase, { status, reply, text, contentType }: Sent): void {
    const where = `${fuzz.target.contract.route} ${fuzz.hazard.name} at ${fuzz.placement}${fuzz.leaf ? ` ${dotted(fuzz.leaf.path) || '(root)'}` : ''}`;
    if (status >= 500) throw new Error(`${where}: ${status} ${text.slice(0, 300)}`);
    if (status >= 400) {
      if (!contentType.includes('json') || typeof reply?.code !== 'string' || !/^[a-z_]+\/[a-z0-9_]+$/.test(reply.code))
        throw new Error(`${where}: ${status} without a stable code: ${text.slice(0, 300)}`);
      if (typeof reply.requestId !== 'string' || !reply.requestId) throw new Error(`${where}: ${status} without a requestId: ${text.slice(0, 300)}`);
    }
    if (!fuzz.hazard.refused || !fuzz.leaf || fuzz.placement === 'raw') return;
    if (fuzz.hazard.class === 'integer' && !mustRefuseInteger(fuzz.target.contract.route, fuzz.leaf)) return;
    if (status < 400) {
      // a batch in partial mode refuses the item, not the batch
      const index = Array.isArray(fuzz.body) ? fuzz.leaf.path[0] : 0;
      const listed = (reply?.rejected ?? []) as Array<{ index: number; code: string; field: string }>;
      const item = listed.find((r) => r.index === index);
      if (fuzz.placement !== 'body' || !item) throw new Error(`${where}: accepted (${status}) ${text.slice(0, 300)}`);
      if (!/^[a-z_]+\/[a-z0-9_]+$/.test(item.code) || !item.field)
        throw new Error(`${where}: rejected item without a code and a field: ${JSON.stringify(item)}`);
    } else if (fuzz.placement === 'body' && status === 400 && !reply.field) {
      throw new Error(`${where}: ${status} ${reply.code} names no field`);
    }
  }

  /** Integers past 2^53 are refused where the ingest stores them: a prediction's input and metadata, a feedback value. */
  function mustRefuseInteger(route: string, leaf: Leaf): boolean {
    const path = route.endsWith('/batch') ? leaf.path.slice(1) : leaf.path;
    if (/\/predictions(\/batch)?$/.test(route)) return (path[0] === 'input' || path[0] === 'metadata') && path.length > 1;
    if (route.endsWith('/feedback')) return path[0] === 'value';
    return false;
  }

  const parameters = <T>(klass: HazardClass, numRuns: number, seconds: number, seed: number): fc.Parameters<[T]> => ({
    seed,
    numRuns: Math.max(MIN_RUNS, Math.ceil(numRuns * SCALE)),
    // (shrinking sends a request per step, and stops there too: a counterexample is reported with the progress made)
    interruptAfterTimeLimit: Math.max(100, seconds * 1_000 * SCALE),
    reporter(details) {
      // a route whose time ran out before a case failed has passed what it ran
      if (!details.failed || (details.interrupted && details.counterexample === null)) return;
      const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(
        `${error}\n(class ${klass}: replay with FUZZ_SEED=${SEED}; fast-check seed ${details.seed}, path ${details.counterexamplePath}, after ${details.numRuns} cases and ${details.numShrinks} shrinks)`,
      );
    },
  });

  it('starts from bodies the ingest routes accept: the hazard alone is what a refusal answers', async () => {
    for (const route of ['POST /api/v1/projects/:slug/predictions', 'POST /api/v1/projects/:slug/predictions/batch', 'POST /api/v1/projects/:slug/feedback']) {
      const target = targets.find((t) => t.contract.route === route)!;
      for (const body of fc.sample(target.body!.base, { seed: SEED, numRuns: 10 })) {
        const { status, text } = await send({ target, hazard: HAZARDS.type[0], placement: 'body', body, query: {}, ndjson: false, partial: false });
        expect([route, status, text.slice(0, 200)]).toEqual([route, expect.any(Number), expect.any(String)]);
        if (status >= 300) throw new Error(`${route}: the base body was refused: ${status} ${text.slice(0, 300)} ${toJsonText(body).slice(0, 300)}`);
      }
    }
  });

  // each route is a property of its own, so one route's failure hides no other's; ingest routes get more cases
  it.each(HAZARD_CLASSES.map((klass) => [klass]))(
    'answers %s hazards in every field of every route with a 4xx naming the field, never a 5xx',
    async (klass) => {
      const applicable = targets.filter((target) => {
        if (klass === 'type' || klass === 'text') return true;
        const leaves = [
          ...(target.body ? fc.sample(target.body.base, { numRuns: 3, seed: SEED }).flatMap((value) => leavesOf(target.body!.schema, value)) : []),
          ...(target.query ? leavesOf(target.query.schema, {}) : []),
        ];
        return leaves.some((leaf) => appliesTo(klass, leaf));
      });
      const weight = (target: Target) => (/\/(predictions|feedback|integrations)/.test(target.contract.route) ? INGEST_WEIGHT : 1);
      const total = applicable.reduce((sum, target) => sum + weight(target), 0);
      const failures: string[] = [];
      const before = sent;
      for (const [i, target] of applicable.entries()) {
        // shrinking may end on another failure than the one first met (a 500 shrunk to a case that is accepted): both are told
        let first: string | undefined;
        try {
          await fc.assert(
            fc.asyncProperty(caseArbitrary([target], klass), async (fuzz) => {
              try {
                check(fuzz, await send(fuzz));
              } catch (error) {
                first ??= (error as Error).message;
                throw error;
              }
            }),
            parameters<FuzzCase>(
              klass,
              (RUNS[klass] * weight(target)) / total,
              (SECONDS[klass] * weight(target)) / total,
              SEED + 1_000 * HAZARD_CLASSES.indexOf(klass) + i,
            ),
          );
        } catch (error) {
          const shrunk = (error as Error).message;
          failures.push(first && !shrunk.startsWith(first) ? `${shrunk}\n  first met as: ${first}` : shrunk);
        }
      }
      console.log(`fuzz seed ${SEED}, ${klass}: ${sent - before} requests over ${applicable.length} routes`);
      expect(failures).toEqual([]);
    },
    300_000,
  );

  it('answers every malformed socket event of /labeling with a coded error, and keeps the connection', async () => {
    const rater = await (async () => {
      const email = `fuzz-rater-${randomUUID().slice(0, 6)}@example.com`;
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${admin}` };
      await fetch(`${server.url}/api/v1/users`, { method: 'POST', headers, body: JSON.stringify({ email, password: 'Pass-word-1234-long', role: 'rater' }) });
      await fetch(`${server.url}/api/v1/projects/${slug}/members`, { method: 'POST', headers, body: JSON.stringify({ email, role: 'rater' }) });
      return loginAt(server.url, email, 'Pass-word-1234-long');
    })();
    const socket: Socket = io(`${server.url}/labeling`, { auth: { token: rater }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    try {
      let emitted = 0;
      const events: Record<string, z.ZodType> = {
        'task:claim': SocketClaim,
        'task:submit': SocketSubmit,
        'task:skip': SocketSkip,
        'task:heartbeat': SocketHeartbeat,
        'task:undo': SocketUndo,
        'task:resume': SocketResume,
      };
      const template = {
        project: slug,
        taskId: fc.uuid({ version: 4 }),
        annotationId: fc.uuid({ version: 4 }),
        annotation: { id: fc.uuid({ version: 4 }), label: fc.constantFrom(...LABELS) },
      };
      // an event nobody handles gets no answer: sent without waiting for one
      for (const name of ['task:unknown', 'admin:grant', '__proto__', 'constructor']) socket.emit(name, 'a\ud800', { $gt: '' });
      const socketCase = fc
        .record({
          event: fc.constantFrom(...Object.keys(events)),
          klass: fc.constantFrom(...HAZARD_CLASSES),
          pick: fc.nat(),
          hazardPick: fc.nat(),
          whole: fc.boolean(),
        })
        .chain(({ event, klass, pick, hazardPick, whole }) =>
          valueOf(events[event], template).map((base) => {
            // socket.io's packet code (client and server) recurses into payloads: deeper than this is its limit, not ours
            const hazards = HAZARDS[klass].filter((h) => !(h.value instanceof RawJson) || h.value.text.length < 5_000);
            const hazard = hazards[hazardPick % hazards.length];
            const leaves = leavesOf(events[event], base).filter((leaf) => appliesTo(klass, leaf));
            const leaf = leaves.length && !whole ? leaves[pick % leaves.length] : undefined;
            const payload = leaf ? mutate(base, leaf, hazard.value) : whole ? hazard.value : base;
            // socket.io sends JS values: a raw JSON text becomes the value it stands for
            return { event, hazard, leaf, payload: JSON.parse(toJsonText(payload) ?? 'null') as unknown };
          }),
        );
      await fc.assert(
        fc.asyncProperty(socketCase, async ({ event, hazard, leaf, payload }) => {
          emitted++;
          const reply = (await socket.timeout(5_000).emitWithAck(event, payload)) as { error?: { code?: unknown } };
          const where = `${event} ${hazard.name} at ${leaf ? dotted(leaf.path) : '(payload)'}`;
          if (reply && typeof reply === 'object' && 'error' in reply) {
            if (typeof reply.error?.code !== 'string') throw new Error(`${where}: an error without a code: ${JSON.stringify(reply).slice(0, 300)}`);
            if (reply.error.code === 'internal/error') throw new Error(`${where}: internal/error`);
          }
          if (!socket.connected) throw new Error(`${where}: the connection was closed`);
        }),
        parameters('type', SOCKET_RUNS, SOCKET_SECONDS, SEED + 100),
      );
      console.log(`fuzz seed ${SEED}, sockets: ${emitted} events`);
    } finally {
      socket.close();
    }
  }, 180_000);

  it('stores nothing of a refused prediction or feedback event, and gives its memory back over rounds of the same cases', async () => {
    // the same cases again and again, eight at a time: what the requests held must be given back. V8
    // keeps the heap it grew to and returns it in its own time, so one reading of RSS says little;
    // with the old generation capped, a leak ends the process instead
    const all = fc.oneof(...HAZARD_CLASSES.map((klass) => caseArbitrary(targets, klass)));
    const cases = fc.sample(all, { seed: SEED + 200, numRuns: Math.ceil(MEMORY_CASES * SCALE) });
    const failures: string[] = [];
    let count = cases.length;
    const round = async (deadline: number): Promise<number> => {
      let i = 0;
      for (; i < count; i += 8) {
        if (Date.now() > deadline) break;
        await Promise.all(
          cases.slice(i, Math.min(i + 8, count)).map(async (fuzz) => {
            try {
              check(fuzz, await send(fuzz));
            } catch (error) {
              if (failures.length < 20) failures.push(String(error).slice(0, 400));
            }
          }),
        );
      }
      return Math.min(i, count);
    };
    count = await round(Date.now() + ROUND_SECONDS * 1_000 * SCALE);
    const rssStart = rssOf(server.child.pid!);
    const rss: number[] = [];
    for (let r = 1; r < ROUNDS; r++) {
      // (a machine that got busier sends fewer of them, not for longer)
      await round(Date.now() + 2 * ROUND_SECONDS * 1_000 * SCALE);
      rss.push(rssOf(server.child.pid!));
    }
    console.log(
      `fuzz seed ${SEED}: ${ROUNDS} rounds of up to ${count} cases; ${sent} requests in all; RSS ${rssStart.toFixed(0)} MiB after the first round, then ${rss.map((v) => v.toFixed(0)).join(', ')}`,
    );
    expect(failures).toEqual([]);
    expect(server.child.exitCode).toBeNull();
    expect(Math.max(...rss) - rssStart).toBeLessThan(OLD_SPACE_MIB);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const stored = await withClient(database.url, async (client) => {
      const found: string[] = [];
      for (const table of ['predictions', 'feedback_events'] as const) {
        const refused = [...refusedIds[table]].filter((id) => !acceptedIds[table].has(id));
        const { rows } = await client.query(`SELECT id::text FROM ${table} WHERE id::text = ANY($1::text[])`, [refused]);
        found.push(...rows.map((row: { id: string }) => `${table} ${row.id}`));
      }
      return found;
    });
    expect(refusedIds.predictions.size).toBeGreaterThan(20);
    expect(stored).toEqual([]);
  }, 300_000);
});

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

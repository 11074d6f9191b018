import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackflowClient } from './client';
import type { BackflowIngestError } from './ingest-error';
import type { ClientOptions, DroppedItems, FeedbackEvent, Prediction, RejectedItems } from './types';

interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  items: Array<Record<string, unknown>>;
  ids: string[];
  receivedAt: number;
}

/** What the test server does with a request: answer it, cut the connection, or never answer. */
type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'destroy' | 'hang';

interface IngestServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

const openServers: IngestServer[] = [];

const acceptAll = (request: ReceivedRequest): Answer => ({ status: 200, body: { accepted: request.items.length, duplicates: 0, rejected: [] } });

/** A real HTTP server on 127.0.0.1; `answer` decides the reply to the n-th request (from 0). */
async function startIngestServer(answer: (request: ReceivedRequest, n: number) => Answer | Promise<Answer> = acceptAll): Promise<IngestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    const respond = async () => {
      const items = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<Record<string, unknown>>;
      const request: ReceivedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        authorization: incoming.headers.authorization,
        contentType: incoming.headers['content-type'],
        items,
        ids: items.map((item) => String(item.id)),
        receivedAt: Date.now(),
      };
      const n = requests.push(request) - 1;
      const reply = await answer(request, n);
      if (reply === 'hang') return;
      if (reply === 'destroy') {
        incoming.socket.destroy();
        return;
      }
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    };
    incoming.on('end', () => void respond());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const ingestServer: IngestServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  openServers.push(ingestServer);
  return ingestServer;
}

let sequence = 0;
function prediction(overrides: Partial<Prediction> = {}): Prediction {
  sequence++;
  return {
    model: { name: 'spam-filter', version: '1.0.0' },
    input: { subject: `offer ${sequence}`, links: sequence % 4, tokens: ['free', 'now'] },
    scores: { ham: 0.7, spam: 0.3 },
    ...overrides,
  };
}

function feedbackEvent(predictionId: string, overrides: Partial<FeedbackEvent> = {}): FeedbackEvent {
  return { id: randomUUID(), predictionId, type: 'click', ...overrides };
}

const errorBody = (code: string, message = code) => ({ code, message, requestId: 'req-1' });

async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('BackflowClient', () => {
  let server: IngestServer;
  const clients: BackflowClient[] = [];

  // tiny backoffs keep every retry test fast; a long interval leaves flushing to the test unless it says otherwise
  function createClient(options: Partial<ClientOptions> = {}): BackflowClient {
    const client = new BackflowClient({
      baseUrl: server.url,
      apiKey: 'bf_test_key',
      project: 'spam',
      flushIntervalMs: 60_000,
      initialBackoffMs: 1,
      maxBackoffMs: 5,
      ...options,
    });
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(openServers.splice(0).map((open) => open.close()));
  });

  describe('sending', () => {
    beforeEach(async () => {
      server = await startIngestServer();
    });

    it('posts a JSON array to the partial batch endpoint with the key, and counts the reply', async () => {
      const client = createClient({ baseUrl: `${server.url}/`, project: 'spam filter' });
      const ids = [client.predict(prediction()), client.predict(prediction())];
      await client.flush();
      expect(server.requests).toEqual([
        expect.objectContaining({
          method: 'POST',
          path: '/api/v1/projects/spam%20filter/predictions/batch?partial=true',
          authorization: 'Bearer bf_test_key',
          contentType: 'application/json',
          ids,
        }),
      ]);
      expect(client.stats()).toEqual({ buffered: 0, sent: 2, accepted: 2, duplicates: 0, rejected: 0, dropped: 0, retries: 0, failed: 0 });
    });

    it('assigns a UUID to a prediction without one, keeps a given id, and leaves the caller object alone', async () => {
      const client = createClient();
      const anonymous = prediction();
      const generated = client.predict(anonymous);
      const given = randomUUID();
      expect(client.predict(prediction({ id: given }))).toBe(given);
      expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(anonymous.id).toBeUndefined();
      await client.flush();
      expect(server.requests[0].ids).toEqual([generated, given]);
    });

    it('sends the predictions of a flush before its feedback', async () => {
      const client = createClient();
      // feedback first on purpose: within a flush, the order of sending does not follow the order of calls
      const events = Array.from({ length: 2 }, () => feedbackEvent(randomUUID()));
      events.forEach((event) => client.feedback(event));
      const ids = Array.from({ length: 2 }, () => client.predict(prediction()));
      await client.flush();
      expect(server.requests.map((request) => [request.path, request.ids])).toEqual([
        ['/api/v1/projects/spam/predictions/batch?partial=true', ids],
        ['/api/v1/projects/spam/feedback?partial=true', events.map((event) => event.id)],
      ]);
    });

    it('sends what it holds when a buffer reaches batchSize, without a flush', async () => {
      const client = createClient({ batchSize: 5 });
      const ids = Array.from({ length: 5 }, () => client.predict(prediction()));
      await eventually(() => server.requests.length === 1);
      expect(server.requests[0].ids).toEqual(ids);
    });

    it('sends what it holds every flushIntervalMs, without a flush', async () => {
      const client = createClient({ flushIntervalMs: 20 });
      const id = client.predict(prediction());
      await eventually(() => client.stats().accepted === 1);
      expect(server.requests.map((request) => request.ids)).toEqual([[id]]);
    });

    it('shares one send among concurrent flushes and sends nothing twice', async () => {
      const client = createClient();
      const ids = Array.from({ length: 10 }, () => client.predict(prediction()));
      await Promise.all([client.flush(), client.flush(), client.flush()]);
      await client.flush();
      expect(server.requests.map((request) => request.ids)).toEqual([ids]);
      expect(client.stats()).toMatchObject({ sent: 10, accepted: 10, buffered: 0 });
    });
  });

  it('sends items added while a send is in flight in the next round, once, in batches of at most batchSize', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    server = await startIngestServer(async (request, n) => {
      if (n === 0) await held;
      return acceptAll(request);
    });
    const client = createClient({ batchSize: 3 });
    const first = client.predict(prediction());
    const sending = client.flush();
    await eventually(() => server.requests.length === 1);
    // reaching batchSize twice while the first request is held: both ask for the same next round
    const later = Array.from({ length: 7 }, () => client.predict(prediction()));
    const flushes = [client.flush(), client.flush()];
    release();
    await Promise.all([sending, ...flushes]);
    expect(server.requests.map((request) => request.ids)).toEqual([[first], later.slice(0, 3), later.slice(3, 6), later.slice(6)]);
  });

  describe('retries', () => {
    const ok = (request: ReceivedRequest): Answer => acceptAll(request);
    const unavailable: Answer = { status: 503, body: errorBody('database/unavailable') };

    it.each<[string, Array<Answer | typeof ok>]>([
      ['503 twice, then 200', [unavailable, unavailable, ok]],
      ['a closed connection twice, then 200', ['destroy', 'destroy', ok]],
      ['429 with Retry-After: 0, then 200', [{ status: 429, body: errorBody('http/rate_limited'), headers: { 'retry-after': '0' } }, ok]],
      ['500, 502, then 200', [{ status: 500, body: errorBody('http/internal') }, { status: 502 }, ok]],
      ['no reply within requestTimeoutMs, then 200', ['hang', ok]],
    ])('re-sends the same items with the same ids after %s', async (_, answers) => {
      server = await startIngestServer((request, n) => {
        const answer = answers[Math.min(n, answers.length - 1)];
        return typeof answer === 'function' ? answer(request) : answer;
      });
      const errors: BackflowIngestError[] = [];
      const client = createClient({ requestTimeoutMs: 200, onError: (error) => errors.push(error) });
      const ids = Array.from({ length: 7 }, () => client.predict(prediction()));
      await client.flush();
      expect(server.requests).toHaveLength(answers.length);
      for (const request of server.requests) expect(request.ids).toEqual(ids);
      // the timestamp too, set once when the prediction was buffered: the server knows a prediction by its id and day
      for (const item of server.requests[0].items as Array<{ timestamp?: string }>) expect(item.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(server.requests[answers.length - 1].items).toEqual(server.requests[0].items);
      expect(client.stats()).toMatchObject({ retries: answers.length - 1, accepted: 7, failed: 0, buffered: 0 });
      expect(errors).toEqual([]);
    });

    it('gives up after maxRetries, reports the server error and counts the items as failed', async () => {
      server = await startIngestServer(() => unavailable);
      const errors: BackflowIngestError[] = [];
      const client = createClient({ maxRetries: 3, onError: (error) => errors.push(error) });
      Array.from({ length: 4 }, () => client.predict(prediction()));
      await client.flush();
      expect(server.requests).toHaveLength(4);
      expect(client.stats()).toMatchObject({ retries: 3, failed: 4, accepted: 0, buffered: 0 });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        name: 'BackflowIngestError',
        kind: 'prediction',
        itemCount: 4,
        status: 503,
        code: 'database/unavailable',
        requestId: 'req-1',
      });
      expect(errors[0].message).toContain('after 4 attempts');
    });

    it('keeps every wait within maxBackoffMs, Retry-After included', async () => {
      // uncapped, these backoffs (1 s doubling) and Retry-After (1 h) would take hours
      server = await startIngestServer((_, n) => (n % 2 ? unavailable : { status: 429, headers: { 'retry-after': '3600' } }));
      const client = createClient({ maxRetries: 6, initialBackoffMs: 1000, maxBackoffMs: 20 });
      client.predict(prediction());
      const started = Date.now();
      await client.flush();
      expect(server.requests).toHaveLength(7);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(client.stats()).toMatchObject({ retries: 6, failed: 1 });
    });

    it('reports a network failure without a status once retries run out', async () => {
      server = await startIngestServer(() => 'destroy');
      const errors: BackflowIngestError[] = [];
      const client = createClient({ maxRetries: 1, onError: (error) => errors.push(error) });
      client.feedback(feedbackEvent(randomUUID()));
      await client.flush();
      expect(server.requests).toHaveLength(2);
      expect(errors).toEqual([expect.objectContaining({ kind: 'feedback', code: 'client/network_error', status: undefined, itemCount: 1 })]);
    });
  });

  it.each([
    [400, 'validation/invalid'],
    [401, 'auth/unauthenticated'],
    [403, 'auth/scope_missing'],
    [404, 'projects/not_found'],
  ])('does not retry a %i (%s): one request, reported, items counted as failed', async (status, code) => {
    server = await startIngestServer(() => ({ status, body: { ...errorBody(code, `refused: ${code}`), field: 'body' } }));
    const errors: BackflowIngestError[] = [];
    const client = createClient({ onError: (error) => errors.push(error) });
    Array.from({ length: 3 }, () => client.predict(prediction()));
    await client.flush();
    expect(server.requests).toHaveLength(1);
    expect(client.stats()).toMatchObject({ retries: 0, failed: 3, sent: 0, buffered: 0 });
    expect(errors).toEqual([expect.objectContaining({ status, code, field: 'body', requestId: 'req-1', itemCount: 3 })]);
    expect(errors[0].message).toContain(`refused: ${code}`);
  });

  describe('a batch too large (413)', () => {
    it.each<[string, Record<string, unknown>, number[]]>([
      ['is split in halves down to what the server takes', { code: 'http/payload_too_large' }, [10, 5, 3, 2, 5, 3, 2]],
      ['is split at details.limit when the server names it', { code: 'predictions/batch_too_large', details: { limit: 3 } }, [10, 3, 3, 3, 1]],
    ])('%s, each item stored once', async (_, body, sizes) => {
      server = await startIngestServer((request) =>
        request.items.length > 3 ? { status: 413, body: { ...body, message: 'too large', requestId: 'r' } } : acceptAll(request),
      );
      const client = createClient({ batchSize: 10 });
      const ids = Array.from({ length: 10 }, () => client.predict(prediction()));
      await client.flush();
      expect(server.requests.map((request) => request.items.length)).toEqual(sizes);
      const stored = server.requests.filter((request) => request.items.length <= 3).flatMap((request) => request.ids);
      expect(stored).toEqual(ids);
      expect(client.stats()).toMatchObject({ accepted: 10, failed: 0, retries: 0 });
    });

    it('gives up on a single item the server still finds too large', async () => {
      server = await startIngestServer((request) =>
        request.items.some((item) => item.metadata) ? { status: 413, body: errorBody('http/payload_too_large') } : acceptAll(request),
      );
      const errors: BackflowIngestError[] = [];
      const client = createClient({ onError: (error) => errors.push(error) });
      client.predict(prediction());
      client.predict(prediction({ metadata: { note: 'x'.repeat(1000) } }));
      await client.flush();
      expect(server.requests.map((request) => request.items.length)).toEqual([2, 1, 1]);
      expect(client.stats()).toMatchObject({ accepted: 1, failed: 1 });
      expect(errors).toEqual([expect.objectContaining({ status: 413, code: 'http/payload_too_large', itemCount: 1 })]);
    });
  });

  it('reports rejected items with the original item, across batches', async () => {
    // like the server: refuse an unknown label, or an event type that is not lowercase, and report its index in the request
    server = await startIngestServer((request) => {
      const rejected = request.items.flatMap((item, index) => {
        if (item.scores && 'eggs' in item.scores) return [{ index, code: 'predictions/unknown_label', field: 'scores.eggs', message: 'unknown label eggs' }];
        if (item.type === 'Click') return [{ index, code: 'validation/invalid', field: 'type', message: 'lowercase' }];
        return [];
      });
      return { status: request.path.includes('feedback') ? 201 : 200, body: { accepted: request.items.length - rejected.length, duplicates: 0, rejected } };
    });
    const reports: RejectedItems[] = [];
    const client = createClient({ batchSize: 4, onRejected: (...report) => reports.push(report) });
    const predictions = Array.from({ length: 6 }, (_, i) => prediction(i === 1 || i === 5 ? { scores: { ham: 0.5, eggs: 0.5 } } : {}));
    const ids = predictions.map((p) => client.predict(p));
    const badEvent = feedbackEvent(ids[0], { type: 'Click' });
    client.feedback(feedbackEvent(ids[0]));
    client.feedback(badEvent);
    await client.flush();

    expect(reports).toEqual([
      [
        'prediction',
        [
          {
            item: { ...predictions[1], id: ids[1], timestamp: expect.any(Date) },
            code: 'predictions/unknown_label',
            field: 'scores.eggs',
            message: 'unknown label eggs',
          },
        ],
      ],
      [
        'prediction',
        [
          {
            item: { ...predictions[5], id: ids[5], timestamp: expect.any(Date) },
            code: 'predictions/unknown_label',
            field: 'scores.eggs',
            message: 'unknown label eggs',
          },
        ],
      ],
      ['feedback', [{ item: badEvent, code: 'validation/invalid', field: 'type', message: 'lowercase' }]],
    ]);
    expect(client.stats()).toMatchObject({ sent: 8, accepted: 5, rejected: 3, failed: 0, retries: 0 });
  });

  describe('bounded memory', () => {
    it('drops new items once maxBufferSize are held, reports the drops per kind and never throws', async () => {
      server = await startIngestServer();
      const drops: DroppedItems[] = [];
      const client = createClient({ maxBufferSize: 5, onDrop: (dropped) => drops.push(dropped) });
      const ids = Array.from({ length: 8 }, () => client.predict(prediction()));
      client.feedback(feedbackEvent(ids[0]));
      client.feedback(feedbackEvent(ids[0]));
      expect(client.stats()).toMatchObject({ buffered: 5, dropped: 5 });
      await Promise.resolve();
      expect(drops).toEqual([
        { kind: 'prediction', count: 3 },
        { kind: 'feedback', count: 2 },
      ]);
      await client.flush();
      expect(server.requests.map((request) => request.ids)).toEqual([ids.slice(0, 5)]);
      expect(client.stats()).toMatchObject({ buffered: 0, accepted: 5, dropped: 5 });
    });

    it('counts items in flight against maxBufferSize until the server answers', async () => {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      server = await startIngestServer(async (request) => {
        await held;
        return acceptAll(request);
      });
      const drops: DroppedItems[] = [];
      const client = createClient({ maxBufferSize: 3, batchSize: 3, onDrop: (dropped) => drops.push(dropped) });
      Array.from({ length: 3 }, () => client.predict(prediction()));
      await eventually(() => server.requests.length === 1);
      client.predict(prediction());
      expect(client.stats()).toMatchObject({ buffered: 3, dropped: 1 });
      release();
      await client.flush();
      const after = client.predict(prediction());
      await client.flush();
      expect(server.requests.map((request) => request.ids.length)).toEqual([3, 1]);
      expect(server.requests[1].ids).toEqual([after]);
      expect(drops).toEqual([{ kind: 'prediction', count: 1 }]);
    });
  });

  it('flushes on a timer that never keeps the process alive, and stops it on close', async () => {
    server = await startIngestServer();
    const setIntervalSpy = jest.spyOn(globalThis, 'setInterval');
    const clearIntervalSpy = jest.spyOn(globalThis, 'clearInterval');
    try {
      const client = createClient({ flushIntervalMs: 10 });
      const timer = setIntervalSpy.mock.results[0].value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      await client.close();
      expect(clearIntervalSpy).toHaveBeenCalledWith(timer);
    } finally {
      setIntervalSpy.mockRestore();
      clearIntervalSpy.mockRestore();
    }
  });

  describe('close', () => {
    it('sends what is buffered, waiting out retries, then refuses new items with a clear error', async () => {
      server = await startIngestServer((request, n) => (n === 0 ? { status: 503, body: errorBody('database/unavailable') } : acceptAll(request)));
      const client = createClient({ flushIntervalMs: 10 });
      const id = client.predict(prediction());
      client.feedback(feedbackEvent(id));
      await client.close();
      expect(client.stats()).toMatchObject({ buffered: 0, accepted: 2, retries: 1 });
      expect(() => client.predict(prediction())).toThrow('BackflowClient.predict() called after close()');
      expect(() => client.feedback(feedbackEvent(id))).toThrow('BackflowClient.feedback() called after close()');
      await expect(client.close()).resolves.toBeUndefined();
      const requestsAtClose = server.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.requests).toHaveLength(requestsAtClose);
    });
  });

  it('keeps sending when a callback throws', async () => {
    server = await startIngestServer((request) => ({
      status: 200,
      body: { accepted: 0, duplicates: 0, rejected: request.items.map((_, index) => ({ index, code: 'c', field: 'f', message: 'm' })) },
    }));
    const client = createClient({
      batchSize: 1,
      onRejected: () => {
        throw new Error('a bug in the caller');
      },
    });
    client.predict(prediction());
    client.predict(prediction());
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 2, rejected: 2 });
  });

  it('reports an item that cannot be serialized instead of throwing', async () => {
    server = await startIngestServer();
    const errors: BackflowIngestError[] = [];
    const client = createClient({ onError: (error) => errors.push(error) });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    client.predict(prediction({ metadata: circular }));
    const good = client.predict(prediction());
    await client.flush();
    expect(server.requests.map((request) => request.ids)).toEqual([[good]]);
    expect(errors).toEqual([expect.objectContaining({ code: 'client/invalid_item', itemCount: 1 })]);
    expect(client.stats()).toMatchObject({ failed: 1, accepted: 1 });
  });

  it.each<[string, Partial<ClientOptions>, string]>([
    ['an empty baseUrl', { baseUrl: '' }, 'baseUrl is required'],
    ['a baseUrl that is not a URL', { baseUrl: 'backflow.local' }, 'baseUrl is not a URL'],
    ['no apiKey', { apiKey: ' ' }, 'apiKey is required'],
    ['no project', { project: '' }, 'project is required'],
    ['batchSize 0', { batchSize: 0 }, 'batchSize must be a number of at least 1'],
    ['negative maxRetries', { maxRetries: -1 }, 'maxRetries must be a number of at least 0'],
    ['maxBufferSize NaN', { maxBufferSize: Number.NaN }, 'maxBufferSize must be a number of at least 1'],
  ])('refuses %s when constructed', (_, options, message) => {
    expect(() => new BackflowClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', project: 'p', ...options })).toThrow(message);
  });
});

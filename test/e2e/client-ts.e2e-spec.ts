import { randomUUID } from 'node:crypto';
import { BackflowClient, BackflowIngestError, ClientOptions, FeedbackEvent, FetchFunction, RejectedItems } from '@backflow/client-ts';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, predictionBody } from '../factories';

const feedbackRules = {
  rules: [
    { eventType: 'click', label: 'ham', windowMinutes: 30 },
    { eventType: 'correction', label: '$value', windowMinutes: 1440, priority: 10 },
  ],
};

describe('TypeScript client against the real server', () => {
  let app: TestApp;
  let admin: string;
  let slug: string;
  let projectId: string;
  let key: string;
  const clients: BackflowClient[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
    const project = await createProject(app, admin, { feedbackRules });
    slug = project.slug;
    projectId = project.id;
    key = (await createApiKey(app, admin, slug, ['ingest'])).secret;
  });
  afterEach(() => Promise.all(clients.splice(0).map((client) => client.close())));
  afterAll(() => app.close());

  function createClient(options: Partial<ClientOptions> = {}): BackflowClient {
    const client = new BackflowClient({ baseUrl: app.url, apiKey: key, project: slug, batchSize: 250, ...options });
    clients.push(client);
    return client;
  }

  const count = async (table: 'predictions' | 'feedback_events', ids: string[]) =>
    (await app.sql(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1 AND id = ANY($2)`, [projectId, ids]))[0].n as number;

  it('stores 2,000 predictions and 500 feedback events once; a second client re-sending them only finds duplicates', async () => {
    const predictions = Array.from({ length: 2000 }, () => predictionBody());
    const errors: BackflowIngestError[] = [];
    const first = createClient({ onError: (error) => errors.push(error) });
    const ids = predictions.map((prediction) => first.predict(prediction));
    expect(ids).toEqual(predictions.map((prediction) => prediction.id));
    const events: FeedbackEvent[] = ids
      .slice(0, 500)
      .map((predictionId, i) => ({ id: `fb-${randomUUID()}`, predictionId, type: i % 2 ? 'click' : 'purchase' }));
    events.forEach((event) => first.feedback(event));
    await first.flush();

    expect(errors).toEqual([]);
    expect(first.stats()).toEqual({ buffered: 0, sent: 2500, accepted: 2500, duplicates: 0, rejected: 0, dropped: 0, retries: 0, failed: 0 });
    expect(await count('predictions', ids)).toBe(2000);
    expect(
      await count(
        'feedback_events',
        events.map((event) => event.id),
      ),
    ).toBe(500);
    // feedback sent after its predictions: the click rule labelled each clicked prediction
    expect(
      (await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND source = 'feedback' AND prediction_id = ANY($2)`, [projectId, ids]))[0].n,
    ).toBe(250);
    await first.close();

    const second = createClient();
    predictions.forEach((prediction) => second.predict(prediction));
    await second.close();
    expect(second.stats()).toEqual({ buffered: 0, sent: 2000, accepted: 0, duplicates: 2000, rejected: 0, dropped: 0, retries: 0, failed: 0 });
    expect(await count('predictions', ids)).toBe(2000);
  });

  it('reports items with an unknown label through onRejected, stores none of them and all the others', async () => {
    const reports: RejectedItems[] = [];
    const client = createClient({ onRejected: (...report) => reports.push(report) });
    const good = Array.from({ length: 9 }, () => predictionBody());
    const unknownLabel = predictionBody({ scores: { ham: 0.5, eggs: 0.5 } });
    [...good.slice(0, 4), unknownLabel, ...good.slice(4)].forEach((prediction) => client.predict(prediction));
    const correction: FeedbackEvent = { id: `fb-${randomUUID()}`, predictionId: good[0].id, type: 'correction', value: 'eggs' };
    client.feedback({ id: `fb-${randomUUID()}`, predictionId: good[1].id, type: 'correction', value: 'spam' });
    client.feedback(correction);
    await client.flush();

    expect(reports).toEqual([
      [
        'prediction',
        [
          {
            item: { ...unknownLabel, timestamp: expect.any(Date) },
            code: 'predictions/unknown_label',
            field: 'scores.eggs',
            message: expect.stringContaining('eggs'),
          },
        ],
      ],
      ['feedback', [{ item: correction, code: 'feedback/unknown_label', field: 'value', message: expect.any(String) }]],
    ]);
    expect(client.stats()).toMatchObject({ sent: 12, accepted: 10, rejected: 2, failed: 0 });
    expect(await count('predictions', [unknownLabel.id])).toBe(0);
    expect(
      await count(
        'predictions',
        good.map((prediction) => prediction.id),
      ),
    ).toBe(9);
    expect(await count('feedback_events', [correction.id])).toBe(0);
  });

  it('sends a model server’s own request ids as they are; feedback sent with them labels their predictions', async () => {
    const client = createClient();
    const predictions = Array.from({ length: 20 }, (_, i) => predictionBody({ id: `req-ts/${randomUUID()}#${i}` }));
    const ids = predictions.map((prediction) => client.predict(prediction));
    expect(ids).toEqual(predictions.map((prediction) => prediction.id));
    ids.forEach((predictionId) => client.feedback({ id: `fb-${predictionId}`, predictionId, type: 'click' }));
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 40, accepted: 40, rejected: 0, failed: 0 });
    const labelled = await app.sql(
      `SELECT p.external_id, l.value FROM predictions p JOIN labels l ON l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL
        WHERE p.project_id = $1 AND p.external_id = ANY($2) ORDER BY p.external_id`,
      [projectId, ids],
    );
    expect(labelled).toEqual([...ids].sort().map((id) => ({ external_id: id, value: 'ham' })));
  });

  it('reports a key that is not valid through onError, without retrying and without storing', async () => {
    const errors: BackflowIngestError[] = [];
    const client = createClient({ apiKey: 'bf_not_a_key', onError: (error) => errors.push(error) });
    const id = client.predict(predictionBody());
    await client.flush();
    expect(errors).toEqual([expect.objectContaining({ kind: 'prediction', status: 401, itemCount: 1, requestId: expect.any(String) })]);
    expect(errors[0].code).toMatch(/^auth\//);
    expect(client.stats()).toMatchObject({ retries: 0, failed: 1, sent: 0 });
    expect(await count('predictions', [id])).toBe(0);
  });
});

describe('TypeScript client against a server that takes smaller batches', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '100' });
  });
  afterAll(() => app.close());

  it('splits a batch refused with 413 at the limit the server names, storing every item once', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin);
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const exchanges: Array<{ items: number; status: number }> = [];
    const recordingFetch: FetchFunction = async (url, init) => {
      const response = await fetch(url, init);
      exchanges.push({ items: (JSON.parse(init.body) as unknown[]).length, status: response.status });
      return response;
    };
    const client = new BackflowClient({ baseUrl: app.url, apiKey: key, project: project.slug, batchSize: 250, fetch: recordingFetch });
    const ids = Array.from({ length: 600 }, () => client.predict(predictionBody()));
    await client.close();
    expect(exchanges.filter((exchange) => exchange.status === 413).map((exchange) => exchange.items)).toEqual([250, 250]);
    expect(exchanges.filter((exchange) => exchange.status === 200).map((exchange) => exchange.items)).toEqual([100, 100, 50, 100, 100, 50, 100]);
    expect(client.stats()).toMatchObject({ sent: 600, accepted: 600, failed: 0, retries: 0 });
    const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1 AND id = ANY($2)`, [project.id, ids]);
    expect(n).toBe(600);
  });
});

import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KserveService } from '../../server/src/interop/kserve.service';
import { predictionIdOf } from '../../server/src/interop/kserve-payload';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject } from '../factories';

/**
 * Interop: a simulated KServe inference logger (V1 and V2 CloudEvents, out of order,
 * duplicated, concurrent), Seldon Core feedback, and a Label Studio export round trip.
 * `test/fixtures/label-studio-export.json` is written by hand in the shape Label Studio's
 * documentation gives for its JSON export (labelstud.io/guide/task_format, "Label Studio JSON
 * format of annotated tasks", and /guide/predictions for `predictions[]`): a text
 * classification project with a `<Choices name="sentiment" toName="text">` over
 * Positive / Negative / Neutral, two annotators (user ids 1 and 2).
 */
describe('interop: KServe, Seldon, Label Studio', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  async function project(overrides: Record<string, unknown> = {}) {
    const created = await createProject(app, admin, overrides);
    const key = (await createApiKey(app, admin, created.slug, ['ingest'])).secret;
    return { ...created, key };
  }

  const event = (slug: string, key: string, id: string | null, type: 'request' | 'response', body: unknown, headers: Record<string, string> = {}) =>
    app.request('POST', `/api/v1/projects/${slug}/integrations/kserve`, {
      token: key,
      raw: typeof body === 'string' ? body : JSON.stringify(body),
      headers: {
        ...(id === null ? {} : { 'ce-id': id }),
        'ce-specversion': '1.0',
        'ce-type': `org.kubeflow.serving.inference.${type}`,
        'ce-source': 'http://localhost:9081/',
        'ce-inferenceservicename': 'spam-model',
        'ce-namespace': 'default',
        'ce-endpoint': 'default',
        ...headers,
      },
    });
  const predictionsOf = (projectId: string) =>
    app.sql(
      `SELECT id, model_name, model_version, input, scores, predicted_label, slice, metadata FROM predictions WHERE project_id = $1 ORDER BY metadata->'kserve'->>'eventId', (metadata->'kserve'->>'instance')::int`,
      [projectId],
    );

  describe('KServe inference logger sink', () => {
    it('pairs V1 halves in any order, duplicated, into exactly one prediction per instance', async () => {
      const p = await project({ integrations: { kserve: { features: ['links', 'length'] } } });
      const id = randomUUID();
      const response = {
        predictions: [
          [0.2, 0.8],
          [0.9, 0.1],
        ],
      };
      const request = {
        instances: [
          [7, 120, 'extra'],
          [0, 40, 'x'],
        ],
      };

      const first = await event(p.slug, p.key, id, 'response', response);
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ eventId: id, state: 'pending', accepted: 0, duplicates: 0 });
      expect((await event(p.slug, p.key, id, 'response', response)).body.state).toBe('duplicate');
      const paired = await event(p.slug, p.key, id, 'request', request);
      expect(paired.status).toBe(201);
      expect(paired.body).toEqual({ eventId: id, state: 'paired', accepted: 2, duplicates: 0 });
      const again = await event(p.slug, p.key, id, 'request', request);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ state: 'duplicate', accepted: 0, duplicates: 2 });
      expect((await event(p.slug, p.key, id, 'response', response)).body.state).toBe('duplicate');

      const rows = await predictionsOf(p.id);
      expect(rows).toHaveLength(2);
      expect(rows.map((r) => r.id)).toEqual([predictionIdOf(id, 0), predictionIdOf(id, 1)]);
      expect(rows[0]).toMatchObject({
        model_name: 'spam-model',
        model_version: 'default',
        input: { links: 7, length: 120, f2: 'extra' },
        scores: { ham: 0.2, spam: 0.8 },
        predicted_label: 'spam',
        slice: { endpoint: 'default' },
      });
      expect(rows[0].metadata.kserve).toMatchObject({ eventId: id, instance: 0, inferenceService: 'spam-model', namespace: 'default' });
      expect(rows[1]).toMatchObject({ input: { links: 0, length: 40, f2: 'x' }, predicted_label: 'ham' });
    });

    it('reads V2 (open inference protocol) tensors, with names, class indexes and the model version', async () => {
      const p = await project({ integrations: { kserve: { rename: { 'input-0': 'pixels' } } } });
      const probabilities = randomUUID();
      await event(p.slug, p.key, probabilities, 'request', {
        id: probabilities,
        inputs: [
          {
            name: 'input-0',
            shape: [2, 2],
            datatype: 'FP32',
            data: [
              [1, 2],
              [3, 4],
            ],
          },
          { name: 'country', shape: [2], datatype: 'BYTES', data: ['FR', 'DE'] },
        ],
      });
      const done = await event(p.slug, p.key, probabilities, 'response', {
        model_name: 'spam-model',
        model_version: '7',
        id: probabilities,
        outputs: [
          { name: 'label', shape: [2, 1], datatype: 'INT64', data: [1, 0] },
          { name: 'probabilities', shape: [2, 2], datatype: 'FP32', data: [0.3, 0.7, 0.6, 0.4] },
        ],
      });
      expect(done.body).toMatchObject({ state: 'paired', accepted: 2 });
      // a class index only: certainty for that class
      const indexes = randomUUID();
      await event(p.slug, p.key, indexes, 'response', { model_name: 'spam-model', outputs: [{ name: 'predict', shape: [1], datatype: 'INT64', data: [1] }] });
      expect(
        (await event(p.slug, p.key, indexes, 'request', { inputs: [{ name: 'input-0', shape: [1, 2], datatype: 'FP32', data: [5, 6] }] })).body,
      ).toMatchObject({ state: 'paired', accepted: 1 });

      const rows = await predictionsOf(p.id);
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(predictionIdOf(probabilities, 0))).toMatchObject({
        model_version: '7',
        input: { pixels_0: 1, pixels_1: 2, country: 'FR' },
        scores: { ham: 0.3, spam: 0.7 },
      });
      expect(byId.get(predictionIdOf(probabilities, 1))).toMatchObject({ input: { pixels_0: 3, pixels_1: 4, country: 'DE' }, predicted_label: 'ham' });
      expect(byId.get(predictionIdOf(indexes, 0))).toMatchObject({ model_version: 'default', scores: { ham: 0, spam: 1 }, predicted_label: 'spam' });
    });

    it('pairs halves that arrive at the same moment exactly once', async () => {
      const p = await project();
      const ids = Array.from({ length: 10 }, () => randomUUID());
      const replies = await Promise.all(
        ids.flatMap((id, i) => [
          event(p.slug, p.key, id, 'request', { instances: [[i, 1]] }),
          event(p.slug, p.key, id, 'response', { predictions: [[0.5, 0.5]] }),
          event(p.slug, p.key, id, 'request', { instances: [[i, 1]] }),
        ]),
      );
      expect(replies.filter((r) => r.status >= 300).map((r) => [r.status, r.body])).toEqual([]);
      expect(replies.filter((r) => r.body.state === 'paired')).toHaveLength(10);
      expect(await predictionsOf(p.id)).toHaveLength(10);
      const status = await app.request('GET', `/api/v1/projects/${p.slug}/integrations/kserve`, { token: admin });
      expect(status.body).toMatchObject({ pending: { requests: 0, responses: 0 }, pairedLastDay: 10, predictionsLastDay: 10 });
    });

    it('expires unpaired halves after the window and counts them', async () => {
      const p = await project({ integrations: { kserve: { pairWindowMinutes: 5 } } });
      await event(p.slug, p.key, randomUUID(), 'request', { instances: [[1, 2]] });
      await event(p.slug, p.key, randomUUID(), 'request', { instances: [[3, 4]] });
      await event(p.slug, p.key, randomUUID(), 'response', { predictions: [[0.1, 0.9]] });
      const before = await app.request('GET', `/api/v1/projects/${p.slug}/integrations/kserve`, { token: admin });
      expect(before.body).toMatchObject({ windowMinutes: 5, pending: { requests: 2, responses: 1 }, expired: { requests: 0, responses: 0 } });
      const kserve = app.app.get(KserveService);
      // inside the window nothing expires; past it, every half
      await kserve.expire(new Date(Date.now() + 4 * 60_000));
      expect((await app.request('GET', `/api/v1/projects/${p.slug}/integrations/kserve`, { token: admin })).body.pending.requests).toBe(2);
      await kserve.expire(new Date(Date.now() + 6 * 60_000));
      const after = await app.request('GET', `/api/v1/projects/${p.slug}/integrations/kserve`, { token: admin });
      expect(after.body).toMatchObject({ pending: { requests: 0, responses: 0, oldest: null }, expired: { requests: 2, responses: 1 } });
      expect(await predictionsOf(p.id)).toHaveLength(0);
    });

    it('recognises a late duplicate half after its paired id was pruned: nothing kept, nothing expires', async () => {
      const p = await project();
      const id = randomUUID();
      await event(p.slug, p.key, id, 'request', { instances: [[1, 2]] });
      expect((await event(p.slug, p.key, id, 'response', { predictions: [[0.3, 0.7]] })).body).toMatchObject({ state: 'paired', accepted: 1 });
      const kserve = app.app.get(KserveService);
      expect((await kserve.expire(new Date(Date.now() + 25 * 3_600_000))).pruned).toBeGreaterThanOrEqual(1);
      expect(await app.sql(`SELECT 1 FROM kserve_events WHERE project_id = $1`, [p.id])).toHaveLength(0);

      for (const [type, body] of [
        ['response', { predictions: [[0.3, 0.7]] }],
        ['request', { instances: [[1, 2]] }],
      ] as const) {
        const late = await event(p.slug, p.key, id, type, body);
        expect(late.status).toBe(200);
        expect(late.body).toMatchObject({ eventId: id, state: 'duplicate', accepted: 0 });
      }
      await kserve.expire(new Date(Date.now() + 60 * 60_000));
      const status = await app.request('GET', `/api/v1/projects/${p.slug}/integrations/kserve`, { token: admin });
      expect(status.body).toMatchObject({ pending: { requests: 0, responses: 0 }, expired: { requests: 0, responses: 0 } });
      expect(await predictionsOf(p.id)).toHaveLength(1);
    });

    it('prunes paired ids a chunk at a time until none is older than a day', async () => {
      const p = await project();
      await app.sql(
        `INSERT INTO kserve_events (project_id, event_id, expires_at, paired_at, predictions) SELECT $1, 'old-' || g, now(), now() - interval '2 days', 1 FROM generate_series(1, 2500) g`,
        [p.id],
      );
      await app.sql(
        `INSERT INTO kserve_events (project_id, event_id, expires_at, paired_at, predictions) VALUES ($1, 'recent', now(), now() - interval '1 hour', 1)`,
        [p.id],
      );
      expect((await app.app.get(KserveService).expire()).pruned).toBe(2500);
      expect(await app.sql(`SELECT event_id FROM kserve_events WHERE project_id = $1`, [p.id])).toEqual([{ event_id: 'recent' }]);
    });

    it.each([
      ['no ce-id', null, { instances: [[1]] }, 'interop/missing_attribute', 'ce-id'],
      ['a type that is not an inference event', { 'ce-type': 'com.example.other' }, { instances: [[1]] }, 'interop/invalid_attribute', 'ce-type'],
      ['a request that is neither V1 nor V2', {}, { rows: [1] }, 'interop/invalid_payload', 'request'],
      [
        'a V2 tensor whose shape and data disagree',
        {},
        { inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3] }] },
        'interop/shape_mismatch',
        'inputs.0.data',
      ],
      ['a body that is not JSON', {}, '{"instances": [', 'http/invalid_json', 'body'],
      [
        'a V2 shape asking for a billion rows of no values',
        {},
        { inputs: [{ name: 'x', shape: [1_000_000_000, 0], datatype: 'FP32', data: [] }] },
        'interop/shape_mismatch',
        'inputs.0.shape',
      ],
    ])('refuses %s with a 4xx naming the field, keeping nothing', async (_name, headers, body, code, field) => {
      const p = await project();
      const response = await event(p.slug, p.key, headers ? randomUUID() : null, 'request', body, headers ?? {});
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, field });
      expect((await app.sql(`SELECT count(*)::int AS n FROM kserve_events WHERE project_id = $1`, [p.id]))[0].n).toBe(0);
    });

    it('refuses a pair the ingestion API would refuse, stores nothing of it, and counts it', async () => {
      const p = await project();
      const id = randomUUID();
      await event(p.slug, p.key, id, 'request', {
        instances: [
          [1, 2],
          [3, 4],
        ],
      });
      const fewer = await event(p.slug, p.key, id, 'response', { predictions: [[0.5, 0.5]] });
      expect(fewer.status).toBe(400);
      expect(fewer.body).toMatchObject({ code: 'interop/shape_mismatch', field: 'response' });
      const unnormalised = await event(p.slug, p.key, id, 'response', {
        predictions: [
          [0.9, 0.9],
          [0.5, 0.5],
        ],
      });
      expect(unnormalised.status).toBe(400);
      expect(unnormalised.body).toMatchObject({ code: 'predictions/batch_rejected', field: '0.scores' });
      expect(await predictionsOf(p.id)).toHaveLength(0);
      const status = await app.request('GET', `/api/v1/projects/${p.slug}/integrations/kserve`, { token: admin });
      expect(status.body).toMatchObject({ pending: { requests: 1, responses: 0 }, rejectedPairs: 2 });
      // the right response still pairs
      expect(
        (
          await event(p.slug, p.key, id, 'response', {
            predictions: [
              [0.5, 0.5],
              [0.2, 0.8],
            ],
          })
        ).body,
      ).toMatchObject({ state: 'paired', accepted: 2 });
    });

    it('pairs an event whose ce-time no database can store, stamping its predictions on arrival', async () => {
      const p = await project();
      const id = randomUUID();
      await event(p.slug, p.key, id, 'request', { instances: [[1, 2]] }, { 'ce-time': '-200000-01-01T00:00:00Z' });
      const paired = await event(p.slug, p.key, id, 'response', { predictions: [[0.5, 0.5]] });
      expect(paired.status).toBe(201);
      const [row] = await app.sql(`SELECT occurred_at FROM predictions WHERE project_id = $1`, [p.id]);
      expect(Math.abs(new Date(row.occurred_at).getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('accepts a structured-mode CloudEvent', async () => {
      const p = await project();
      const id = randomUUID();
      const structured = (type: string, data: unknown) =>
        app.request('POST', `/api/v1/projects/${p.slug}/integrations/kserve`, {
          token: p.key,
          headers: { 'content-type': 'application/cloudevents+json' },
          raw: JSON.stringify({
            specversion: '1.0',
            id,
            source: 'http://localhost:9081/',
            type: `org.kubeflow.serving.inference.${type}`,
            inferenceservicename: 'structured-model',
            data,
          }),
        });
      expect((await structured('request', { instances: [{ links: 3 }] })).status).toBe(202);
      expect((await structured('response', { predictions: ['spam'] })).body).toMatchObject({ state: 'paired', accepted: 1 });
      expect((await predictionsOf(p.id))[0]).toMatchObject({ model_name: 'structured-model', input: { links: 3 }, predicted_label: 'spam' });
    });
  });

  /**
   * Seldon Core v1's own logger: binary CloudEvents whose ce-id is new for each event and whose
   * ce-requestid (the puid) pairs request and response (executor/logger/worker.go in
   * github.com/SeldonIO/seldon-core), carrying SeldonMessage bodies
   * (docs.seldon.ai/seldon-core-1/reference/prediction-apis/prediction; the payloads below are
   * those of components/seldon-request-logger/testing/test.sh in the same repository).
   */
  describe('Seldon Core inference logger sink', () => {
    const seldonHeaders = (puid: string, type: 'request' | 'response') => ({
      'ce-id': randomUUID(),
      'ce-specversion': '1.0',
      'ce-type': `io.seldon.serving.inference.${type}`,
      'ce-source': 'http://income-default.seldon:8000/',
      'ce-requestid': puid,
      'ce-modelid': 'income-container',
      'ce-inferenceservicename': 'income',
      'ce-namespace': 'seldon',
      'ce-endpoint': 'default',
      'ce-protocol': 'seldon',
    });
    const seldonEvent = (slug: string, key: string, puid: string, type: 'request' | 'response', body: unknown) =>
      app.request('POST', `/api/v1/projects/${slug}/integrations/kserve`, { token: key, raw: JSON.stringify(body), headers: seldonHeaders(puid, type) });
    const structuredEvent = (slug: string, key: string, puid: string, type: 'request' | 'response', data: unknown) => {
      const attributes = Object.fromEntries(Object.entries(seldonHeaders(puid, type)).map(([name, value]) => [name.slice(3), value]));
      return app.request('POST', `/api/v1/projects/${slug}/integrations/kserve`, {
        token: key,
        headers: { 'content-type': 'application/cloudevents+json' },
        raw: JSON.stringify({ ...attributes, datacontenttype: 'application/json', data }),
      });
    };
    const keptHalves = async (projectId: string) => (await app.sql(`SELECT count(*)::int AS n FROM kserve_events WHERE project_id = $1`, [projectId]))[0].n;

    it("pairs Seldon's binary events by ce-requestid, names features by data.names, and joins its feedback by the puid", async () => {
      const p = await project({ labels: [{ name: '<=50K' }, { name: '>50K' }] });
      const puid = randomUUID();
      const names = [
        'Age',
        'Workclass',
        'Education',
        'Marital Status',
        'Occupation',
        'Relationship',
        'Race',
        'Sex',
        'Capital Gain',
        'Capital Loss',
        'Hours per week',
        'Country',
      ];
      const request = {
        data: {
          names,
          ndarray: [
            [53, 4, 0, 2, 8, 4, 2, 0, 0, 0, 60, 9],
            [39, 7, 1, 1, 1, 1, 4, 1, 2174, 0, 40, 9],
          ],
        },
      };
      const response = {
        data: {
          names: ['t:0', 't:1'],
          ndarray: [
            [0.8538818809164035, 0.14611811908359656],
            [0.3, 0.7],
          ],
        },
        meta: { puid, requestPath: { 'income-container': 'seldonio/sklearnserver:1.7.0' } },
      };

      const first = await seldonEvent(p.slug, p.key, puid, 'request', request);
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ eventId: puid, state: 'pending', accepted: 0, duplicates: 0 });
      const paired = await seldonEvent(p.slug, p.key, puid, 'response', response);
      expect(paired.status).toBe(201);
      expect(paired.body).toEqual({ eventId: puid, state: 'paired', accepted: 2, duplicates: 0 });
      // the logger retries with a new ce-id: still one prediction per row
      expect((await seldonEvent(p.slug, p.key, puid, 'request', request)).body).toMatchObject({ state: 'duplicate', accepted: 0 });

      const rows = await predictionsOf(p.id);
      expect(rows.map((r) => r.id)).toEqual([predictionIdOf(puid, 0), predictionIdOf(puid, 1)]);
      expect(rows[0]).toMatchObject({
        model_name: 'income',
        model_version: 'default',
        input: { Age: 53, Workclass: 4, 'Marital Status': 2, 'Capital Gain': 0, 'Hours per week': 60, Country: 9 },
        scores: { '<=50K': 0.8538818809164035, '>50K': 0.14611811908359656 },
        predicted_label: '<=50K',
        slice: { endpoint: 'default' },
      });
      expect(rows[0].metadata.kserve).toMatchObject({
        eventId: puid,
        instance: 0,
        inferenceService: 'income',
        namespace: 'seldon',
        modelId: 'income-container',
      });
      expect(rows[1]).toMatchObject({ input: { Age: 39, 'Capital Gain': 2174 }, predicted_label: '>50K' });

      // Seldon's feedback names the puid of the response: it reaches the prediction the logger made
      const feedback = await app.request('POST', `/api/v1/projects/${p.slug}/integrations/seldon/api/v1.0/feedback`, {
        token: p.key,
        body: {
          request,
          response,
          truth: {
            data: {
              names: ['t:0', 't:1'],
              ndarray: [
                [0, 1],
                [0, 1],
              ],
            },
          },
        },
      });
      expect(feedback.status).toBe(201);
      expect(feedback.body.predictionIds).toEqual([predictionIdOf(puid, 0), predictionIdOf(puid, 1)]);
      const labels = await app.sql(`SELECT prediction_id, value, rule FROM labels WHERE project_id = $1 AND superseded_at IS NULL ORDER BY prediction_id`, [
        p.id,
      ]);
      expect(labels.map((l) => [l.prediction_id, l.value, l.rule]).sort()).toEqual(
        [predictionIdOf(puid, 0), predictionIdOf(puid, 1)].sort().map((id) => [id, '>50K', 'truth']),
      );
    });

    it('reads structured events: a tensor named by data.names, class columns in any order, strData and jsonData', async () => {
      const p = await project();
      const tensor = randomUUID();
      expect(
        (
          await structuredEvent(p.slug, p.key, tensor, 'response', {
            data: { names: ['spam', 'ham'], tensor: { shape: [2, 2], values: [0.9, 0.1, 0.25, 0.75] } },
          })
        ).status,
      ).toBe(202);
      expect(
        (await structuredEvent(p.slug, p.key, tensor, 'request', { data: { names: ['links', 'length'], tensor: { shape: [2, 2], values: [7, 120, 0, 40] } } }))
          .body,
      ).toMatchObject({ eventId: tensor, state: 'paired', accepted: 2 });
      const text = randomUUID();
      await structuredEvent(p.slug, p.key, text, 'request', { strData: 'WIN A FREE CRUISE' });
      expect((await structuredEvent(p.slug, p.key, text, 'response', { strData: 'spam' })).body).toMatchObject({ state: 'paired', accepted: 1 });
      const json = randomUUID();
      await structuredEvent(p.slug, p.key, json, 'request', { jsonData: { subject: 'hello', sender: { domain: 'example.com', known: true } } });
      expect((await structuredEvent(p.slug, p.key, json, 'response', { jsonData: { ham: 0.8, spam: 0.2 } })).body).toMatchObject({
        state: 'paired',
        accepted: 1,
      });

      const byId = new Map((await predictionsOf(p.id)).map((r) => [r.id, r]));
      expect(byId.get(predictionIdOf(tensor, 0))).toMatchObject({ input: { links: 7, length: 120 }, scores: { ham: 0.1, spam: 0.9 }, predicted_label: 'spam' });
      expect(byId.get(predictionIdOf(tensor, 1))).toMatchObject({ input: { links: 0, length: 40 }, scores: { ham: 0.75, spam: 0.25 }, predicted_label: 'ham' });
      expect(byId.get(predictionIdOf(text, 0))).toMatchObject({ input: { text: 'WIN A FREE CRUISE' }, scores: { ham: 0, spam: 1 } });
      expect(byId.get(predictionIdOf(json, 0))).toMatchObject({
        input: { subject: 'hello', 'sender.domain': 'example.com', 'sender.known': true },
        scores: { ham: 0.8, spam: 0.2 },
      });
    });

    it.each([
      [
        'a response jsonData that is no prediction (a model of its own keys)',
        'response',
        { jsonData: { my_predictions: [[3.9589564268624405e-18, 0.9999999959012271]] }, meta: {} },
        'interop/invalid_payload',
        'jsonData',
      ],
      [
        'a tensor shape asking for a billion rows of no values',
        'request',
        { data: { names: ['a'], tensor: { shape: [1_000_000_000, 0], values: [] } } },
        'interop/shape_mismatch',
        'data.tensor.shape',
      ],
      [
        'a tensor whose shape and values disagree',
        'request',
        { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [1, 2, 3] } } },
        'interop/shape_mismatch',
        'data.tensor.values',
      ],
      ['a row of more values than data.names', 'request', { data: { names: ['a', 'b'], ndarray: [[1, 2, 3]] } }, 'interop/shape_mismatch', 'data.ndarray.0'],
      ['a binary payload', 'request', { binData: 'AAECAw==' }, 'interop/invalid_payload', 'binData'],
      [
        'a TensorFlow TensorProto',
        'response',
        { data: { tftensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }] }, floatVal: [0.5] } } },
        'interop/invalid_payload',
        'data.tftensor',
      ],
    ] as const)('refuses %s with a 4xx naming the field, keeping nothing', async (_name, type, body, code, field) => {
      const p = await project();
      const puid = randomUUID();
      for (const send of [seldonEvent, structuredEvent]) {
        const refused = await send(p.slug, p.key, puid, type, body);
        expect(refused.status).toBe(400);
        expect(refused.body).toMatchObject({ code, field });
      }
      expect(await keptHalves(p.id)).toBe(0);
      expect(await predictionsOf(p.id)).toHaveLength(0);
    });
  });

  describe('Seldon feedback', () => {
    const feedbackUrl = (slug: string) => `/api/v1/projects/${slug}/integrations/seldon/feedback`;

    it("turns truth into a feedback label and reward into an event, joined by the response's puid", async () => {
      const p = await project();
      const puid = `seldon-${randomUUID()}`;
      await event(p.slug, p.key, puid, 'request', { instances: [[1, 2]] }, { 'ce-type': 'io.seldon.serving.inference.request' });
      await event(p.slug, p.key, puid, 'response', { predictions: [[0.9, 0.1]] }, { 'ce-type': 'io.seldon.serving.inference.response' });
      const body = {
        request: { data: { ndarray: [[1, 2]] } },
        response: { meta: { puid }, data: { names: ['ham', 'spam'], ndarray: [[0.9, 0.1]] } },
        reward: 0,
        truth: { data: { names: ['ham', 'spam'], ndarray: [[0, 1]] } },
      };
      const sent = await app.request('POST', feedbackUrl(p.slug), { token: p.key, body });
      expect(sent.status).toBe(201);
      expect(sent.body).toEqual({ puid, predictionIds: [predictionIdOf(puid, 0)], accepted: 2, duplicates: 0 });
      const [label] = await app.sql(
        `SELECT value, source, rule, contradicts_prediction FROM labels WHERE project_id = $1 AND prediction_id = $2 AND superseded_at IS NULL`,
        [p.id, predictionIdOf(puid, 0)],
      );
      expect(label).toEqual({ value: 'spam', source: 'feedback', rule: 'truth', contradicts_prediction: true });
      const events = await app.sql(`SELECT type, value FROM feedback_events WHERE project_id = $1 ORDER BY type`, [p.id]);
      expect(events).toEqual([
        { type: 'reward', value: 0 },
        { type: 'truth', value: 'spam' },
      ]);
      // Seldon's own path under the base URL, and a retry: nothing twice
      const retry = await app.request('POST', `/api/v1/projects/${p.slug}/integrations/seldon/api/v1.0/feedback`, { token: p.key, body });
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ accepted: 0, duplicates: 2 });
    });

    it('keeps feedback that comes before its prediction and joins it when the prediction is stored', async () => {
      const p = await project();
      const puid = randomUUID();
      const early = await app.request('POST', feedbackUrl(p.slug), {
        token: p.key,
        body: { response: { meta: { puid } }, truth: { data: { ndarray: ['ham'] } } },
      });
      expect(early.status).toBe(201);
      await event(p.slug, p.key, puid, 'response', { predictions: [[0.2, 0.8]] });
      await event(p.slug, p.key, puid, 'request', { instances: [[5]] });
      const [label] = await app.sql(`SELECT value, rule FROM labels WHERE project_id = $1 AND prediction_id = $2 AND superseded_at IS NULL`, [
        p.id,
        predictionIdOf(puid, 0),
      ]);
      expect(label).toEqual({ value: 'ham', rule: 'truth' });
    });

    it('finds a prediction sent to the ingestion API under the puid itself', async () => {
      const p = await project();
      const id = randomUUID();
      await app.request('POST', `/api/v1/projects/${p.slug}/predictions`, {
        token: p.key,
        body: { id, model: { name: 'm', version: '1' }, input: { x: 1 }, scores: { ham: 0.6, spam: 0.4 } },
      });
      const sent = await app.request('POST', feedbackUrl(p.slug), {
        token: p.key,
        body: { response: { meta: { puid: id } }, truth: { data: { tensor: { shape: [1], values: [1] } } } },
      });
      expect(sent.body.predictionIds).toEqual([id]);
      expect((await app.sql(`SELECT value FROM labels WHERE project_id = $1 AND prediction_id = $2`, [p.id, id]))[0].value).toBe('spam');
    });

    it.each([
      ['no puid', { truth: { data: { ndarray: ['ham'] } } }, 'interop/missing_puid', 'response.meta.puid'],
      [
        'a truth naming no class',
        { response: { meta: { puid: 'x' } }, truth: { data: { ndarray: ['eggs'] } } },
        'interop/unknown_class',
        'truth.data.ndarray.0',
      ],
      ['neither reward nor truth', { response: { meta: { puid: 'x' } } }, 'validation/invalid', 'reward'],
      ['a reward that is not a number', { response: { meta: { puid: 'x' } }, reward: 'good' }, 'validation/invalid', 'reward'],
      [
        'a truth tensor shaped for 10^15 rows of no values',
        { response: { meta: { puid: 'x' } }, truth: { data: { tensor: { shape: [1e15, 0], values: [] } } } },
        'interop/invalid_payload',
        'truth.data.tensor.shape',
      ],
    ])('refuses %s with a 400 naming the field', async (_name, body, code, field) => {
      const p = await project();
      const response = await app.request('POST', feedbackUrl(p.slug), { token: p.key, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, field });
      expect((await app.sql(`SELECT count(*)::int AS n FROM feedback_events WHERE project_id = $1`, [p.id]))[0].n).toBe(0);
    });
  });

  describe('Label Studio migration', () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'label-studio-export.json'), 'utf8'));
    const sentiment = { labels: [{ name: 'Positive' }, { name: 'Negative' }, { name: 'Neutral' }] };
    const exportOf = async (slug: string, query = '') => {
      const response = await app.request('GET', `/api/v1/projects/${slug}/export/label-studio${query}`, { token: admin });
      expect(response.status).toBe(200);
      return response.body as Array<Record<string, any>>;
    };
    const stateOf = (projectId: string) =>
      app.sql(
        `SELECT p.input->>'text' AS text, p.predicted_label, p.model_version, l.value AS label, l.source,
                (SELECT array_agg(u.email || '=' || a.label ORDER BY u.email) FROM tasks t JOIN annotations a ON a.task_id = t.id JOIN users u ON u.id = a.rater_id WHERE t.project_id = p.project_id AND t.prediction_id = p.id) AS answers,
                (SELECT state FROM tasks t WHERE t.project_id = p.project_id AND t.prediction_id = p.id AND t.annotations_count > 0) AS task_state
           FROM predictions p LEFT JOIN labels l ON l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL
          WHERE p.project_id = $1 ORDER BY p.input->>'text'`,
        [projectId],
      );

    it('imports a Label Studio export: predictions, annotations by imported raters, finished tasks as labels; once', async () => {
      const p = await project(sentiment);
      const imported = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, { token: admin, body: fixture });
      expect(imported.status).toBe(201);
      // task 103's only annotation was cancelled in Label Studio: no answer, and the reply says so
      const skipped = { cancelled: 1, empty: 0, annotations: ['2.annotations.0'] };
      expect(imported.body).toEqual({ tasks: 5, predictions: { accepted: 5, duplicates: 0 }, annotations: 6, labels: 3, raters: expect.any(Number), skipped });
      const state = await stateOf(p.id);
      const rater = (n: number) => `label-studio-${n}@project-7.imported.invalid`;
      expect(state).toEqual([
        {
          text: 'Arrived late and the box was crushed.',
          predicted_label: 'Positive',
          model_version: 'sentiment-bert-v3',
          label: 'Negative',
          source: 'consensus',
          answers: [`${rater(1)}=Negative`],
          task_state: 'completed',
        },
        {
          text: 'Five stars, would buy again.',
          predicted_label: 'Positive',
          model_version: 'none',
          label: 'Positive',
          source: 'review',
          answers: [`${rater(2)}=Positive`],
          task_state: 'completed',
        },
        {
          text: 'It is a phone case.',
          predicted_label: 'Negative',
          model_version: 'sentiment-bert-v3',
          label: null,
          source: null,
          answers: null,
          task_state: null,
        },
        {
          text: 'The battery lasts two full days. Great purchase.',
          predicted_label: 'Positive',
          model_version: 'sentiment-bert-v3',
          label: 'Positive',
          source: 'consensus',
          answers: [`${rater(1)}=Positive`, `${rater(2)}=Positive`],
          task_state: 'completed',
        },
        {
          text: 'Works, but the app keeps logging me out.',
          predicted_label: 'Negative',
          model_version: 'sentiment-bert-v3',
          label: null,
          source: null,
          answers: [`${rater(1)}=Positive`, `${rater(2)}=Negative`],
          task_state: 'review',
        },
      ]);
      const [scores] = await app.sql(`SELECT scores FROM predictions WHERE project_id = $1 AND input->>'text' LIKE 'The battery%'`, [p.id]);
      expect(scores.scores.Positive).toBeCloseTo(0.87);
      expect(scores.scores.Negative).toBeCloseTo(0.065);
      // imported raters cannot sign in
      const [user] = await app.sql(`SELECT disabled_at, role FROM users WHERE email = $1`, [rater(1)]);
      expect(user.disabled_at).not.toBeNull();
      expect((await app.request('POST', '/api/v1/auth/login', { body: { email: rater(1), password: 'anything-at-all' } })).status).toBe(401);

      const again = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, { token: admin, body: fixture });
      expect(again.body).toEqual({ tasks: 5, predictions: { accepted: 0, duplicates: 5 }, annotations: 0, labels: 0, raters: 0, skipped });
      expect(await stateOf(p.id)).toEqual(state);
    });

    it('never makes a real account a member: a person the file names is credited only when they may label the project already', async () => {
      const p = await project(sentiment);
      const outsider = `outsider-${p.slug}@example.com`;
      const member = `member-${p.slug}@example.com`;
      for (const email of [outsider, member])
        expect((await app.request('POST', '/api/v1/users', { token: admin, body: { email, password: 'Pass-word-1234', role: 'rater' } })).status).toBe(201);
      expect((await app.request('POST', `/api/v1/projects/${p.slug}/members`, { token: admin, body: { email: member, role: 'rater' } })).status).toBe(201);
      const answeredBy = (email: string, text: string) => ({
        data: { text },
        annotations: [
          { id: 1, completed_by: { id: 9, email }, result: [{ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }] },
        ],
        predictions: [],
      });
      const imported = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, {
        token: admin,
        body: [answeredBy(outsider, 'one'), answeredBy(member, 'two')],
      });
      expect(imported.status).toBe(201);
      const answers = await app.sql(
        `SELECT p.input->>'text' AS text, u.email FROM annotations a JOIN tasks t ON t.id = a.task_id JOIN predictions p ON p.project_id = t.project_id AND p.id = t.prediction_id JOIN users u ON u.id = a.rater_id
          WHERE t.project_id = $1 ORDER BY 1`,
        [p.id],
      );
      expect(answers).toEqual([
        { text: 'one', email: `outsider-${p.slug}.at.example.com@stand-in.imported.invalid` },
        { text: 'two', email: member },
      ]);
      // the outsider is still no member, and cannot label the project
      expect(await app.sql(`SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1`, [outsider])).toEqual([]);
    });

    it('exports in Label Studio JSON, and a round trip keeps predictions, annotations and final labels', async () => {
      const source = await project(sentiment);
      await app.request('POST', `/api/v1/projects/${source.slug}/import/label-studio`, { token: admin, body: fixture });
      const exported = await exportOf(source.slug);
      expect(exported).toHaveLength(5);
      const battery = exported.find((t) => t.data.text.startsWith('The battery'))!;
      expect(battery).toMatchObject({
        data: { text: 'The battery lasts two full days. Great purchase.', stars: 3 },
        predictions: [
          {
            model_version: 'label-studio@sentiment-bert-v3',
            result: [{ from_name: 'label', to_name: 'input', type: 'choices', value: { choices: ['Positive'] } }],
          },
        ],
        meta: { backflow: { label: { value: 'Positive', source: 'consensus' } } },
      });
      expect(battery.predictions[0].score).toBeCloseTo(0.87);
      expect(battery.annotations.map((a: any) => a.result[0].value.choices[0])).toEqual(['Positive', 'Positive']);
      expect(battery.annotations[0].completed_by.email).toMatch(/^label-studio-\d@project-7\.imported\.invalid$/);
      expect(await exportOf(source.slug, '?labeled=true')).toHaveLength(4);

      const target = await project(sentiment);
      const imported = await app.request('POST', `/api/v1/projects/${target.slug}/import/label-studio`, { token: admin, body: exported });
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ tasks: 5, predictions: { accepted: 5 }, annotations: 6, labels: 3 });
      const strip = (rows: Array<Record<string, unknown>>) => rows.map(({ task_state: _state, model_version: _version, ...row }) => row);
      expect(strip(await stateOf(target.id))).toEqual(strip(await stateOf(source.id)));
      const again = await exportOf(target.slug);
      const comparable = (tasks: Array<Record<string, any>>) =>
        tasks.map((t) => ({
          data: t.data,
          predictions: t.predictions,
          meta: t.meta,
          annotations: t.annotations.map((a: any) => [a.completed_by.email, a.result]),
        }));
      expect(comparable(again)).toEqual(comparable(exported));
    });

    it('exports predictions that came through the API and KServe, leaving masked fields out unless asked', async () => {
      const p = await project({ maskedFields: ['email'] });
      await app.request('POST', `/api/v1/projects/${p.slug}/predictions`, {
        token: p.key,
        body: { model: { name: 'm', version: '2' }, input: { subject: 'hi', email: 'a@b.c' }, scores: { ham: 0.7, spam: 0.3 } },
      });
      const [task] = await exportOf(p.slug);
      expect(task.data).toEqual({ subject: 'hi' });
      expect(task.annotations).toEqual([]);
      expect(task.meta.backflow).toMatchObject({ model: { name: 'm', version: '2' }, scores: { ham: 0.7, spam: 0.3 } });
      expect((await exportOf(p.slug, '?masked=include'))[0].data).toEqual({ subject: 'hi', email: 'a@b.c' });
    });

    it('imports what another tool wrote loosely: a kept agreement that is no share, answer dates no database can store', async () => {
      const p = await project(sentiment);
      const answer = (createdAt: string) => ({ completed_by: 1, created_at: createdAt, result: [{ type: 'choices', value: { choices: ['Negative'] } }] });
      const imported = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, {
        token: admin,
        body: [
          {
            id: 1,
            data: { text: 'kept' },
            annotations: [answer('2026-01-01T00:00:00Z')],
            meta: { backflow: { label: { value: 'Negative', source: 'consensus', agreement: 5 } } },
          },
          { id: 2, created_at: '+012000-01-01T00:00:00Z', data: { text: 'dated' }, annotations: [answer('-200000-01-01T00:00:00Z')] },
        ],
      });
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ tasks: 2, predictions: { accepted: 2 }, annotations: 2, labels: 2 });
      expect(
        await app.sql(
          `SELECT p.input->>'text' AS text, l.agreement FROM labels l JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id WHERE l.project_id = $1 ORDER BY 1`,
          [p.id],
        ),
      ).toEqual([
        { text: 'dated', agreement: 1 },
        { text: 'kept', agreement: 1 },
      ]);
    });

    it('keeps a feedback label’s round trip off the history of a label people decided, on every re-import', async () => {
      const p = await project(sentiment);
      const answered = {
        id: 1,
        data: { text: 'decided' },
        annotations: [{ completed_by: 1, result: [{ type: 'choices', value: { choices: ['Positive'] } }] }],
      };
      await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, { token: admin, body: [answered] });
      const asFeedback = [{ ...answered, meta: { backflow: { label: { value: 'Negative', source: 'feedback', agreement: null } } } }];
      for (let i = 0; i < 2; i++) {
        const again = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, { token: admin, body: asFeedback });
        expect(again.body).toMatchObject({ annotations: 0, labels: 0 });
      }
      expect(await app.sql(`SELECT value, source, superseded_at IS NULL AS current FROM labels WHERE project_id = $1`, [p.id])).toEqual([
        { value: 'Positive', source: 'consensus', current: true },
      ]);
    });

    /** A Label Studio export the way real projects write one: several Choices and a TextArea in one labeling config. */
    const richTask = (id: number, result: unknown[]) => ({
      id,
      data: { text: `review ${id}`, meta: { product: 'phone case', user: { id: 88, country: 'FR' } } },
      annotations: [
        {
          id: 1,
          completed_by: 1,
          result: [{ id: 'r1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] }, origin: 'manual' }],
          was_cancelled: false,
        },
        { id: 2, completed_by: 2, result, was_cancelled: false },
      ],
      predictions: [],
    });

    it.each([
      [
        'a multi-choice answer (never its first choice only)',
        [{ id: 'r2', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Negative', 'Neutral'] } }],
        '1.annotations.1.result.0.value.choices',
        'task 1 (Label Studio id 12), annotation 1, result 0: 2 choices ["Negative","Neutral"]',
      ],
      [
        'a textarea beside the choice (never dropped)',
        [
          { id: 'r2', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Negative'] } },
          { id: 'r3', from_name: 'comment', to_name: 'text', type: 'textarea', value: { text: ['the case cracked'] } },
        ],
        '1.annotations.1.result.1.type',
        'task 1 (Label Studio id 12), annotation 1, result 1: a textarea result (from_name "comment") cannot be stored',
      ],
      [
        'a rating',
        [{ id: 'r4', from_name: 'stars', to_name: 'text', type: 'rating', value: { rating: 2 } }],
        '1.annotations.1.result.0.type',
        'annotation 1, result 0: a rating result (from_name "stars") cannot be stored',
      ],
    ])('refuses the whole file for %s, naming the task and the result, storing nothing', async (_name, result, field, message) => {
      const p = await project(sentiment);
      const response = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, {
        token: admin,
        body: [richTask(11, [{ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Neutral'] } }]), richTask(12, result)],
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'interop/unsupported_result', field });
      expect(response.body.message).toContain(message);
      expect((await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [p.id]))[0].n).toBe(0);
      expect((await app.sql(`SELECT count(*)::int AS n FROM annotations a JOIN tasks t ON t.id = a.task_id WHERE t.project_id = $1`, [p.id]))[0].n).toBe(0);
    });

    it('reads nested data as dotted features, says which annotations held no answer, and round-trips both', async () => {
      const source = await project(sentiment);
      const emptyResult = { ...richTask(21, []), annotations: [richTask(21, []).annotations[0], { id: 2, completed_by: 2, result: [], was_cancelled: false }] };
      const turns = {
        id: 22,
        data: { dialogue: [{ author: 'A', text: 'hi' }], meta: { user: { age: 41 } } },
        annotations: [{ id: 3, completed_by: 2, result: [], was_cancelled: true }],
      };
      const imported = await app.request('POST', `/api/v1/projects/${source.slug}/import/label-studio`, { token: admin, body: [emptyResult, turns] });
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({
        tasks: 2,
        predictions: { accepted: 2 },
        annotations: 1,
        labels: 1,
        skipped: { cancelled: 1, empty: 1, annotations: ['0.annotations.1', '1.annotations.0'] },
      });
      const inputs = await app.sql(`SELECT input FROM predictions WHERE project_id = $1 ORDER BY metadata->'labelStudio'->>'task'`, [source.id]);
      expect(inputs.map((r) => r.input)).toEqual([
        { text: 'review 21', 'meta.product': 'phone case', 'meta.user.id': 88, 'meta.user.country': 'FR' },
        { dialogue: '[{"author":"A","text":"hi"}]', 'meta.user.age': 41 },
      ]);
      // the export writes the features as stored; importing it again gives the same features
      const exported = await exportOf(source.slug);
      expect(exported.map((t) => t.data)).toEqual(expect.arrayContaining(inputs.map((r) => r.input)));
      const target = await project(sentiment);
      expect((await app.request('POST', `/api/v1/projects/${target.slug}/import/label-studio`, { token: admin, body: exported })).status).toBe(201);
      expect((await app.sql(`SELECT input FROM predictions WHERE project_id = $1`, [target.id])).map((r) => r.input)).toEqual(
        expect.arrayContaining(inputs.map((r) => r.input)),
      );
    });

    it.each([
      [
        'two tasks with one id',
        [
          { id: 4, data: { text: 'a' } },
          { id: 4, data: { text: 'b' } },
        ],
        '1.id',
      ],
      [
        'two tasks of one Backflow prediction',
        [
          { id: 1, data: { text: 'a' }, meta: { backflow: { predictionId: '2a6c1f0e-8d3b-4c5a-9e7f-1b2c3d4e5f60' } } },
          { id: 2, data: { text: 'b' }, meta: { backflow: { predictionId: '2A6C1F0E-8D3B-4C5A-9E7F-1B2C3D4E5F60' } } },
        ],
        '1.id',
      ],
    ])('refuses %s in one file (each would decide the label), storing nothing', async (_name, body, field) => {
      const p = await project(sentiment);
      const response = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, { token: admin, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'interop/duplicate_task', field });
      expect((await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [p.id]))[0].n).toBe(0);
    });

    it.each([
      ['not a list', { tasks: [] }, 'validation/invalid', 'body'],
      ['a task without data', [{ id: 1 }], 'validation/invalid', '0.data'],
      [
        'a label that is not the project’s',
        [{ id: 1, data: { text: 'x' }, annotations: [{ result: [{ type: 'choices', value: { choices: ['Maybe'] } }], completed_by: 1 }] }],
        'interop/unknown_class',
        '0.annotations.0.result.0.value.choices.0',
      ],
      [
        'a region result instead of choices',
        [{ id: 1, data: { text: 'x' }, annotations: [{ result: [{ type: 'rectanglelabels', value: { x: 1 } }] }] }],
        'interop/unsupported_result',
        '0.annotations.0.result.0.type',
      ],
      [
        'a nested field and a dotted key naming one feature',
        [{ id: 1, data: { 'meta.age': 3, meta: { age: 4 } } }],
        'interop/feature_collision',
        '0.data.meta.age',
      ],
    ])('refuses %s with a 4xx naming the field, storing nothing', async (_name, body, code, field) => {
      const p = await project(sentiment);
      const response = await app.request('POST', `/api/v1/projects/${p.slug}/import/label-studio`, { token: admin, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, field });
      expect((await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [p.id]))[0].n).toBe(0);
    });
  });
});

describe('interop: KServe halves on a pool of two connections', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ DB_POOL_SIZE: '2' });
    admin = await app.login();
  });
  afterAll(() => app.close());

  // a transaction that holds a pair's lock and asks the pool for a second connection waits on
  // requests that wait on its lock: every request then times out as database/unavailable
  it('pairs concurrent halves without a transaction ever waiting for a second connection', async () => {
    const p = await createProject(app, admin);
    const key = (await createApiKey(app, admin, p.slug, ['ingest'])).secret;
    const send = (id: string, type: 'request' | 'response', body: unknown) =>
      app.request('POST', `/api/v1/projects/${p.slug}/integrations/kserve`, {
        token: key,
        raw: JSON.stringify(body),
        headers: { 'ce-id': id, 'ce-specversion': '1.0', 'ce-type': `org.kubeflow.serving.inference.${type}`, 'ce-source': 'http://localhost:9081/' },
      });
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const replies = await Promise.all(
      ids.flatMap((id, i) => [
        send(id, 'request', { instances: [[i, 1]] }),
        send(id, 'response', { predictions: [[0.5, 0.5]] }),
        send(id, 'request', { instances: [[i, 1]] }),
      ]),
    );
    expect(replies.filter((r) => r.status >= 300).map((r) => [r.status, r.body])).toEqual([]);
    expect(replies.filter((r) => r.body.state === 'paired')).toHaveLength(6);
  });
});

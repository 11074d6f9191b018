import { randomUUID } from 'node:crypto';
import { DomainEventMap, DomainEvents } from '../../server/src/common/events/domain-events';
import { FeedbackService } from '../../server/src/feedback/feedback.service';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

const feedbackRules = {
  rules: [
    { eventType: 'click', label: 'ham', windowMinutes: 30 },
    { eventType: 'report_spam', label: 'spam', windowMinutes: 60, priority: 5 },
    { eventType: 'correction', label: '$value', windowMinutes: 1440, priority: 10 },
  ],
  absence: { label: 'spam', windowMinutes: 60 },
};

describe('capture: predictions and feedback in, direct labels out', () => {
  let app: TestApp;
  let admin: string;
  let slug: string;
  let projectId: string;
  let key: string;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '2000', INGEST_MAX_BODY_MB: '2' });
    admin = await app.login();
    const project = await createProject(app, admin, { feedbackRules, routing: { contradictionConfidence: 0.9 } });
    slug = project.slug;
    projectId = project.id;
    key = (await createApiKey(app, admin, slug, ['ingest'])).secret;
  });
  afterAll(() => app.close());

  const post = (path: string, body: unknown, token = key) => app.request('POST', `/api/v1/projects/${slug}${path}`, { body, token });
  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    (await app.sql(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1 AND ${where}`, [projectId, ...params]))[0].n as number;
  const currentLabel = async (predictionId: string) =>
    (
      await app.sql(`SELECT value, source, rule, contradicts_prediction FROM labels WHERE project_id = $1 AND prediction_id = $2 AND superseded_at IS NULL`, [
        projectId,
        predictionId,
      ])
    )[0];

  describe('predictions', () => {
    it('stores one prediction and treats a retry with the same id as a duplicate', async () => {
      const body = predictionBody();
      const first = await post('/predictions', body);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ id: body.id, accepted: 1, duplicates: 0 });
      const retry = await post('/predictions', body);
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ id: body.id, accepted: 0, duplicates: 1 });
      const [row] = await app.sql(`SELECT predicted_label, confidence, model_version, slice, input FROM predictions WHERE id = $1`, [body.id]);
      expect(row).toMatchObject({ predicted_label: 'ham', model_version: '1.4.0', slice: body.slice, input: body.input });
      expect(row.confidence).toBeCloseTo(body.scores.ham);
    });

    it('generates an id when the client sends none', async () => {
      const { id: _omitted, ...body } = predictionBody();
      const response = await post('/predictions', body);
      expect(response.status).toBe(201);
      expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('stores a batch once, however often it is retried', async () => {
      const batch = Array.from({ length: 500 }, () => predictionBody());
      expect((await post('/predictions/batch', batch)).body).toMatchObject({ accepted: 500, duplicates: 0 });
      expect((await post('/predictions/batch', batch)).body).toMatchObject({ accepted: 0, duplicates: 500 });
      const overlapping = [...batch.slice(0, 10), ...Array.from({ length: 5 }, () => predictionBody()), batch[0]];
      expect((await post('/predictions/batch', overlapping)).body).toMatchObject({ accepted: 5, duplicates: 11 });
      expect(await count('predictions', 'id = ANY($2::uuid[])', [batch.map((p) => p.id)])).toBe(500);
    });

    it.each([
      ['a negative score', { scores: { ham: -0.2, spam: 1.2 } }, 'predictions/invalid_scores', 'scores.ham'],
      ['scores that do not sum to 1', { scores: { ham: 0.9, spam: 0.9 } }, 'predictions/scores_not_normalized', 'scores'],
      ['an unknown label', { scores: { ham: 0.5, eggs: 0.5 } }, 'predictions/unknown_label', 'scores.eggs'],
      ['a missing model version', { model: { name: 'm' } }, 'validation/invalid', 'model.version'],
      ['a string score', { scores: { ham: '0.5', spam: 0.5 } }, 'validation/invalid', 'scores.ham'],
      ['a nested feature', { input: { a: { b: 1 } } }, 'validation/invalid', 'input.a'],
    ])('refuses %s with a 400 naming the field, storing nothing', async (_, override, code, field) => {
      const body = predictionBody(override);
      const response = await post('/predictions', body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, field, requestId: expect.any(String) });
      expect(response.body.message).toContain(field);
      expect(await count('predictions', 'id = $2', [body.id])).toBe(0);
    });

    it('takes scores rounded to three decimals (a sum 0.001 off 1) and stores them exactly as sent', async () => {
      const body = predictionBody({ scores: { ham: 0.499, spam: 0.5 } });
      const response = await post('/predictions', body);
      expect([response.status, response.body.accepted]).toEqual([201, 1]);
      const [row] = await app.sql(`SELECT scores::text AS scores FROM predictions WHERE id = $1`, [body.id]);
      expect(row.scores).toBe('{"ham": 0.499, "spam": 0.5}');
    });

    it('says the tolerance and the sum received when scores are further off 1', async () => {
      const body = predictionBody({ scores: { ham: 0.498, spam: 0.5 } });
      const response = await post('/predictions', body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'predictions/scores_not_normalized', field: 'scores' });
      expect(response.body.message).toBe(
        'scores: single-label scores must sum to 1 within ±0.001 (0.001, or 0.0005 per score when more: what rounding each score to three decimals can add up to); these 2 sum to 0.998',
      );
      expect(await count('predictions', 'id = $2', [body.id])).toBe(0);
    });

    it('refuses NaN (not JSON) and an oversized body with stable codes', async () => {
      const body = predictionBody();
      const nan = await app.request('POST', `/api/v1/projects/${slug}/predictions`, {
        raw: JSON.stringify(body).replace(/"ham":[0-9.]+/, '"ham":NaN'),
        token: key,
      });
      expect(nan.status).toBe(400);
      expect(nan.body.code).toBe('http/invalid_json');
      const huge = Array.from({ length: 1500 }, () => predictionBody({ metadata: { note: 'x'.repeat(2000) } }));
      const tooBig = await post('/predictions/batch', huge);
      expect(tooBig.status).toBe(413);
      expect(tooBig.body).toMatchObject({ code: 'http/payload_too_large', message: expect.stringContaining('2 MiB') });
      const tooMany = await post(
        '/predictions/batch',
        Array.from({ length: 2001 }, () => ({})),
      );
      expect(tooMany.status).toBe(413);
      expect(tooMany.body).toMatchObject({ code: 'predictions/batch_too_large', details: { limit: 2000 } });
      expect(await count('predictions', 'id = ANY($2::uuid[])', [[body.id, ...huge.map((p) => p.id)]])).toBe(0);
    });

    it('rejects a whole batch for one bad item, or with ?partial=true stores the rest and lists the rejects', async () => {
      const batch = Array.from({ length: 10 }, () => predictionBody());
      batch[3] = predictionBody({ scores: { ham: 2, spam: -1 } });
      batch[7] = predictionBody({ model: { name: 'm', version: '' } });
      const all = await post('/predictions/batch', batch);
      expect(all.status).toBe(400);
      expect(all.body).toMatchObject({ code: 'predictions/batch_rejected', field: '3.scores.ham' });
      expect(all.body.details.rejected.map((r: { index: number }) => r.index)).toEqual([3, 7]);
      expect(await count('predictions', 'id = ANY($2::uuid[])', [batch.map((p) => p.id)])).toBe(0);

      const partial = await post('/predictions/batch?partial=true', batch);
      expect(partial.status).toBe(200);
      expect(partial.body).toMatchObject({
        accepted: 8,
        duplicates: 0,
        rejected: [
          { index: 3, code: 'predictions/invalid_scores', field: 'scores.ham', message: expect.any(String) },
          { index: 7, code: 'validation/invalid', field: 'model.version', message: expect.any(String) },
        ],
      });
      expect(await count('predictions', 'id = ANY($2::uuid[])', [batch.map((p) => p.id)])).toBe(8);
    });

    it('streams NDJSON in one transaction: all of it, or none of it', async () => {
      const lines = Array.from({ length: 2500 }, () => predictionBody());
      const ndjson = (items: unknown[]) => items.map((p) => JSON.stringify(p)).join('\n') + '\n';
      const send = (items: unknown[], query = '') =>
        app.request('POST', `/api/v1/projects/${slug}/predictions/batch${query}`, {
          raw: ndjson(items),
          token: key,
          headers: { 'content-type': 'application/x-ndjson' },
        });

      const broken = [...lines.slice(0, 1500), { model: 'nope' }, ...lines.slice(1500)];
      const refused = await send(broken);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'predictions/batch_rejected', field: '1500.model' });
      expect(await count('predictions', 'id = ANY($2::uuid[])', [lines.map((p) => p.id)])).toBe(0);

      const stored = await send(lines);
      expect(stored.body).toMatchObject({ accepted: 2500, duplicates: 0 });
      const partial = await send([...lines.slice(0, 5), 'not json', predictionBody()], '?partial=true');
      expect(partial.body).toMatchObject({ accepted: 1, duplicates: 5, rejected: [{ index: 5, code: 'validation/invalid' }] });
    });

    it('lets only an ingest key of this project write', async () => {
      const other = await createProject(app, admin);
      const otherKey = (await createApiKey(app, admin, other.slug, ['ingest'])).secret;
      const reader = (await createApiKey(app, admin, slug, ['export:read'])).secret;
      const rater = await createUser(app, admin, 'rater', { slug });
      const body = predictionBody();
      expect((await post('/predictions', body, otherKey)).status).toBe(403);
      const noScope = await post('/predictions', body, reader);
      expect(noScope.status).toBe(403);
      expect(noScope.body.code).toBe('auth/scope_missing');
      expect((await post('/predictions', body, rater.token)).status).toBe(403);
      expect((await app.request('POST', `/api/v1/projects/${slug}/predictions`, { body, token: null })).status).toBe(401);
      expect(await count('predictions', 'id = $2', [body.id])).toBe(0);
      expect((await app.request('GET', `/api/v1/projects/${slug}`, { token: key })).status).toBe(403);
    });
  });

  describe('feedback', () => {
    it('turns an event into a label by the project rules, idempotently', async () => {
      const prediction = predictionBody();
      await post('/predictions', prediction);
      const event = { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'click' };
      expect((await post('/feedback', event)).body).toMatchObject({ accepted: 1, duplicates: 0 });
      expect((await post('/feedback', event)).body).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(await currentLabel(prediction.id)).toEqual({ value: 'ham', source: 'feedback', rule: 'rules[0]', contradicts_prediction: false });
      expect(await count('feedback_events', 'prediction_id = $2', [prediction.id])).toBe(1);
    });

    it('keeps feedback that arrives before its prediction and joins it when the prediction comes', async () => {
      const prediction = predictionBody();
      const early = await post('/feedback', [
        { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'report_spam', occurredAt: new Date().toISOString() },
      ]);
      expect(early.body.accepted).toBe(1);
      expect(await currentLabel(prediction.id)).toBeUndefined();
      await post('/predictions', prediction);
      expect(await currentLabel(prediction.id)).toMatchObject({ value: 'spam', rule: 'rules[1]' });
    });

    it('joins feedback that arrived first to its predictions when they come in a batch (the bulk path), and only to them', async () => {
      const batch = Array.from({ length: 100 }, () => predictionBody());
      const [first, last] = [batch[3], batch[97]];
      for (const prediction of [first, last]) {
        await post('/feedback', [{ id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'report_spam', occurredAt: new Date().toISOString() }]);
      }
      const reply = await post('/predictions/batch', batch);
      expect(reply.body.accepted).toBe(100);
      expect(await currentLabel(first.id)).toMatchObject({ value: 'spam', rule: 'rules[1]' });
      expect(await currentLabel(last.id)).toMatchObject({ value: 'spam', rule: 'rules[1]' });
      expect(await currentLabel(batch[50].id)).toBeUndefined();
    });

    it('lets the higher-priority rule win and keeps the replaced label as history', async () => {
      const prediction = predictionBody();
      await post('/predictions', prediction);
      await post('/feedback', { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'click' });
      await post('/feedback', { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'report_spam' });
      await post('/feedback', { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'click' });
      expect(await currentLabel(prediction.id)).toMatchObject({ value: 'spam', rule: 'rules[1]' });
      const history = await app.sql(`SELECT value, rule, superseded_at IS NOT NULL AS superseded FROM labels WHERE prediction_id = $1 ORDER BY id`, [
        prediction.id,
      ]);
      expect(history).toEqual([
        { value: 'ham', rule: 'rules[0]', superseded: true },
        { value: 'spam', rule: 'rules[1]', superseded: false },
      ]);
    });

    it('ignores events outside the attribution window', async () => {
      const prediction = predictionBody({ timestamp: new Date(Date.now() - 3 * 3600_000).toISOString() });
      await post('/predictions', prediction);
      await post('/feedback', { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'click' });
      expect(await currentLabel(prediction.id)).toBeUndefined();
    });

    it('labels by absence when the window closes with no event, and not before', async () => {
      const service = app.app.get(FeedbackService);
      const quiet = predictionBody({ timestamp: new Date(Date.now() - 61 * 60_000).toISOString() });
      const clicked = predictionBody({ timestamp: new Date(Date.now() - 61 * 60_000).toISOString() });
      const recent = predictionBody();
      await post('/predictions/batch', [quiet, clicked, recent]);
      await post('/feedback', {
        id: `fb-${randomUUID()}`,
        predictionId: clicked.id,
        type: 'click',
        occurredAt: new Date(Date.now() - 50 * 60_000).toISOString(),
      });
      const result = await service.reconcile();
      expect(result.windowsClosed).toBeGreaterThanOrEqual(1);
      expect(await currentLabel(quiet.id)).toMatchObject({ value: 'spam', source: 'feedback', rule: 'absence' });
      expect(await currentLabel(clicked.id)).toMatchObject({ value: 'ham', rule: 'rules[0]' });
      expect(await currentLabel(recent.id)).toBeUndefined();
      expect(await count('feedback_windows', 'prediction_id = $2', [recent.id])).toBe(1);
    });

    it('announces prediction.contradicted when feedback overturns a confident prediction', async () => {
      const seen: Array<DomainEventMap['prediction.contradicted']> = [];
      const off = app.app.get(DomainEvents).on('prediction.contradicted', (event) => void seen.push(event));
      try {
        const confident = predictionBody({ scores: { ham: 0.95, spam: 0.05 } });
        const unsure = predictionBody({ scores: { ham: 0.6, spam: 0.4 } });
        await post('/predictions/batch', [confident, unsure]);
        await post('/feedback', [
          { id: `fb-${randomUUID()}`, predictionId: confident.id, type: 'correction', value: 'spam' },
          { id: `fb-${randomUUID()}`, predictionId: unsure.id, type: 'correction', value: 'spam' },
        ]);
        await new Promise((r) => setImmediate(r));
        expect(seen).toEqual([{ projectId, predictionId: confident.id, predictedLabel: 'ham', confidence: 0.95, label: 'spam', rule: 'rules[2]' }]);
        expect(await currentLabel(confident.id)).toMatchObject({ value: 'spam', contradicts_prediction: true });
        expect(await currentLabel(unsure.id)).toMatchObject({ value: 'spam', contradicts_prediction: false });
      } finally {
        off();
      }
    });

    it('keeps a human label over a later feedback label, with both in the history', async () => {
      const prediction = predictionBody();
      await post('/predictions', prediction);
      await app.sql(
        `INSERT INTO labels (project_id, prediction_id, value, source, agreement, answers) VALUES ($1, $2, 'ham', 'review', 1, '{"label": "ham"}')`,
        [projectId, prediction.id],
      );
      await post('/feedback', { id: `fb-${randomUUID()}`, predictionId: prediction.id, type: 'report_spam' });
      expect(await currentLabel(prediction.id)).toMatchObject({ value: 'ham', source: 'review' });
      const history = await app.sql(`SELECT value, source FROM labels WHERE prediction_id = $1 ORDER BY id`, [prediction.id]);
      expect(history).toEqual([
        { value: 'ham', source: 'review' },
        { value: 'spam', source: 'feedback' },
      ]);
    });

    it('refuses bad events with the field named, storing none of a batch', async () => {
      const prediction = predictionBody();
      const cases: Array<[unknown, string, string]> = [
        [{ id: 'x', predictionId: 'not an id', type: 'click' }, 'validation/invalid', 'predictionId'],
        [{ predictionId: prediction.id, type: 'click' }, 'validation/invalid', 'id'],
        [{ id: 'x', predictionId: prediction.id, type: 'Click Me' }, 'validation/invalid', 'type'],
        [{ id: 'x', predictionId: prediction.id, type: 'correction', value: 'eggs' }, 'feedback/unknown_label', 'value'],
      ];
      for (const [event, code, field] of cases) {
        const response = await post('/feedback', event);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ code, field });
      }
      const batch = await post('/feedback', [{ id: `ok-${randomUUID()}`, predictionId: prediction.id, type: 'click' }, cases[0][0]]);
      expect(batch.status).toBe(400);
      expect(batch.body).toMatchObject({ code: 'feedback/batch_rejected', field: '1.predictionId' });
      expect(await count('feedback_events', 'prediction_id = $2', [prediction.id])).toBe(0);
    });

    it('joins feedback whose prediction committed concurrently on the next reconcile pass', async () => {
      const prediction = predictionBody();
      // as if the event's transaction missed the prediction's: stored, not applied
      await app.sql(`SELECT backflow_feedback_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date], false)`, [projectId]);
      await app.sql(
        `INSERT INTO feedback_events (project_id, id, prediction_id, type, occurred_at, occurred_on) VALUES ($1, $2, $3, 'click', now(), (now() AT TIME ZONE 'UTC')::date)`,
        [projectId, `fb-${randomUUID()}`, prediction.id],
      );
      await app.sql(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date], false)`, [projectId]);
      await app.sql(
        `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, occurred_at, occurred_on)
         VALUES ($1, $2, 'm', '1', '{}', '{"ham":0.5,"spam":0.5}', 'ham', 0.5, now(), (now() AT TIME ZONE 'UTC')::date)`,
        [projectId, prediction.id],
      );
      expect(await currentLabel(prediction.id)).toBeUndefined();
      const result = await app.app.get(FeedbackService).reconcile();
      expect(result.eventsApplied).toBeGreaterThanOrEqual(1);
      expect(await currentLabel(prediction.id)).toMatchObject({ value: 'ham', rule: 'rules[0]' });
    });
  });
});

import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, predictionBody } from '../factories';

// Each input here gave a 500, or was stored changed, before; the fuzzer (fuzz.e2e-spec.ts) found them.
describe('capture hardening: bad input is a 4xx naming the field, and nothing of it is stored', () => {
  let app: TestApp;
  let admin: string;
  let slug: string;
  let projectId: string;
  let key: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
    const project = await createProject(app, admin, {
      export: {
        formats: ['jsonl'],
        features: [
          { name: 'count', type: 'int' },
          { name: 'score', type: 'float' },
        ],
      },
    });
    slug = project.slug;
    projectId = project.id;
    key = (await createApiKey(app, admin, slug, ['ingest'])).secret;
  });
  afterAll(() => app.close());

  const raw = (path: string, text: string, type = 'application/json', token = key) =>
    app.request('POST', `/api/v1/projects/${slug}${path}`, { raw: text, token, headers: { 'content-type': type } });
  const stored = async (ids: string[]) =>
    (await app.sql(`SELECT id::text FROM predictions WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`, [projectId, ids])).map((r) => r.id);
  const prediction = (overrides: Record<string, unknown> = {}) => predictionBody(overrides);
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  describe('one prediction', () => {
    it.each([
      ['a lone surrogate in a feature', (body: string) => body.replace('"Lorem ipsum', '"\\ud800Lorem ipsum'), 400, 'validation/invalid_text', 'input.body'],
      [
        'a lone surrogate in the model name (else stored as U+FFFD)',
        (body: string) => body.replace('"spam-filter"', '"spam-filter\\udc00"'),
        400,
        'validation/invalid_text',
        'model.name',
      ],
      [
        'a NUL in a slice value',
        (body: string) => body.replace(/"country":"([A-Z]+)"/, '"country":"$1\\u0000"'),
        400,
        'validation/invalid_text',
        'slice.country',
      ],
      [
        'a timestamp in the year 0',
        (body: string) => body.replace(/}$/, ',"timestamp":"0000-01-01T00:00:00Z"}'),
        400,
        'validation/date_out_of_range',
        'timestamp',
      ],
      [
        'a timestamp that is the year 0 in UTC',
        (body: string) => body.replace(/}$/, ',"timestamp":"0001-01-01T00:00:00+01:00"}'),
        400,
        'validation/date_out_of_range',
        'timestamp',
      ],
      ['metadata nested 5,000 deep', (body: string) => body.replace(/}$/, `,"metadata":${nested(5_000)}}`), 400, 'validation/too_deep', 'metadata.a'],
      ['an integer above 2^53', (body: string) => body.replace(/}$/, ',"input":{"big":9007199254740993}}'), 400, 'predictions/unsafe_integer', 'input.big'],
      ['2^60 in a list', (body: string) => body.replace(/}$/, ',"input":{"vec":[1,1152921504606846976]}}'), 400, 'predictions/unsafe_integer', 'input.vec.1'],
      [
        'an integer below -(2^53 - 1) in metadata',
        (body: string) => body.replace(/}$/, ',"metadata":{"trace":{"n":-9007199254740993}}}'),
        400,
        'predictions/unsafe_integer',
        'metadata.trace.n',
      ],
      [
        'a feature below the smallest double (JSON reads it as 0)',
        (body: string) => body.replace(/}$/, ',"input":{"tiny":1e-400}}'),
        400,
        'validation/number_underflow',
        'input.tiny',
      ],
      [
        'a score written with 400 zeros after the point',
        (body: string) => body.replace(/"spam":[0-9.e-]+/, `"spam":0.${'0'.repeat(400)}1`),
        400,
        'validation/number_underflow',
        'scores.spam',
      ],
      [
        'a metadata number below the smallest double, with a capital E',
        (body: string) => body.replace(/}$/, ',"metadata":{"p":[0.5,-2E-0330]}}'),
        400,
        'validation/number_underflow',
        'metadata.p.1',
      ],
      [
        'a fraction for a feature declared int',
        (body: string) => body.replace(/}$/, ',"input":{"count":2.5}}'),
        400,
        'predictions/feature_type_mismatch',
        'input.count',
      ],
      [
        'a string for a feature declared int',
        (body: string) => body.replace(/}$/, ',"input":{"count":"3"}}'),
        400,
        'predictions/feature_type_mismatch',
        'input.count',
      ],
      [
        'a string in a list declared float',
        (body: string) => body.replace(/}$/, ',"input":{"score":[0.5,"high"]}}'),
        400,
        'predictions/feature_type_mismatch',
        'input.score.1',
      ],
    ])('refuses %s', async (_name, spoil, status, code, field) => {
      const body = prediction();
      const response = await raw('/predictions', spoil(JSON.stringify(body)));
      expect(response.status).toBe(status);
      expect(response.body).toMatchObject({
        code,
        field: expect.stringContaining(field),
        message: expect.stringContaining(field),
        requestId: expect.any(String),
      });
      expect(await stored([body.id])).toEqual([]);
    });

    it('tells the caller to send a large integer as a string, and keeps the largest safe integers, fractions of floats and emoji', async () => {
      const refused = await raw('/predictions', JSON.stringify(prediction()).replace(/}$/, ',"input":{"big":9007199254740993}}'));
      expect(refused.body.message).toMatch(/as a string/);
      const body = prediction({ input: { safe: Number.MAX_SAFE_INTEGER, count: [3, -7], score: [3, 1.25], text: 'été 🙂 \u202eabc' } });
      expect((await raw('/predictions', JSON.stringify(body))).status).toBe(201);
      const [row] = await app.sql(`SELECT input FROM predictions WHERE id = $1`, [body.id]);
      expect(row.input).toEqual(body.input);
    });

    it('keeps the smallest double, a zero written with an exponent, and a UUID-like text with e-1234', async () => {
      const body = prediction();
      const text = JSON.stringify(body).replace(/}$/, ',"input":{"least":5e-324,"zero":0e-400,"id":"58e-1234-0000"}}');
      expect((await raw('/predictions', text)).status).toBe(201);
      const [row] = await app.sql(`SELECT input FROM predictions WHERE id = $1`, [body.id]);
      expect(row.input).toEqual({ least: 5e-324, zero: 0, id: '58e-1234-0000' });
    });
  });

  describe('batches: all-or-nothing, or with ?partial=true only the items at fault refused', () => {
    const items = () => [
      prediction(),
      prediction({ input: { t: 'bad\u0000' } }),
      prediction(),
      prediction({ timestamp: '0000-01-01T00:00:00Z' }),
      prediction({ input: { t: 'ok\ud83d\ude00' } }),
    ];

    it('a JSON batch with a NUL and a year 0 refuses both items and stores the rest', async () => {
      const batch = items();
      const response = await raw('/predictions/batch?partial=true', JSON.stringify(batch));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        accepted: 3,
        duplicates: 0,
        rejected: [
          { index: 1, code: 'validation/invalid_text', field: 'input.t', message: expect.stringContaining('input.t') },
          { index: 3, code: 'validation/date_out_of_range', field: 'timestamp', message: expect.stringContaining('timestamp') },
        ],
      });
      expect(await stored(batch.map((b) => b.id))).toEqual([batch[0].id, batch[2].id, batch[4].id].sort());
    });

    it('an NDJSON stream does the same, line by line', async () => {
      const batch = items();
      const response = await raw('/predictions/batch?partial=true', batch.map((b) => JSON.stringify(b)).join('\n'), 'application/x-ndjson');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        accepted: 3,
        duplicates: 0,
        rejected: [
          { index: 1, code: 'validation/invalid_text', field: 'input.t' },
          { index: 3, code: 'validation/date_out_of_range', field: 'timestamp' },
        ],
      });
      expect(await stored(batch.map((b) => b.id))).toEqual([batch[0].id, batch[2].id, batch[4].id].sort());
    });

    it('without partial, one lone surrogate refuses the whole batch, JSON or NDJSON, and stores none of it', async () => {
      const batch = [prediction(), prediction({ input: { t: 'a\ud800' } })];
      for (const [text, type] of [
        [JSON.stringify(batch), 'application/json'],
        [batch.map((b) => JSON.stringify(b)).join('\n'), 'application/x-ndjson'],
      ]) {
        const response = await raw('/predictions/batch', text, type);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ code: 'predictions/batch_rejected', field: '1.input.t' });
      }
      expect(await stored(batch.map((b) => b.id))).toEqual([]);
    });

    it('a number below the smallest double refuses only its item, in a JSON batch, a sliced one, or NDJSON', async () => {
      const spoil = (body: ReturnType<typeof prediction>) => JSON.stringify(body).replace(/}$/, ',"input":{"tiny":-1e-999}}');
      for (const [size, index, type] of [
        [3, 1, 'application/json'],
        [600, 457, 'application/json'],
        [3, 2, 'application/x-ndjson'],
      ] as const) {
        const batch = Array.from({ length: size }, () => prediction());
        const texts = batch.map((b, i) => (i === index ? spoil(b) : JSON.stringify(b)));
        const text = type === 'application/json' ? `[${texts.join(',')}]` : texts.join('\n');
        const response = await raw('/predictions/batch?partial=true', text, type);
        expect(response.body).toMatchObject({ accepted: size - 1, rejected: [{ index, code: 'validation/number_underflow', field: 'input.tiny' }] });
        expect(response.body.rejected[0].message).toMatch(/-1e-999 is not 0 but lies below the smallest double/);
        const ids = batch.map((b) => b.id);
        expect(await stored(ids)).toEqual(ids.filter((_, i) => i !== index).sort());
      }
    });

    it('takes U+2028 inside an NDJSON line as text, and refuses bytes that are not UTF-8 (else stored as U+FFFD)', async () => {
      const sep = prediction({ input: { t: 'a\u2028b\u2029c' } });
      const next = prediction();
      const ndjson = await raw('/predictions/batch?partial=true', `${JSON.stringify(sep)}\n${JSON.stringify(next)}\n`, 'application/x-ndjson');
      expect(ndjson.body).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(await app.sql(`SELECT input->>'t' AS t FROM predictions WHERE id = $1`, [sep.id])).toEqual([{ t: 'a\u2028b\u2029c' }]);
      const bad = prediction();
      const bytes = Buffer.from(JSON.stringify(bad).replace('"Lorem', '"\u0001Lorem'));
      bytes[bytes.indexOf(0x01)] = 0xff;
      for (const type of ['application/json', 'application/x-ndjson']) {
        const response = await fetch(`${app.url}/api/v1/projects/${slug}/predictions${type === 'application/json' ? '' : '/batch'}`, {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${key}` },
          body: bytes,
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject(
          type === 'application/json' ? { code: 'validation/invalid_text', field: 'body' } : { code: 'predictions/batch_rejected', field: '0.line' },
        );
      }
      expect(await stored([bad.id])).toEqual([]);
    });

    it('a batch over the sliced-parsing threshold still finds the one bad item', async () => {
      const batch = Array.from({ length: 600 }, () => prediction());
      batch[457] = prediction({ metadata: { note: 'a\udc00' } });
      const response = await raw('/predictions/batch?partial=true', JSON.stringify(batch));
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeGreaterThan(128 * 1024);
      expect(response.body).toMatchObject({ accepted: 599, rejected: [{ index: 457, code: 'validation/invalid_text', field: 'metadata.note' }] });
    });
  });

  describe('feedback', () => {
    it.each([
      ['a lone surrogate in the value', { value: 'x\ud800' }, 'validation/invalid_text', 'value'],
      ['a NUL in the id', { id: 'e\u0000' }, 'validation/invalid_text', 'id'],
      ['an occurredAt in the year 0', { occurredAt: '0000-01-01T00:00:00Z' }, 'validation/date_out_of_range', 'occurredAt'],
      ['an integer value above 2^53', { value: 2 ** 60 }, 'feedback/unsafe_integer', 'value'],
    ])('refuses %s', async (_name, override, code, field) => {
      const event = { id: randomUUID(), predictionId: randomUUID(), type: 'rating', ...override };
      const events = async () => (await app.sql(`SELECT count(*)::int AS n FROM feedback_events WHERE project_id = $1`, [projectId]))[0].n as number;
      const before = await events();
      const single = await raw('/feedback', JSON.stringify(event));
      expect(single.status).toBe(400);
      expect(single.body).toMatchObject({ code, field });
      const ok = { id: randomUUID(), predictionId: randomUUID(), type: 'rating', value: 3 };
      const partial = await raw('/feedback?partial=true', JSON.stringify([ok, event]));
      expect(partial.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, code, field }] });
      // (a NUL cannot even be a query parameter: the one stored event is the valid one)
      expect(await events()).toBe(before + 1);
      expect(await app.sql(`SELECT id FROM feedback_events WHERE project_id = $1 AND id = $2`, [projectId, ok.id])).toEqual([{ id: ok.id }]);
    });

    it('refuses a feedback value below the smallest double, alone or in a batch', async () => {
      const text = (id: string) => `{"id":"${id}","predictionId":"${randomUUID()}","type":"rating","value":1e-400}`;
      const id = randomUUID();
      const single = await raw('/feedback', text(id));
      expect(single.status).toBe(400);
      expect(single.body).toMatchObject({ code: 'validation/number_underflow', field: 'value' });
      const partial = await raw('/feedback?partial=true', `[${text(id)}]`);
      expect(partial.body).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'validation/number_underflow', field: 'value' }] });
      expect(await app.sql(`SELECT id FROM feedback_events WHERE project_id = $1 AND id = $2`, [projectId, id])).toEqual([]);
    });
  });

  describe('every other JSON body', () => {
    it.each([
      [
        'a project whose label description holds a lone surrogate',
        'POST',
        '/api/v1/projects',
        () =>
          JSON.stringify({
            slug: `h-${randomUUID().slice(0, 6)}`,
            name: 'x',
            taskType: 'single_label',
            labels: [{ name: 'a', description: 'x\ud800' }, { name: 'b' }],
          }),
        'validation/invalid_text',
        'labels.0.description',
      ],
      [
        'an API key name with surrogates in the wrong order',
        'POST',
        '/api/v1/projects/:slug/api-keys',
        () => JSON.stringify({ name: '\udc00\ud800', scopes: ['ingest'] }),
        'validation/invalid_text',
        'name',
      ],
      [
        'a gold item with a lone surrogate',
        'POST',
        '/api/v1/projects/:slug/gold',
        () => JSON.stringify({ items: [{ input: { text: 'a\ud800' }, label: 'ham' }] }),
        'validation/invalid_text',
        'items.0.input.text',
      ],
      [
        'a gold item with a feature below the smallest double',
        'POST',
        '/api/v1/projects/:slug/gold',
        () => '{"items":[{"input":{"x":1e-400},"label":"ham"}]}',
        'validation/number_underflow',
        'items.0.input.x',
      ],
      [
        'a gold item with an integer a double cannot hold',
        'POST',
        '/api/v1/projects/:slug/gold',
        () => '{"items":[{"input":{"x":9007199254740993},"label":"ham"}]}',
        'validation/unsafe_integer',
        'items.0.input.x',
      ],
      [
        'a numeric question whose bound a double cannot hold',
        'POST',
        '/api/v1/projects',
        () =>
          `{"slug":"h-${randomUUID().slice(0, 6)}","name":"x","questions":[{"name":"price","kind":"numeric","min":0,"max":90071992547409931}],"routingQuestion":"price"}`,
        'validation/unsafe_integer',
        'questions.0.max',
      ],
      [
        'a routing backfill since the year 0',
        'POST',
        '/api/v1/projects/:slug/routing/backfill',
        () => JSON.stringify({ since: '0000-01-01T00:00:00Z' }),
        'validation/date_out_of_range',
        'since',
      ],
      [
        'a project settings body nested 5,000 deep',
        'PATCH',
        '/api/v1/projects/:slug',
        () => `{"monitoring":${nested(5_000)}}`,
        'validation/too_deep',
        'monitoring.a',
      ],
    ])('refuses %s', async (_name, method, path, body, code, field) => {
      const response = await app.request(method, path.replace(':slug', slug), { raw: body(), token: admin });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, field: expect.stringContaining(field), requestId: expect.any(String) });
    });

    it('keeps a large integer a double holds exactly (1e20 written out)', async () => {
      const slugOf = `h-${randomUUID().slice(0, 6)}`;
      const text = `{"slug":"${slugOf}","name":"x","questions":[{"name":"price","kind":"numeric","min":0,"max":100000000000000000000}],"routingQuestion":"price"}`;
      const created = await app.request('POST', '/api/v1/projects', { raw: text, token: admin });
      expect(created.status).toBe(201);
      expect(created.body.questions[0].max).toBe(1e20);
    });

    it('refuses a KServe event holding a lone surrogate, nested 5,000 deep, or with a number below the smallest double', async () => {
      const headers = {
        'content-type': 'application/json',
        'ce-id': randomUUID(),
        'ce-type': 'org.kubeflow.serving.inference.request',
        'ce-specversion': '1.0',
        'ce-source': 'test',
      };
      for (const [text, code] of [
        ['{"instances":[["a\\ud800"]]}', 'validation/invalid_text'],
        [`{"instances":[${'['.repeat(5_000)}${']'.repeat(5_000)}]}`, 'validation/too_deep'],
        ['{"instances":[[1e-400]]}', 'validation/number_underflow'],
      ]) {
        const response = await app.request('POST', `/api/v1/projects/${slug}/integrations/kserve`, { raw: text, token: key, headers });
        expect(response.status).toBe(400);
        expect(response.body.code).toBe(code);
      }
    });

    it('answers a path parameter past the router’s length, and a NUL in a query, in the API’s envelope, naming the field', async () => {
      const long = await app.request('GET', `/api/v1/projects/${slug}/explorer/predictions/${'a'.repeat(5_000)}`, { token: admin });
      expect(long.status).toBe(414);
      expect(long.body).toMatchObject({ code: 'http/uri_too_long', field: 'path', requestId: expect.any(String) });
      const nul = await app.request('GET', `/api/v1/projects/${slug}/explorer/predictions?modelVersion=%00`, { token: admin });
      expect(nul.status).toBe(400);
      expect(nul.body).toMatchObject({ code: 'validation/invalid_text', field: 'query.modelVersion' });
    });

    it('answers an NDJSON body sent to a JSON route with a 4xx (the stream is no JSON to walk)', async () => {
      const response = await app.request('POST', '/api/v1/projects', {
        raw: '{"a":1}\n{"a":\n',
        token: admin,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect((await app.request('GET', '/healthz')).status).toBe(200);
    });
  });
});

describe('GET /quality takes any date range', () => {
  let app: TestApp;
  let admin: string;
  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('shows answers imported with dates two years ago, by from/to or by days', async () => {
    const project = await createProject(app, admin, { overlap: 2 });
    const twoYearsAgo = new Date(Date.now() - 730 * 24 * 3600 * 1000);
    const answer = (id: number, email: string, label: string) => ({
      id,
      completed_by: { id, email },
      created_at: twoYearsAgo.toISOString(),
      result: [{ from_name: 'label', to_name: 'text', type: 'choices', value: { choices: [label] } }],
    });
    const tasks = ['one', 'two', 'three'].map((text, i) => ({
      id: i + 1,
      data: { text },
      annotations: [answer(10 * i + 1, 'a@example.com', 'ham'), answer(10 * i + 2, 'b@example.com', i === 2 ? 'spam' : 'ham')],
      predictions: [],
    }));
    const imported = await app.request('POST', `/api/v1/projects/${project.slug}/import/label-studio`, { token: admin, body: tasks });
    expect(imported.status).toBe(201);
    expect(imported.body.annotations).toBe(6);

    const quality = (query: string) => app.request('GET', `/api/v1/projects/${project.slug}/quality${query}`, { token: admin });
    expect((await quality('')).body.agreement.answers).toBe(0);
    const day = twoYearsAgo.toISOString().slice(0, 10);
    const byRange = await quality(`?from=${day}&to=${day}`);
    expect(byRange.status).toBe(200);
    expect(byRange.body).toMatchObject({ from: `${day}T00:00:00.000Z`, agreement: { tasks: 3, answers: 6 }, days: [{ day, tasks: 3 }] });
    expect((await quality('?days=1000')).body.agreement.answers).toBe(6);
    expect((await quality(`?from=${day}`)).body.agreement.answers).toBe(6);
    expect((await quality('?days=100000')).status).toBe(200);
  });

  it('refuses a range that cannot be, naming the field', async () => {
    const project = await createProject(app, admin);
    const quality = (query: string) => app.request('GET', `/api/v1/projects/${project.slug}/quality${query}`, { token: admin });
    expect((await quality('?from=0000-01-01')).body).toMatchObject({ code: 'validation/invalid', field: 'query.from' });
    expect((await quality('?from=2024-02-01&to=2024-01-01')).body).toMatchObject({ code: 'validation/invalid', field: 'query.to' });
    expect((await quality('?days=30&from=2024-01-01')).body).toMatchObject({ code: 'validation/invalid', field: 'query.days' });
    expect((await quality('?days=0')).status).toBe(400);
  });
});

import { startTestApp, TestApp } from '../helpers/test-app';

describe('HTTP surface: health, metrics, docs, the client and the error envelope', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BODY_MB: '1' });
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('answers liveness and readiness with the database and migrations checked', async () => {
    expect((await app.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await app.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('reports not ready while a migration is missing', async () => {
    await app.sql(`DELETE FROM migrations WHERE id = (SELECT max(id) FROM migrations) RETURNING name`).then(async ([row]) => {
      try {
        const ready = await app.request('GET', '/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body.code).toBe('database/migrations_pending');
      } finally {
        await app.sql(`INSERT INTO migrations (timestamp, name) VALUES ($1, $2)`, [Number(row.name.match(/\d+/)[0]), row.name]);
      }
    });
  });

  it('exposes Prometheus metrics including HTTP latency by route', async () => {
    await app.request('GET', '/api/v1/projects', { token: admin });
    const metrics = await app.request('GET', '/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain('process_cpu_seconds_total');
    expect(metrics.body).toMatch(/backflow_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/projects"/);
  });

  it('serves an OpenAPI document generated from the validation schemas', async () => {
    const docs = await app.request('GET', '/api/docs/openapi.json');
    expect(docs.status).toBe(200);
    const body = docs.body.paths['/api/v1/projects'].post.requestBody.content['application/json'].schema;
    expect(body.$ref).toBe('#/components/schemas/CreateProjectRequest');
    const schema = docs.body.components.schemas.CreateProjectRequest;
    expect(schema.required).toEqual(expect.arrayContaining(['slug', 'name']));
    // a project asks questions, or (the old form) taskType and labels: one label question
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['questions', 'routingQuestion', 'taskType', 'labels']));
    expect(schema.properties.overlap).toMatchObject({ type: 'integer', minimum: 1, maximum: 25 });
    expect(JSON.stringify(docs.body)).not.toContain('#/definitions/');
    const html = await app.request('GET', '/api/docs');
    expect(html.status).toBe(200);
    expect(String(html.body)).toContain('swagger');
  });

  it('serves the web client at / and for client-side routes', async () => {
    const index = await app.request('GET', '/');
    expect(index.status).toBe(200);
    expect(String(index.body)).toContain('<div id="root">');
    const deepLink = await app.request('GET', '/projects/anything', { headers: { accept: 'text/html' } });
    expect(deepLink.status).toBe(200);
    expect(String(deepLink.body)).toContain('<div id="root">');
  });

  it('answers every error with { code, message, requestId } and echoes the request id', async () => {
    const notFound = await app.request('GET', '/api/v1/nothing-here', { token: admin });
    expect(notFound.status).toBe(404);
    expect(notFound.body).toEqual({ code: 'http/not_found', message: expect.any(String), requestId: notFound.headers.get('x-request-id') });

    const badJson = await app.request('POST', '/api/v1/projects', { raw: '{"slug": ', token: admin });
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe('http/invalid_json');

    const traced = await app.request('GET', '/api/v1/me', { headers: { 'x-request-id': 'trace-me-123' } });
    expect(traced.headers.get('x-request-id')).toBe('trace-me-123');
    expect(traced.body.requestId).toBe('trace-me-123');

    const form = await app.request('POST', '/api/v1/users', {
      raw: 'email=x%40example.com&password=Long-enough-1&role=admin',
      token: admin,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.body.code).toBe('http/unsupported_media_type');
    expect(await app.sql(`SELECT 1 FROM users WHERE email = 'x@example.com'`)).toHaveLength(0);

    const nul = await app.request('POST', '/api/v1/projects', {
      body: { slug: 'nul-name', name: 'a\u0000b', taskType: 'single_label', labels: [{ name: 'a' }, { name: 'b' }] },
      token: admin,
    });
    expect(nul.status).toBe(400);
    expect(nul.body.code).toMatch(/^validation\//);
    expect(await app.sql(`SELECT 1 FROM projects WHERE slug = 'nul-name'`)).toHaveLength(0);
    const oddSlug = await app.request('GET', '/api/v1/projects/a%00b', { token: admin });
    expect([400, 404]).toContain(oddSlug.status);
    expect(oddSlug.body.code).toEqual(expect.any(String));

    const tooBig = await app.request('POST', '/api/v1/projects', { raw: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }), token: admin });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('http/payload_too_large');
  });
});

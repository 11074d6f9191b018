import { createHash } from 'node:crypto';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject } from '../factories';

describe('API keys: shown once, stored hashed, scoped to one project, revocable', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('returns the secret once and stores only its digest', async () => {
    const project = await createProject(app, admin);
    const key = await createApiKey(app, admin, project.slug, ['ingest', 'export:read']);
    expect(key.secret).toMatch(/^bfk_[0-9a-f]{12}_/);
    const [row] = await app.sql(`SELECT secret_hash, scopes FROM api_keys WHERE id = $1`, [key.id]);
    expect(row.secret_hash.toString('hex')).toBe(createHash('sha256').update(key.secret).digest('hex'));
    expect(row.scopes).toEqual(['ingest', 'export:read']);
    const listed = await app.request('GET', `/api/v1/projects/${project.slug}/api-keys`, { token: admin });
    expect(listed.body.apiKeys).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(key.secret);
  });

  it('lets a key act only within its scopes, on its own project', async () => {
    const own = await createProject(app, admin);
    const foreign = await createProject(app, admin);
    const reader = await createApiKey(app, admin, own.slug, ['export:read']);
    const ingester = await createApiKey(app, admin, own.slug, ['ingest']);

    const read = await app.request('GET', `/api/v1/projects/${own.slug}`, { token: reader.secret });
    expect(read.status).toBe(200);
    expect(read.body.myRole).toBe('api_key');
    const byHeader = await app.request('GET', `/api/v1/projects/${own.slug}`, { headers: { 'x-api-key': reader.secret } });
    expect(byHeader.status).toBe(200);

    const ingestReads = await app.request('GET', `/api/v1/projects/${own.slug}`, { token: ingester.secret });
    expect(ingestReads.status).toBe(403);
    expect(ingestReads.body.code).toBe('auth/scope_missing');

    const foreignRead = await app.request('GET', `/api/v1/projects/${foreign.slug}`, { token: reader.secret });
    expect(foreignRead.status).toBe(403);

    for (const [method, route] of [
      ['GET', '/api/v1/projects'],
      ['GET', '/api/v1/me'],
      ['PATCH', `/api/v1/projects/${own.slug}`],
      ['POST', `/api/v1/projects/${own.slug}/api-keys`],
    ] as const) {
      const response = await app.request(method, route, { token: reader.secret, body: method === 'GET' ? undefined : { name: 'x' } });
      expect(response.status).toBe(403);
    }
  });

  it('records when a key was last used', async () => {
    const project = await createProject(app, admin);
    const key = await createApiKey(app, admin, project.slug, ['export:read']);
    const [before] = await app.sql(`SELECT last_used_at FROM api_keys WHERE id = $1`, [key.id]);
    expect(before.last_used_at).toBeNull();
    await app.request('GET', `/api/v1/projects/${project.slug}`, { token: key.secret });
    const [after] = await app.sql(`SELECT last_used_at FROM api_keys WHERE id = $1`, [key.id]);
    expect(after.last_used_at).toBeInstanceOf(Date);
  });

  it('stops working once revoked', async () => {
    const project = await createProject(app, admin);
    const key = await createApiKey(app, admin, project.slug, ['export:read']);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}`, { token: key.secret })).status).toBe(200);
    const revoked = await app.request('DELETE', `/api/v1/projects/${project.slug}/api-keys/${key.id}`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const after = await app.request('GET', `/api/v1/projects/${project.slug}`, { token: key.secret });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('auth/invalid_api_key');
    const audit = await app.sql(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id`, [key.id]);
    expect(audit.map((r) => r.action)).toEqual(['api_key.created', 'api_key.revoked']);
  });

  it('refuses unknown scopes and keys of another project', async () => {
    const project = await createProject(app, admin);
    const other = await createProject(app, admin);
    const bad = await app.request('POST', `/api/v1/projects/${project.slug}/api-keys`, { body: { name: 'k', scopes: ['admin'] }, token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('scopes.0');
    const key = await createApiKey(app, admin, project.slug, ['ingest']);
    const crossRevoke = await app.request('DELETE', `/api/v1/projects/${other.slug}/api-keys/${key.id}`, { token: admin });
    expect(crossRevoke.status).toBe(404);
    expect(crossRevoke.body.code).toBe('api_keys/not_found');
  });
});

import { startTestApp, TestApp } from '../helpers/test-app';
import { createProject, createUser, projectBody } from '../factories';

describe('projects: settings validated by the shared contracts', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('creates a project with defaults for routing, feedback rules and export', async () => {
    const body = projectBody({ instructions: '# Spam or ham?', overlap: 3, maskedFields: ['email'] });
    const response = await app.request('POST', '/api/v1/projects', { body, token: admin });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      slug: body.slug,
      overlap: 3,
      maskedFields: ['email'],
      routing: { strategy: 'least_confidence', explorationRate: 0.01, budget: {} },
      feedbackRules: { rules: [] },
      export: { formats: ['tfrecord'], splits: { train: 80, eval: 20 } },
    });
    const fetched = await app.request('GET', `/api/v1/projects/${body.slug}`, { token: admin });
    expect(fetched.body).toEqual(response.body);
  });

  it.each([
    [{ labels: 'not-a-list' }, 'labels'],
    [{ overlap: 'three' }, 'overlap'],
    [{ overlap: 0 }, 'overlap'],
    [{ slug: 'Not A Slug' }, 'slug'],
    [{ taskType: 'regression' }, 'taskType'],
    [{ labels: [{ name: 'only-one' }] }, 'labels'],
    [
      {
        labels: [
          { name: 'a', hotkey: '1' },
          { name: 'b', hotkey: '1' },
        ],
      },
      'labels.1.hotkey',
    ],
    [{ labels: [{ name: 'a' }, { name: 'a' }] }, 'labels.1.name'],
    [{ routing: { explorationRate: 'lots' } }, 'routing.explorationRate'],
    [{ routing: { threshold: 0.2, targetRate: 0.1 } }, 'routing.targetRate'],
    [{ export: { splits: { train: 70, eval: 20 } } }, 'export.splits.eval'],
    [{ export: { formats: ['xml'] } }, 'export.formats.0'],
    [{ feedbackRules: { rules: [{ eventType: 'click', label: 'nope', windowMinutes: 5 }] } }, 'feedbackRules.rules.0.label'],
    [{ surprise: true }, 'surprise'],
  ])('rejects %j with a 400 naming %s, storing nothing', async (override, field) => {
    const body = projectBody(override);
    const response = await app.request('POST', '/api/v1/projects', { body, token: admin });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'validation/invalid', field, requestId: expect.any(String) });
    expect(response.body.message).toContain(field);
    const rows = await app.sql(`SELECT 1 FROM projects WHERE slug = $1`, [String(body.slug)]);
    expect(rows).toHaveLength(0);
  });

  it('refuses a duplicate slug with 409', async () => {
    const project = await createProject(app, admin);
    const again = await app.request('POST', '/api/v1/projects', { body: projectBody({ slug: project.slug }), token: admin });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'projects/slug_taken', field: 'slug' });
  });

  it('patches settings, validating the patch and keeping label references consistent', async () => {
    const project = await createProject(app, admin);
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      body: {
        overlap: 2,
        routing: { strategy: 'entropy', targetRate: 0.02, budget: { perHour: 100 } },
        feedbackRules: { rules: [{ eventType: 'purchase', label: 'ham', windowMinutes: 60 }] },
      },
      token: admin,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ overlap: 2, routing: { strategy: 'entropy', targetRate: 0.02, budget: { perHour: 100 } } });

    const dropsReferencedLabel = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      body: { labels: [{ name: 'x' }, { name: 'y' }] },
      token: admin,
    });
    expect(dropsReferencedLabel.status).toBe(400);
    expect(dropsReferencedLabel.body.field).toBe('feedbackRules.rules.0.label');

    const wrongType = await app.request('PATCH', `/api/v1/projects/${project.slug}`, { body: { overlap: '2' }, token: admin });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.field).toBe('overlap');
    const [row] = await app.sql(`SELECT overlap, labels FROM projects WHERE id = $1`, [project.id]);
    expect(row.overlap).toBe(2);
    expect(row.labels.map((l: { name: string }) => l.name)).toEqual(['ham', 'spam']);

    const missing = await app.request('PATCH', '/api/v1/projects/no-such-project', { body: { overlap: 2 }, token: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('projects/not_found');
  });

  it('manages memberships: raters rate, reviewers review, admins need none', async () => {
    const project = await createProject(app, admin);
    const reviewer = await createUser(app, admin, 'reviewer', project);
    const rater = await createUser(app, admin, 'rater');
    const otherAdmin = await createUser(app, admin, 'admin');

    const raterAsReviewer = await app.request('POST', `/api/v1/projects/${project.slug}/members`, {
      body: { email: rater.email, role: 'reviewer' },
      token: admin,
    });
    expect(raterAsReviewer.status).toBe(400);
    expect(raterAsReviewer.body.code).toBe('memberships/role_mismatch');
    const adminMember = await app.request('POST', `/api/v1/projects/${project.slug}/members`, {
      body: { email: otherAdmin.email, role: 'rater' },
      token: admin,
    });
    expect(adminMember.body.code).toBe('memberships/admin_not_member');
    const unknown = await app.request('POST', `/api/v1/projects/${project.slug}/members`, {
      body: { email: 'ghost@example.com', role: 'rater' },
      token: admin,
    });
    expect(unknown.status).toBe(404);

    const members = await app.request('GET', `/api/v1/projects/${project.slug}/members`, { token: admin });
    expect(members.body.members).toEqual([expect.objectContaining({ email: reviewer.email, role: 'reviewer' })]);
    const me = await app.request('GET', '/api/v1/me', { token: reviewer.token });
    expect(me.body.memberships).toEqual([{ projectSlug: project.slug, role: 'reviewer' }]);

    const removed = await app.request('DELETE', `/api/v1/projects/${project.slug}/members/${reviewer.id}`, { token: admin });
    expect(removed.status).toBe(204);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}`, { token: reviewer.token })).status).toBe(403);
  });

  it('deletes a project only when the slug is confirmed, with its memberships and keys', async () => {
    const project = await createProject(app, admin);
    await createUser(app, admin, 'rater', project);
    const unconfirmed = await app.request('DELETE', `/api/v1/projects/${project.slug}?confirm=other`, { token: admin });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body).toMatchObject({ code: 'projects/confirmation_mismatch', field: 'query.confirm' });
    expect((await app.request('DELETE', `/api/v1/projects/${project.slug}`, { token: admin })).body.field).toBe('query.confirm');
    expect((await app.request('DELETE', `/api/v1/projects/${project.slug}?confirm=${project.slug}`, { token: admin })).status).toBe(204);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}`, { token: admin })).status).toBe(404);
    expect(await app.sql(`SELECT 1 FROM memberships WHERE project_id = $1`, [project.id])).toHaveLength(0);
    const audit = await app.sql(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id`, [project.id]);
    expect(audit.map((r) => r.action)).toEqual(['project.created', 'project.deleted']);
  });
});

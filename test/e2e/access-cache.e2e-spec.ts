import { ProjectAccess } from '../../server/src/projects/project-access';
import type { UserPrincipal } from '../../server/src/auth/principal';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createProject, createUser } from '../factories';

/**
 * The membership cache sockets are admitted through, on two nodes of one database: node B
 * serves a membership from memory (a change that bypassed the application goes unseen there),
 * while HTTP on B reads afresh; a membership change made through node A evicts B's entry.
 */
describe('the project access cache across nodes', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({}, { databaseUrl: a.databaseUrl });
    admin = await a.login();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("is evicted on node B by a membership change made through node A, and never answers B's HTTP requests", async () => {
    const project = await createProject(a, admin);
    const reviewer = await createUser(a, admin, 'reviewer', project);
    const principal: UserPrincipal = { kind: 'user', userId: reviewer.id, email: reviewer.email, role: 'reviewer', sessionId: 'unused' };
    const access = b.app.get(ProjectAccess);
    expect(await access.roleOf(principal, project.id, 'cached')).toBe('reviewer');

    // behind the application's back: no revocation is published
    await a.sql(`UPDATE memberships SET role = 'rater' WHERE user_id = $1 AND project_id = $2`, [reviewer.id, project.id]);
    expect(await access.roleOf(principal, project.id, 'cached')).toBe('reviewer');
    const reviewClaim = await b.request('POST', `/api/v1/projects/${project.slug}/review/claim`, { body: {}, token: reviewer.token });
    expect(reviewClaim.status).toBe(403);
    expect(reviewClaim.body.code).toBe('auth/forbidden');

    expect((await a.request('DELETE', `/api/v1/projects/${project.slug}/members/${reviewer.id}`, { token: admin })).status).toBe(204);
    const deadline = Date.now() + 3_000;
    while ((await access.roleOf(principal, project.id, 'cached')) !== undefined) {
      if (Date.now() > deadline) throw new Error('node B still serves the removed membership from its cache');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
});

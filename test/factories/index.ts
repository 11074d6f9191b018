import { randomBytes, randomUUID } from 'node:crypto';
import type { TestApp } from '../helpers/test-app';

const unique = () => randomBytes(4).toString('hex');

export function projectBody(overrides: Record<string, unknown> = {}) {
  return {
    slug: `p-${unique()}`,
    name: `Project ${unique()}`,
    taskType: 'single_label',
    labels: [
      { name: 'ham', hotkey: '1' },
      { name: 'spam', hotkey: '2' },
    ],
    ...overrides,
  };
}

export async function createProject(app: TestApp, adminToken: string, overrides: Record<string, unknown> = {}) {
  const response = await app.request('POST', '/api/v1/projects', { body: projectBody(overrides), token: adminToken });
  if (response.status !== 201) throw new Error(`create project -> ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { id: string; slug: string };
}

/** A user with a role, optionally a member of a project; returns their token. */
export async function createUser(app: TestApp, adminToken: string, role: 'admin' | 'reviewer' | 'rater', project?: { slug: string }) {
  const email = `${role}-${unique()}@example.com`;
  const password = `Pass-${unique()}-word`;
  const created = await app.request('POST', '/api/v1/users', { body: { email, password, role }, token: adminToken });
  if (created.status !== 201) throw new Error(`create user -> ${created.status} ${JSON.stringify(created.body)}`);
  if (project && role !== 'admin') {
    const added = await app.request('POST', `/api/v1/projects/${project.slug}/members`, { body: { email, role }, token: adminToken });
    if (added.status !== 201) throw new Error(`add member -> ${added.status} ${JSON.stringify(added.body)}`);
  }
  return { email, password, id: created.body.id as string, token: await app.login(email, password) };
}

export async function createApiKey(app: TestApp, adminToken: string, slug: string, scopes: string[]) {
  const response = await app.request('POST', `/api/v1/projects/${slug}/api-keys`, { body: { name: `key-${unique()}`, scopes }, token: adminToken });
  if (response.status !== 201) throw new Error(`create key -> ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { id: string; secret: string };
}

let sequence = 0;
/** A prediction shaped like real traffic: ten features, class scores, slice keys. */
export function predictionBody(overrides: Record<string, unknown> = {}, labels = ['ham', 'spam']) {
  sequence++;
  const top = 0.5 + ((sequence * 7919) % 500) / 1000;
  const scores = Object.fromEntries(labels.map((label, i) => [label, i === 0 ? top : (1 - top) / (labels.length - 1)]));
  return {
    id: randomUUID(),
    model: { name: 'spam-filter', version: '1.4.0' },
    input: {
      subject: `Offer number ${sequence}`,
      body: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit.',
      sender_domain: 'example.com',
      length: 120 + (sequence % 50),
      links: sequence % 4,
      has_attachment: sequence % 3 === 0,
      hour: sequence % 24,
      language: 'en',
      reputation: 0.5,
      tokens: ['offer', 'free', 'now'],
    },
    scores,
    slice: { country: ['FR', 'DE', 'US'][sequence % 3], device: sequence % 2 ? 'mobile' : 'desktop' },
    ...overrides,
  };
}

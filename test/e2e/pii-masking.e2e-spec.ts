import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

// (input features are scalars or lists of them: the turns as a list of strings)
const CONVERSATION = ['My card 4111 1111 1111 1111 was charged twice; mail me at ada@example.com', 'Sorry! I will call you on +41 44 668 18 00.'];

describe('personal data hidden from raters by pattern', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('masks e-mail addresses, phone numbers and card numbers in a task’s input and shown suggestions, for raters over HTTP and sockets, not for admins unless asked', async () => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'reply', kind: 'text', maxLength: 2_000, prefill: true }],
      overlap: 1,
      routing: { strategy: 'least_confidence', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { pii: { patterns: ['email', 'phone', 'card'] } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const send = () =>
      app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
        token: key,
        body: {
          id: randomUUID(),
          model: { name: 'assistant', version: '1' },
          input: { messages: CONVERSATION, customer: 'ada@example.com' },
          suggestions: { reply: { value: 'Write to support@example.com with card 4111-1111-1111-1111', confidence: 0.2 } },
        },
      });
    for (let i = 0; i < 4; i++) {
      const sent = await send();
      expect([sent.status, sent.body.message]).toEqual([201, undefined]);
    }

    // a rater: every string of the input and of the pre-filled reply masked; the stored prediction untouched
    const rater = await createUser(app, admin, 'rater', project);
    const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
    expect(claimed.status).toBe(200);
    expect(claimed.body.task.input).toEqual({
      messages: ['My card [card] was charged twice; mail me at [email]', 'Sorry! I will call you on [phone].'],
      customer: '[email]',
    });
    expect(claimed.body.task.suggestions.reply.value).toBe('Write to [email] with card [card]');
    expect(JSON.stringify(claimed.body)).not.toMatch(/ada@example|4111|668 18/);
    const [stored] = await app.sql(`SELECT input FROM predictions WHERE project_id = $1 LIMIT 1`, [project.id]);
    expect(stored.input.customer).toBe('ada@example.com');

    // over a socket too
    const socket = io(`${app.url}/labeling`, { auth: { token: rater.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const reply = await socket.timeout(10_000).emitWithAck('task:claim', { project: project.slug });
      expect(reply.task.input.customer).toBe('[email]');
      expect(reply.task.input.messages[0]).toContain('[card]');
    } finally {
      socket.close();
    }

    // an admin sees the text as sent, unless the project hides it from admins too
    const asAdmin = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: admin, body: {} });
    expect(asAdmin.body.task.input.customer).toBe('ada@example.com');
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { labeling: { pii: { patterns: ['email'], forAdmins: true } } },
    });
    expect(patched.status).toBe(200);
    const hidden = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: admin, body: {} });
    expect(hidden.body.task.input.customer).toBe('[email]');
    // only the patterns chosen
    expect(hidden.body.task.input.messages[0]).toBe('My card 4111 1111 1111 1111 was charged twice; mail me at [email]');

    // an unknown pattern is refused naming the field
    const refused = await app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { labeling: { pii: { patterns: ['passport'] } } } });
    expect([refused.status, refused.body.field]).toEqual([400, 'labeling.pii.patterns.0']);
  });
});

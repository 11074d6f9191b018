import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey, createProject, createUser } from '../factories';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';

// every prediction is routed, none is gold: each rater gets exactly the tasks ingested
const ROUTE_ALL = { routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 }, labeling: { goldRate: 0, showPrediction: true } };

/** A code point offset: where `part` starts in `text`, counted as span offsets count. */
const at = (text: string, part: string) => Array.from(text.slice(0, text.indexOf(part))).length;

describe('browser: a rater answers each question kind with the keyboard alone', () => {
  let app: TestApp;
  let browser: Browser;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    browser = await launchChromium();
    admin = await app.login();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A project asking `questions` (the old taskType and labels left out), one prediction ingested into it. */
  async function projectWith(questions: unknown[], prediction: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, { taskType: undefined, labels: undefined, questions, ...ROUTE_ALL, ...overrides });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const predictionId = randomUUID();
    const response = await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
      token: key,
      body: { id: predictionId, model: { name: 'm', version: '1' }, ...prediction },
    });
    if (response.status !== 201) throw new Error(`ingest -> ${response.status} ${JSON.stringify(response.body)}`);
    return { ...project, predictionId };
  }

  /** A signed-in user on a page, keeping every socket frame it receives (the acknowledgements of its answers among them). */
  async function signedIn(user: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page; frames: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const frames: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => frames.push(String(payload))));
    await page.goto(app.url);
    await page.fill('input[name="email"]', user.email);
    await page.fill('input[name="password"]', user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    return { context, page, frames, errors };
  }

  /** A new rater of the project on its labeling page, the task on screen. */
  async function raterOn(project: { slug: string }) {
    const rater = await createUser(app, admin, 'rater', project);
    const session = await signedIn(rater);
    await session.page.goto(`${app.url}/projects/${project.slug}/label`);
    const taskId = await session.page.locator('article.task-card').getAttribute('data-task-id');
    expect(taskId).toBeTruthy();
    return { ...session, rater, taskId: taskId! };
  }

  /** The server's acknowledgement of the answer to a task, as the socket delivered it. */
  async function acknowledgement(frames: string[], taskId: string): Promise<any> {
    for (let i = 0; i < 150; i++) {
      const frame = frames.find((f) => f.includes('"annotation"') && f.includes(taskId));
      if (frame) return JSON.parse(frame.slice(frame.indexOf('[')))[0];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no acknowledgement of an answer to ${taskId} in ${frames.length} frames`);
  }

  /** What the rater's answers to the task are, as the reply and the database hold them. */
  async function storedAnswers(session: { frames: string[]; taskId: string; rater: { id: string } }) {
    const reply = await acknowledgement(session.frames, session.taskId);
    expect(reply.error).toBeUndefined();
    const rows = await app.sql(`SELECT answers FROM annotations WHERE rater_id = $1 AND task_id = $2`, [session.rater.id, session.taskId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].answers).toEqual(reply.annotation.answers);
    return reply.annotation.answers as Record<string, unknown>;
  }

  it('multi-label: label keys toggle labels, Enter submits the set', async () => {
    const project = await projectWith(
      [
        {
          name: 'topics',
          kind: 'multi_label',
          labels: [{ name: 'billing' }, { name: 'bug' }, { name: 'praise', hotkey: 'p' }],
        },
      ],
      { input: { text: 'Your app crashed twice, but the refund came quickly. Thanks!' }, scores: { billing: 0.8, bug: 0.35, praise: 0.6 } },
    );
    const session = await raterOn(project);
    const { page } = session;
    try {
      // (the widget on screen before the first key: under load the card can come before its buttons)
      await page.locator('button[data-label="billing"]').waitFor();
      await page.keyboard.press('1');
      await page.keyboard.press('p');
      await page.keyboard.press('2');
      await page.keyboard.press('2');
      await page.locator('button[data-label="billing"][aria-pressed="true"]').waitFor();
      await page.locator('button[data-label="praise"][aria-pressed="true"]').waitFor();
      await page.locator('button[data-label="bug"][aria-pressed="false"]').waitFor();
      await page.screenshot({ path: screenshotPath('question-multi_label.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('Enter');
      expect(await storedAnswers(session)).toEqual({ topics: ['billing', 'praise'] });
      await page.getByTestId('caught-up').waitFor();
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('rating: a point key or the arrows choose a point of the scale', async () => {
    const points = ['very poor', 'poor', 'fair', 'good', 'excellent'].map((name, i) => ({ value: i + 1, name }));
    const project = await projectWith([{ name: 'quality', kind: 'rating', points, description: 'How well does the answer help the customer?' }], {
      input: { question: 'How do I reset my password?', answer: 'Click “Forgot password” on the sign-in page and follow the email.' },
      suggestions: { quality: { value: 3.6, std: 0.7 } },
    });
    const session = await raterOn(project);
    const { page } = session;
    try {
      await page.getByText('The model says').waitFor();
      await page.keyboard.press('2');
      await page.locator('button[data-value="2"][aria-checked="true"]').waitFor();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await page.locator('button[data-value="4"][aria-checked="true"]').waitFor();
      await page.screenshot({ path: screenshotPath('question-rating.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('Enter');
      expect(await storedAnswers(session)).toEqual({ quality: 4 });
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('ranking: the arrows move between results, a digit grades one and goes to the next, Enter sends every grade', async () => {
    const runs = [
      { item: 'riverside-5k', score: 2.1, features: { km: 5, surface: 'road', climb_m: 20 } },
      { item: 'hill-repeats', score: 2.05, features: { km: 8, surface: 'trail', climb_m: 310 } },
      { item: 'park-loop', score: 1.4, features: { km: 3.2, surface: 'gravel', climb_m: 5 } },
      { item: 'long-sunday', score: 0.3, features: { km: 21.1, surface: 'road', climb_m: 140 } },
    ];
    const grades = ['bad', 'fair', 'good', 'perfect'].map((name, value) => ({ value, name }));
    const project = await projectWith(
      [{ name: 'suggested_runs', kind: 'ranking', grades, description: 'How well does each run suit this runner this morning?' }],
      {
        input: { runner: 'u-1842', goal: 'first 10k', weekly_km: 18, time_of_day: 'morning' },
        suggestions: { suggested_runs: { candidates: runs.map((r, i) => ({ ...r, position: i + 1 })) } },
      },
    );
    const session = await raterOn(project);
    const { page } = session;
    try {
      await page.locator('li[data-item="riverside-5k"][aria-current="true"]').waitFor();
      await page.keyboard.press('3'); // riverside-5k: perfect, then on to hill-repeats
      await page.keyboard.press('1'); // hill-repeats: fair
      await page.keyboard.press('ArrowDown'); // skip park-loop for now
      await page.keyboard.press('0'); // long-sunday: bad, then back to the one left, park-loop
      await page.locator('li[data-item="park-loop"][aria-current="true"]').waitFor();
      // Enter with a result left ungraded says so and sends nothing
      await page.keyboard.press('Enter');
      await page.getByTestId('unanswered').getByText('1 of 4 results not graded').waitFor();
      await page.keyboard.press('2');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowRight'); // hill-repeats: fair → good
      await page.locator('li[data-item="hill-repeats"] button[data-grade="2"][aria-checked="true"]').waitFor();
      await page.getByText('4 of 4 graded').waitFor();
      await page.screenshot({ path: screenshotPath('question-ranking.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('Enter');
      expect(await storedAnswers(session)).toEqual({
        suggested_runs: [
          { item: 'hill-repeats', grade: 2 },
          { item: 'long-sunday', grade: 0 },
          { item: 'park-loop', grade: 2 },
          { item: 'riverside-5k', grade: 3 },
        ],
      });
      await page.getByTestId('caught-up').waitFor();
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('numeric: the bounds are shown and checked before the number is sent', async () => {
    const project = await projectWith([{ name: 'price', kind: 'numeric', min: 0, max: 1000, unit: 'EUR' }], {
      input: { listing: 'Road bike, aluminium frame, 105 groupset, lightly used' },
      suggestions: { price: { value: 310, interval: [240, 380] } },
    });
    const session = await raterOn(project);
    const { page } = session;
    try {
      await page.getByText('between 0 and 1000 EUR').first().waitFor();
      // the box has the focus: digits go straight into it
      await page.keyboard.type('1200');
      await page.keyboard.press('Enter');
      await page.getByText('above the maximum, 1000').first().waitFor();
      await page.getByTestId('unanswered').getByText('Price').waitFor();
      await page.screenshot({ path: screenshotPath('question-numeric.png'), fullPage: true, animations: 'disabled' });
      expect(session.frames.some((f) => f.includes('"annotation"'))).toBe(false);
      await page.keyboard.press('Control+A');
      await page.keyboard.type('249.5');
      await page.keyboard.press('Enter');
      expect(await storedAnswers(session)).toEqual({ price: 249.5 });
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it("text: starts from the model's text, shows the changes, Ctrl+Enter submits", async () => {
    const model = 'The customer asks for a refund of the last invoice.';
    const project = await projectWith([{ name: 'summary', kind: 'text', maxLength: 500, prefill: true }], {
      input: { email: 'Hello, I was charged twice for March. Could you give me my money back for one of them? Regards, Kim' },
      suggestions: { summary: { value: model, confidence: 0.4 } },
    });
    const session = await raterOn(project);
    const { page } = session;
    try {
      const box = page.locator('textarea[name="summary"]');
      expect(await box.inputValue()).toBe(model);
      expect(await box.evaluate((element) => element === element.ownerDocument.activeElement)).toBe(true);
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Backspace');
      await page.keyboard.type(', charged twice.');
      await page.getByTestId('text-diff').locator('ins', { hasText: 'twice.' }).waitFor();
      await page.getByTestId('text-diff').locator('del', { hasText: 'invoice.' }).waitFor();
      // a plain Enter is a new line in the text, not a submit
      await page.keyboard.press('Enter');
      await page.keyboard.press('Backspace');
      await page.screenshot({ path: screenshotPath('question-text.png'), fullPage: true, animations: 'disabled' });
      expect(session.frames.some((f) => f.includes('"annotation"'))).toBe(false);
      await page.keyboard.press('Control+Enter');
      expect(await storedAnswers(session)).toEqual({ summary: 'The customer asks for a refund of the last invoice, charged twice.' });
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('generation: the conversation as chat in Markdown (code blocks; HTML shown as text and never run; no image fetched), the first response corrected by keyboard', async () => {
    const first =
      'Use a **loop**:\n\n```python\nfor i in range(3):\n    print(i)\n```\n![route map](https://tiles.example.com/route.png)\n<script>window.__injected = true</script><img src=x onerror="window.__injected = true">';
    const project = await projectWith([{ name: 'reply', kind: 'generation', maxLength: 2_000 }], {
      input: { surface: 'chat' },
      suggestions: {
        reply: {
          messages: [
            { role: 'system', content: 'You are a coding assistant.' },
            { role: 'user', content: 'How do I print 0, 1 and 2 in Python?' },
          ],
          responses: [
            { text: first, model: { version: 'v2' }, meanLogprob: -0.9 },
            { text: 'print(0, 1, 2)', model: { version: 'v3' } },
          ],
        },
      },
    });
    const session = await raterOn(project);
    const { page } = session;
    const remote: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('example.com')) remote.push(request.url());
    });
    try {
      const chat = page.getByTestId('chat');
      await chat.locator('[data-role="user"]', { hasText: 'How do I print' }).waitFor();
      expect(await chat.getByTestId('chat-response').count()).toBe(2);
      // raters judge blind: no model version on screen
      expect(await chat.getByText('v3').count()).toBe(0);
      // Markdown: emphasis and a code block rendered; HTML shown as text, never run; the remote image never fetched
      const response = chat.getByTestId('chat-response').first();
      await response.locator('strong', { hasText: 'loop' }).waitFor();
      expect(await response.locator('pre code').textContent()).toBe('for i in range(3):\n    print(i)\n');
      await response.getByText('<script>window.__injected = true</script>', { exact: false }).waitFor();
      await response.getByTestId('markdown-image').getByText('[image: route map (https://tiles.example.com/route.png)]').waitFor();
      expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
      expect(await chat.locator('img, script').count()).toBe(0);
      expect(remote).toEqual([]);
      const box = page.locator('textarea[name="reply"]');
      expect(await box.inputValue()).toBe(first);
      expect(await box.evaluate((element) => element === element.ownerDocument.activeElement)).toBe(true);
      // the rater keeps the code and drops the markup: select from the end of the code block to the end, and delete it
      await box.evaluate((element: HTMLTextAreaElement) => {
        const end = element.value.indexOf('```\n![route map]') + 3;
        element.setSelectionRange(end, element.value.length);
      });
      await page.keyboard.press('Backspace');
      await page.getByTestId('text-diff').locator('del', { hasText: 'script' }).waitFor();
      await page.screenshot({ path: screenshotPath('question-generation.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('Control+Enter');
      expect(await storedAnswers(session)).toEqual({ reply: 'Use a **loop**:\n\n```python\nfor i in range(3):\n    print(i)\n```' });
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('preference: two responses side by side in the order drawn for the task, a key picks the better, the answer recorded by response', async () => {
    const project = await projectWith(
      [
        { name: 'better', kind: 'preference', of: 'reply' },
        { name: 'reply', kind: 'generation' },
      ],
      {
        input: { surface: 'chat' },
        suggestions: {
          reply: {
            messages: [{ role: 'user', content: 'Suggest a 5 km route in Zürich.' }],
            responses: [
              { text: 'Run along the lake from Bellevue to Tiefenbrunnen and back.', model: { version: 'v1' } },
              { text: 'Go to the gym.', model: { version: 'v2' } },
            ],
          },
        },
      },
      { routingQuestion: 'reply' },
    );
    const session = await raterOn(project);
    const { page } = session;
    try {
      const leftPane = page.getByTestId('pair-left');
      await leftPane.waitFor();
      const firstOnLeft = (await leftPane.textContent())!.includes('along the lake');
      // the better route is on whichever side the task drew: its key
      await page.keyboard.press(firstOnLeft ? 'ArrowLeft' : 'ArrowRight');
      await page.locator(`button[data-choice="${firstOnLeft ? 'left' : 'right'}"][aria-checked="true"]`).waitFor();
      await page.screenshot({ path: screenshotPath('question-preference.png'), fullPage: true, animations: 'disabled' });
      await page.keyboard.press('Enter');
      expect(await storedAnswers(session)).toEqual({
        better: { preferred: 'first', left: firstOnLeft ? 'first' : 'second' },
        reply: 'Run along the lake from Bellevue to Tiefenbrunnen and back.',
      });
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('spans: a keyboard selection and a label key mark spans, in code points, overlapping ones stacked', async () => {
    // the emoji is two UTF-16 units and one code point: every offset after it tells the two apart
    const text = '🎉 Ada Lovelace met Grace Hopper at the University of New York.';
    const project = await projectWith(
      [
        {
          name: 'entities',
          kind: 'spans',
          field: 'text',
          labels: [
            { name: 'person', hotkey: 'p' },
            { name: 'place', hotkey: 'l' },
            { name: 'org', hotkey: 'o' },
          ],
        },
      ],
      { input: { text }, suggestions: { entities: { spans: [{ start: 2, end: 14, label: 'person', score: 0.9 }] } } },
    );
    const session = await raterOn(project);
    const { page } = session;
    const status = page.getByTestId('spans-status');
    const press = async (key: string, times = 1) => {
      for (let i = 0; i < times; i++) await page.keyboard.press(key);
    };
    try {
      await page.getByTestId('spans-text').waitFor();
      // "Ada Lovelace": two characters in, then two words
      await press('ArrowRight', 2);
      await press('Shift+ArrowDown', 2);
      await status.getByText('“Ada Lovelace”').waitFor();
      await press('p');
      // "Grace Hopper"
      await press('ArrowDown');
      await press('ArrowRight');
      await press('Shift+ArrowDown', 2);
      await status.getByText('“Grace Hopper”').waitFor();
      await press('p');
      // "University of New York" as an organisation
      await press('ArrowDown', 2);
      await press('ArrowRight');
      await press('Shift+ArrowDown', 4);
      await status.getByText('“University of New York”').waitFor();
      await press('o');
      // "New York" marked a person by mistake, taken back with Delete, then marked a place: it overlaps the organisation
      await press('ArrowUp', 2);
      await press('Shift+ArrowDown', 2);
      await press('p');
      await page
        .getByTestId('spans-list')
        .locator('li', { hasText: /^person\s*New York/ })
        .waitFor();
      await press('Delete');
      await press('ArrowUp', 2);
      await press('Shift+ArrowDown', 2);
      await status.getByText('“New York”').waitFor();
      await press('l');
      await page.getByTestId('spans-list').locator('li').nth(3).waitFor();
      await page.screenshot({ path: screenshotPath('question-spans.png'), fullPage: true, animations: 'disabled' });
      await press('Enter');
      expect(await storedAnswers(session)).toEqual({
        entities: [
          { start: at(text, 'Ada'), end: at(text, ' met'), label: 'person' },
          { start: at(text, 'Grace'), end: at(text, ' at'), label: 'person' },
          { start: at(text, 'University'), end: at(text, '.'), label: 'org' },
          { start: at(text, 'New'), end: at(text, '.'), label: 'place' },
        ],
      });
      expect(at(text, 'Ada')).toBe(2);
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('new project: an admin lists questions of several kinds and picks the one routing reads', async () => {
    const { context, page, errors } = await signedIn({ email: ADMIN.email, password: ADMIN.password });
    try {
      await page.goto(`${app.url}/projects/new`);
      await page.locator('input[name="name"]').fill('Ticket questions');
      await page.locator('input[name="answerForm"][value="questions"]').check();
      await page.locator('input[name="q0-name"]').fill('sentiment');
      await page.locator('input[name="q0-label-0"]').fill('positive');
      await page.locator('input[name="q0-label-1"]').fill('negative');
      await page.getByRole('button', { name: 'Add a question' }).click();
      await page.locator('input[name="q1-name"]').fill('urgency');
      await page.locator('select[name="q1-kind"]').selectOption('rating');
      await page.getByRole('button', { name: 'Add a question' }).click();
      await page.locator('input[name="q2-name"]').fill('people');
      await page.locator('select[name="q2-kind"]').selectOption('spans');
      await page.locator('input[name="q2-field"]').fill('body');
      await page.locator('input[name="q2-label-0"]').fill('person');
      await page.locator('input[name="q2-required"]').uncheck();
      await page.locator('select[name="routingQuestion"]').selectOption('urgency');
      // the header sticks to the top of the window: scrolled back, it stays at the top of the picture
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('question-new-project.png'), fullPage: true, animations: 'disabled' });
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.waitForURL('**/projects/ticket-questions/settings');
      await page.getByTestId('questions-summary').first().getByText('urgency').waitFor();
      const created = await app.request('GET', '/api/v1/projects/ticket-questions', { token: admin });
      expect(created.body.routingQuestion).toBe('urgency');
      expect(created.body.questions).toMatchObject([
        { name: 'sentiment', kind: 'label', required: true, labels: [{ name: 'positive' }, { name: 'negative' }] },
        { name: 'urgency', kind: 'rating', required: true, points: [{ value: 1 }, { value: 2 }, { value: 3 }, { value: 4 }, { value: 5 }] },
        { name: 'people', kind: 'spans', required: false, field: 'body', labels: [{ name: 'person' }] },
      ]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("review: every rater's answers side by side, and the reviewer's answers by the same keys", async () => {
    const project = await projectWith(
      [
        {
          name: 'sentiment',
          kind: 'label',
          labels: [
            { name: 'positive', hotkey: '1' },
            { name: 'negative', hotkey: '2' },
            { name: 'neutral', hotkey: '3' },
          ],
        },
        {
          name: 'urgency',
          kind: 'rating',
          points: [
            { value: 1, name: 'low' },
            { value: 2, name: 'medium' },
            { value: 3, name: 'high' },
          ],
        },
        { name: 'reply', kind: 'text', required: false, maxLength: 300, prefill: false },
      ],
      { input: { text: 'The delivery was late again, but the driver was lovely.' }, scores: { positive: 0.4, negative: 0.45, neutral: 0.15 } },
      { overlap: 2 },
    );
    const given = [
      { sentiment: 'positive', urgency: 2, reply: 'Thanks for your patience!' },
      { sentiment: 'negative', urgency: 3 },
    ];
    for (const answers of given) {
      const rater = await createUser(app, admin, 'rater', project);
      const { task } = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body;
      const submitted = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
        token: rater.token,
        body: { id: randomUUID(), answers },
      });
      expect(submitted.status).toBe(201);
    }
    const reviewer = await createUser(app, admin, 'reviewer', project);
    const { context, page, errors } = await signedIn(reviewer);
    try {
      await page.goto(`${app.url}/projects/${project.slug}/review`);
      const table = page.getByTestId('answers-table');
      await table.waitFor();
      const row = (name: string) => table.locator(`tr[data-question="${name}"]`);
      expect(await row('sentiment').locator('td').allInnerTexts()).toEqual(['positive', 'negative']);
      expect(await row('urgency').locator('td').allInnerTexts()).toEqual(['2 · medium', '3 · high']);
      expect(await row('reply').locator('td').allInnerTexts()).toEqual(['Thanks for your patience!', '—']);
      await row('sentiment').getByText('raters differ').waitFor();
      // the sentiment is split, so the reviewer starts blank there; the urgency starts at the raters' (lower) median
      await page.locator('section[data-question="urgency"] button[data-value="2"][aria-checked="true"]').waitFor();
      await page.screenshot({ path: screenshotPath('question-review.png'), fullPage: true, animations: 'disabled' });

      await page.keyboard.press('Enter');
      await page.getByTestId('unanswered').getByText('Sentiment').waitFor();
      await page.keyboard.press('2');
      await page.locator('section[data-question="sentiment"] button[data-label="negative"][aria-pressed="true"]').waitFor();
      await page.keyboard.press('Tab');
      await page.locator('section[data-question="urgency"].question--active').waitFor();
      await page.keyboard.press('3');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Sorry about the delay: we are on it.');
      const decision = page.waitForResponse((response) => response.url().endsWith(`/review`) && response.request().method() === 'POST');
      await page.keyboard.press('Control+Enter');
      expect((await decision).status()).toBe(200);
      expect(JSON.parse((await decision).request().postData() ?? '{}')).toEqual({
        answers: { sentiment: 'negative', urgency: 3, reply: 'Sorry about the delay: we are on it.' },
      });
      await page.getByTestId('review-empty').waitFor();
      const labels = await app.sql(`SELECT answers, source FROM labels WHERE prediction_id = $1 AND superseded_at IS NULL`, [project.predictionId]);
      expect(labels).toEqual([{ answers: { sentiment: 'negative', urgency: 3, reply: 'Sorry about the delay: we are on it.' }, source: 'review' }]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { mulberry32 } from '@backflow/ranking';
import { createApiKey, createProject, createUser } from '../factories';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { launchChromium, screenshotPath } from './support/chromium';

describe('browser: model versions ranked by raters’ preferences', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('charts each version’s chance of beating the champion with its interval, and the challenger’s verdict', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Running coach',
      taskType: undefined,
      labels: undefined,
      questions: [
        { name: 'reply', kind: 'generation' },
        { name: 'better', kind: 'preference', of: 'reply' },
      ],
      routingQuestion: 'reply',
      routing: { strategy: 'least_confidence', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    // v1 the champion, v2 a better challenger, v3 a worse one; the champion answers every prompt
    const predictions = Array.from({ length: 90 }, (_, i) => {
      const other = i % 3 === 0 ? 'v3' : 'v2';
      return {
        id: randomUUID(),
        model: { name: 'coach', version: other },
        input: { surface: i % 2 ? 'app' : 'web' },
        slice: { surface: i % 2 ? 'app' : 'web' },
        suggestions: {
          reply: {
            messages: [{ role: 'user', content: `How should I train this week? (${i})` }],
            responses: [
              { text: `Champion plan ${i}`, model: { version: 'v1' } },
              { text: `${other} plan ${i}`, model: { version: other } },
            ],
          },
        },
      };
    });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
    // what the users did: a thumbs-down on every fifth answer, an edit of every seventh
    const events = predictions.flatMap((p, i) => [
      ...(i % 5 === 0 ? [{ id: randomUUID(), predictionId: p.id, type: 'thumbs_down' }] : []),
      ...(i % 7 === 0 ? [{ id: randomUUID(), predictionId: p.id, type: 'edit', value: `Champion plan ${i}, then stretch` }] : []),
    ]);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events })).status).toBe(201);
    const rater = await createUser(app, admin, 'rater', project);
    const random = mulberry32(5);
    for (;;) {
      const task = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task;
      if (!task) break;
      const pair = task.suggestions.better;
      const challengerWins = pair.second.model.version === 'v2' ? 0.75 : 0.3;
      const preferred = random() < challengerWins ? 'second' : 'first';
      const answered = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
        token: rater.token,
        body: { id: randomUUID(), answers: { reply: pair.first.text, better: { preferred, left: pair.left } } },
      });
      expect(answered.status).toBe(201);
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(app.url);
      await page.fill('input[name="email"]', ADMIN.email);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
      await page.goto(`${app.url}/projects/${project.slug}/quality`);
      const panel = page.getByTestId('preferences-panel');
      await panel.waitFor();
      await panel.getByTestId('preference-chart').locator('.recharts-bar-rectangle').first().waitFor();
      const label = await panel.getByTestId('preference-chart').getAttribute('aria-label');
      // strongest first; the champion's own chance is even, and v3 can round to it (which of two equal bars comes first is not fixed)
      const bars =
        /^chance of beating v1: (.*)$/
          .exec(label ?? '')?.[1]
          .split(', ')
          .map((bar) => /^(v\d) (\d+)%$/.exec(bar)) ?? [];
      const chances = new Map(bars.map((bar) => [bar?.[1], Number(bar?.[2])]));
      expect([...chances.keys()].sort()).toEqual(['v1', 'v2', 'v3']);
      expect(chances.get('v1')).toBe(50);
      expect(chances.get('v2')).toBeGreaterThan(50);
      const shown = bars.map((bar) => Number(bar?.[2]));
      expect(shown).toEqual([...shown].sort((a, b) => b - a));
      // the newest version is v3 (first seen last): worse than the champion, or not yet told apart
      await panel.getByTestId('challenger-verdict').waitFor();
      expect(await panel.getByTestId('challenger-verdict').textContent()).toMatch(/^v3: (worse than the champion|not yet told apart)$/);
      // and slice by slice, each from its own preferences
      const slices = await panel.getByTestId('preference-slices-chart').getAttribute('aria-label');
      expect(slices).toMatch(/^v3's chance of beating v1 by slice: surface=(app|web) \d+%, surface=(app|web) \d+%$/);
      // what users did with each version's answers, and how far their edits moved them
      const signals = page.getByTestId('feedback-signals-panel');
      await signals.getByTestId('feedback-signals-chart').locator('.recharts-bar-rectangle').first().waitFor();
      expect(await signals.getByTestId('feedback-signals-chart').getAttribute('aria-label')).toMatch(
        /^Implicit feedback by model version: thumbs_down v2 \d+\.\d% v3 \d+\.\d%, edit v2 \d+\.\d% v3 \d+\.\d%$/,
      );
      expect(await signals.getByTestId('feedback-edits').locator('tbody tr').count()).toBe(2);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('preferences.png'), fullPage: true, animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

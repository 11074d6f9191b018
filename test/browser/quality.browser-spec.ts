import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { unitDraw } from '@backflow/sampling';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser } from '../factories';
import { gzipSync } from 'node:zlib';
import { encodeExample, frameRecord } from '@backflow/tfrecord';
import { backdatePredictions } from '../helpers/backdate';
import { SCHEMA_PBTXT, TRAINING_STATISTICS } from '../factories/tfdv-artifacts';

describe('browser: an admin reads quality and monitoring as charts', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '5000' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows accuracy per slice with intervals, drift per feature, alerts after an evaluation, and rater agreement', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Mail triage',
      overlap: 2,
      routing: { threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 },
      monitoring: { drift: { minCount: 40 }, minLabels: 10 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const batch = (from: number, n: number, shift: number, frRight: number) =>
      Array.from({ length: n }, (_, k) => {
        const i = from + k;
        const country = ['FR', 'DE', 'US'][i % 3];
        const uncertain = i % 4 === 0;
        const right = country === 'FR' ? unitDraw(`r${i}`) < frRight : unitDraw(`r${i}`) < 0.9;
        return {
          id: randomUUID(),
          model: { name: 'mail', version: '2' },
          input: {
            truth: right ? 'ham' : 'spam',
            length: unitDraw(`l${i}`) * 100 + (country === 'FR' ? shift : 0),
            sender: ['mail.example', 'news.example', 'shop.example'][i % 3],
          },
          scores: uncertain ? { ham: 0.6, spam: 0.4 } : { ham: 0.95, spam: 0.05 },
          slice: { country },
        };
      });
    const ingest = async (items: unknown[]) => expect((await app.request('POST', path('/predictions/batch'), { token: key, body: items })).status).toBe(200);
    const a = await createUser(app, admin, 'rater', project);
    const b = await createUser(app, admin, 'rater', project);
    const labelAll = async (token: string, wrongEvery: number) => {
      for (let n = 0; ; n++) {
        const { body } = await app.request('POST', path('/tasks/claim'), { token, body: {} });
        if (!body.task) return;
        const label = n % wrongEvery === wrongEvery - 1 ? (body.task.input.truth === 'ham' ? 'spam' : 'ham') : body.task.input.truth;
        await app.request('POST', path(`/tasks/${body.task.id}/annotations`), { token, body: { id: randomUUID(), label, timeSpentMs: 2000 + 37 * n } });
      }
    };
    // yesterday's traffic in the reference window, then today's, where FR drifts and its accuracy falls
    await ingest(batch(0, 480, 0, 0.9));
    await labelAll(a.token, 1000);
    await labelAll(b.token, 9);
    await backdatePredictions(app, project.id, `now() - interval '30 hours' - (random() * interval '12 hours')`);
    await ingest(batch(480, 480, 70, 0.35));
    await labelAll(a.token, 1000);
    await labelAll(b.token, 9);
    await backdatePredictions(app, project.id, `now() - (random() * interval '20 hours')`, `received_at > now() - interval '1 hour'`);

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
      await page.getByTestId('open-quality').first().click();
      await page.waitForURL(`**/projects/${project.slug}/quality`);
      await page.getByTestId('accuracy-panel').waitFor();
      await page.getByTestId('evaluate').click();
      await page.getByText(/Evaluated: \d+ new alerts?/).waitFor();
      await page
        .getByTestId('alerts-panel')
        .getByText(/accuracy on country=FR fell/)
        .waitFor();
      await page
        .getByTestId('alerts-panel')
        .getByText(/length drifted on country=FR/)
        .waitFor();
      await page.getByTestId('boosts').getByText('country=FR').waitFor();
      // one model version: its rows would repeat the every-version ones, so each slice is listed once
      const listed = await page.getByTestId('accuracy-table').locator('tbody tr td:first-child').allInnerTexts();
      expect(listed.length).toBeGreaterThan(3);
      expect(new Set(listed).size).toBe(listed.length);
      expect(listed.every((cell) => cell.startsWith('every version'))).toBe(true);
      // exploration is off: the labels are the uncertain quarter, so their figure is no headline, and the model's calibrated confidence stands beside it
      expect(await page.getByTestId('accuracy-support').textContent()).toMatch(
        /^\d+\.\d% \(\d+%–\d+%\) of the routed predictions\. Not a headline: 0 of its labels were drawn at random; weighted, its labels stand for 2\d% of the traffic\./,
      );
      expect(await page.getByTestId('accuracy-labelled').textContent()).toBe('not representative');
      expect(await page.getByTestId('accuracy-cbpe').textContent()).toMatch(/^\d+\.\d% \(\d+%–\d+%\)$/);
      expect(await page.getByTestId('drift-feature').inputValue()).toBe('length');
      const kappa = Number(await page.getByTestId('kappa').textContent());
      expect(kappa).toBeGreaterThan(0);
      expect(kappa).toBeLessThan(1);
      // every chart drew
      expect(await page.locator('.recharts-surface').count()).toBeGreaterThanOrEqual(5);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('quality-monitoring.png'), fullPage: true, animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('warns, beside an accuracy from a handful of labels, that it is too few to read as a figure', async () => {
    const admin = await app.login();
    // every prediction explored: the labels are a sample of the traffic, but only six
    const project = await createProject(app, admin, { name: 'Few labels', labels: [{ name: 'ham' }, { name: 'spam' }], routing: { explorationRate: 1 } });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const items = Array.from({ length: 6 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { n: i },
      scores: { ham: 0.8, spam: 0.2 },
      slice: { country: 'FR' },
    }));
    expect((await app.request('POST', path('/predictions/batch'), { token: key, body: items })).status).toBe(200);
    const rater = await createUser(app, admin, 'rater', project);
    for (let i = 0; ; i++) {
      const { body } = await app.request('POST', path('/tasks/claim'), { token: rater.token, body: {} });
      if (!body.task) break;
      await app.request('POST', path(`/tasks/${body.task.id}/annotations`), { token: rater.token, body: { id: randomUUID(), label: i % 3 ? 'ham' : 'spam' } });
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
      await page
        .getByTestId('accuracy-few')
        .getByText(/^Too few labels to read as a figure: 6 effective \(fewer than 30\)/)
        .waitFor();
      expect(await page.getByTestId('accuracy-labelled').getAttribute('class')).toBe('metric--unsupported');
      expect(await page.getByTestId('accuracy-table').locator('tbody tr').first().innerText()).toContain('too few labels');
      await page.getByTestId('accuracy-panel').screenshot({ path: screenshotPath('quality-few-labels.png'), animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows training–serving skew: TFDV’s findings on the window, distribution skew against training, and feature skew per feature', async () => {
    const admin = await app.login();
    const project = await createProject(app, admin, {
      name: 'Run recommender',
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { threshold: 0.99, explorationRate: 0 },
      monitoring: { drift: { minCount: 20 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const served = Array.from({ length: 60 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'runs', version: '3' },
      input: { country: i % 5 === 0 ? 'DE' : 'FR', minutes: (i % 40) + 30.5 },
      scores: { ham: 0.9, spam: 0.1 },
      slice: { country: i % 5 === 0 ? 'DE' : 'FR' },
    }));
    expect((await app.request('POST', path('/predictions/batch'), { token: key, body: served })).status).toBe(200);
    const put = (route: string, type: string, body: string | Buffer) =>
      fetch(`${app.url}${path(`/monitoring/${route}`)}`, { method: 'PUT', headers: { 'content-type': type, authorization: `Bearer ${admin}` }, body });
    expect((await put('schema', 'text/x-protobuf', SCHEMA_PBTXT)).status).toBe(200);
    expect((await put('baseline', 'text/x-protobuf', TRAINING_STATISTICS)).status).toBe(200);
    // the training pipeline rounded minutes
    const examples = served.map((s) =>
      encodeExample({
        prediction_id: { kind: 'bytes', values: [s.id] },
        country: { kind: 'bytes', values: [s.input.country] },
        minutes: { kind: 'float', values: [Math.round(s.input.minutes)] },
      }),
    );
    expect((await put('training-examples', 'application/octet-stream', gzipSync(Buffer.concat(examples.map(frameRecord))))).status).toBe(200);

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
      await page.getByTestId('open-quality').first().waitFor();
      await page.goto(`${app.url}/projects/${project.slug}/quality`);
      const panel = page.getByTestId('skew-panel');
      await panel.waitFor();
      await panel.getByTestId('tfdv-anomalies').getByText('ENUM_TYPE_UNEXPECTED_STRING_VALUES').waitFor();
      expect(await panel.getByTestId('tfdv-anomalies').getByText('country=DE').count()).toBe(1);
      // both skewed: country (by the drift thresholds) first, then minutes by its skew comparator
      expect(await page.getByTestId('skew-feature').inputValue()).toBe('country');
      await page.getByTestId('skew-feature').selectOption('minutes');
      await panel.getByText(/threshold 0\.050 from the uploaded schema's comparator/).waitFor();
      await panel
        .getByTestId('feature-skew-summary')
        .getByText(/60 of 60 training examples found/)
        .waitFor();
      expect(await panel.getByTestId('feature-skew').locator('tbody tr').first().locator('td').first().textContent()).toBe('minutes');
      await panel.getByText('skewed examples').click();
      await panel.getByTestId('feature-skew-samples').waitFor();
      await page.getByTestId('evaluate').click();
      await page.getByTestId('alerts-panel').getByText('training–serving skew').first().waitFor();
      await page.getByTestId('alerts-panel').getByText('COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH').first().waitFor();
      // the artifacts download as the admin's session
      const anomalies = await page.request.get(`${app.url}${path('/monitoring/anomalies?format=text')}`);
      expect(await anomalies.text()).toContain('ENUM_TYPE_UNEXPECTED_STRING_VALUES');
      await panel.scrollIntoViewIfNeeded();
      await panel.screenshot({ path: screenshotPath('training-serving-skew.png'), animations: 'disabled' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

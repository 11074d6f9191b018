import { randomUUID } from 'node:crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { createApiKey, createProject, createUser } from '../factories';
import { launchChromium, screenshotPath } from './support/chromium';
import { ADMIN, startTestApp, type TestApp } from '../helpers/test-app';
import { backdatePredictions } from '../helpers/backdate';

// every prediction is routed, none is gold: three raters answer every item
const ROUTE_ALL = { routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 }, labeling: { goldRate: 0 } };
const ITEMS = 48;
// items before this one are moved into the reference window, the others into the current one
const CURRENT_FROM = 24;

// the page's formatting, to compare what it shows with the reply figure by figure
const percent = (x: number | null, digits = 1) => (x === null ? '—' : `${(x * 100).toFixed(digits)}%`);
const figure = (x: number | null, digits: number) => (x === null ? '—' : x.toFixed(digits));
const amount = (x: number, unit?: string) => `${x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2)}${unit ? ` ${unit}` : ''}`;

/** One item: its input and the model's output, and what each of the three raters answers. */
interface Item {
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  answers: [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
}

describe('browser: the quality page shows each question kind’s figures as charts', () => {
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

  /**
   * A project asking `questions`, one prediction per item (slice country FR or DE by parity),
   * each answered by three raters over REST; then the first items are moved into the reference
   * window and the others spread over the current one. Returns the project and its two replies.
   */
  async function answeredProject(name: string, questions: unknown[], routingQuestion: string, items: Item[], monitoring: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, {
      name,
      taskType: undefined,
      labels: undefined,
      questions,
      routingQuestion,
      overlap: 3,
      monitoring,
      ...ROUTE_ALL,
    });
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const ingested = await app.request('POST', path('/predictions/batch'), {
      token: key,
      body: items.map((item, n) => ({
        id: randomUUID(),
        model: { name: 'm', version: '3' },
        input: { ...item.input, n },
        slice: { country: n % 2 ? 'FR' : 'DE' },
        ...item.output,
      })),
    });
    expect(ingested.body).toMatchObject({ accepted: items.length, duplicates: 0 });
    const raters = [
      await createUser(app, admin, 'rater', project),
      await createUser(app, admin, 'rater', project),
      await createUser(app, admin, 'rater', project),
    ];
    for (const [r, rater] of raters.entries()) {
      for (let answered = 0; ; answered++) {
        const claimed = await app.request('POST', path('/tasks/claim'), { token: rater.token, body: {} });
        expect(claimed.status).toBe(200);
        if (!claimed.body.task) {
          expect(answered).toBe(items.length);
          break;
        }
        const item = items[claimed.body.task.input.n as number];
        const submitted = await app.request('POST', path(`/tasks/${claimed.body.task.id}/annotations`), {
          token: rater.token,
          body: { id: randomUUID(), answers: item.answers[r] },
        });
        expect([submitted.status, submitted.body.code]).toEqual([201, undefined]);
      }
    }
    await backdatePredictions(
      app,
      project.id,
      `CASE WHEN (input->>'n')::int < $2
            THEN now() - interval '30 hours' - ((input->>'n')::int * interval '30 minutes')
            ELSE now() - interval '1 hour' - (((input->>'n')::int - $2) * interval '30 minutes') END`,
      'true',
      [CURRENT_FROM],
    );
    return { project, path };
  }

  async function reply(path: string) {
    const response = await app.request('GET', path, { token: admin });
    expect(response.status).toBe(200);
    return response.body;
  }

  async function signedInOn(slug: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(app.url);
    await page.fill('input[name="email"]', ADMIN.email);
    await page.fill('input[name="password"]', ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your projects' }).waitFor();
    await page.goto(`${app.url}/projects/${slug}/quality`);
    await page.getByTestId('question-metrics-panel').waitFor();
    await page.getByTestId('question-agreement-panel').waitFor();
    return { page, errors, close: () => context.close() };
  }

  const text = async (locator: Locator) => (await locator.textContent())?.trim();

  /** One section of the page, the mouse away from its charts and the header at the top of the page rather than over it. */
  async function sectionShot(page: Page, testId: string, name: string) {
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    const box = await page.getByTestId(testId).boundingBox();
    expect(box).not.toBeNull();
    await page.screenshot({ path: screenshotPath(name), fullPage: true, clip: box!, animations: 'disabled' });
  }

  /** The per-question agreement chart and the rater heat-map against the quality reply. */
  async function expectAgreement(page: Page, quality: any, measures: string[]) {
    const chart = page.getByTestId('question-agreement-chart');
    const label = await chart.getAttribute('aria-label');
    expect(quality.questions.map((q: any) => `${q.name} · ${measures[quality.questions.indexOf(q)]}`)).toEqual(
      await chart.locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents(),
    );
    for (const [i, q] of quality.questions.entries()) {
      expect(q.value).not.toBeNull();
      expect(label).toContain(`${q.name} · ${measures[i]} ${figure(q.value, 2)}`);
    }
    // a label question's bar also gives Fleiss' κ
    expect(await chart.locator('.recharts-label-list text').allTextContents()).toEqual(
      quality.questions.map((q: any) => figure(q.value, 2) + (q.fleissKappa === undefined || q.fleissKappa === null ? '' : ` · κ ${figure(q.fleissKappa, 2)}`)),
    );
    const raters = quality.raters.filter((r: any) => r.questions.some((q: any) => q.compared > 0));
    expect(raters).toHaveLength(3);
    for (const rater of raters) {
      for (const q of rater.questions) {
        const cell = page.locator(`[data-testid="rater-questions"] tr[data-rater="${rater.email}"] td[data-question="${q.name}"]`);
        const shown = q.measure === 'mean_jaccard' || q.measure === 'mean_span_f1' ? figure(q.value, 2) : percent(q.value, 0);
        expect(await text(cell)).toBe(q.meanAbsoluteError === undefined || q.meanAbsoluteError === null ? shown : `${shown}MAE ${amount(q.meanAbsoluteError)}`);
      }
    }
  }

  it('multi-label: micro F1 per slice over time, per-label precision, recall and F1, and α per question', async () => {
    const SETS = [['billing'], ['bug'], ['bug', 'feature'], ['praise'], ['billing', 'bug'], ['feature'], ['praise', 'feature']];
    const LABELS = ['billing', 'bug', 'praise', 'feature'];
    const people = ['Ada', 'Grace', 'Linus'];
    const products = ['Zephyr', 'Nimbus', 'Quartz'];
    const items: Item[] = Array.from({ length: ITEMS }, (_, n) => {
      const truth = SETS[n % SETS.length];
      const body = `${people[n % 3]} says ${products[n % 3]} keeps crashing`;
      const spans = [
        { start: 0, end: people[n % 3].length, label: 'PER' },
        { start: body.indexOf(products[n % 3]), end: body.indexOf(products[n % 3]) + products[n % 3].length, label: 'PRODUCT' },
      ];
      // the model misses a label now and then; in the current window it also adds billing on FR
      const scores = Object.fromEntries(LABELS.map((l) => [l, truth.includes(l) ? (n % 6 === 0 && l === truth[0] ? 0.35 : 0.85) : 0.08]));
      if (n >= CURRENT_FROM && n % 2 && !truth.includes('billing')) scores.billing = 0.7;
      const urgency = 1 + (n % 5);
      const answer = { topics: truth, urgency, ents: spans };
      return {
        input: { body },
        output: { scores },
        answers: [
          answer,
          answer,
          {
            topics: n % 5 === 0 && !truth.includes('praise') ? [...truth, 'praise'] : truth,
            urgency: n % 3 === 0 ? Math.min(5, urgency + 1) : urgency,
            ents: n % 4 === 0 ? spans.slice(0, 1) : spans,
          },
        ],
      };
    });
    const { project, path } = await answeredProject(
      'Support topics',
      [
        { name: 'topics', kind: 'multi_label', labels: LABELS.map((name, i) => ({ name, hotkey: String(i + 1) })) },
        { name: 'urgency', kind: 'rating', points: ['none', 'low', 'some', 'high', 'critical'].map((name, i) => ({ value: i + 1, name })) },
        { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'PRODUCT' }] },
      ],
      'topics',
      items,
    );
    const monitoring = await reply(path('/monitoring?hours=48'));
    const quality = await reply(path('/quality?days=2'));
    const row = (sliceKey: string, sliceValue: string) =>
      monitoring.accuracy.find((r: any) => r.modelVersion === '*' && r.sliceKey === sliceKey && r.sliceValue === sliceValue);
    const all = row('*', '*');
    expect(all.metrics.kind).toBe('multi_label');
    expect(all.metrics.headline.baseline.n).toBe(CURRENT_FROM);
    expect(all.metrics.current.n).toBe(ITEMS - CURRENT_FROM);
    expect(all.metrics.headline.series.length).toBeGreaterThan(4);

    const { page, errors, close } = await signedInOn(project.slug);
    try {
      const panel = page.getByTestId('question-metrics-panel');
      expect(await panel.getAttribute('data-kind')).toBe('multi_label');
      expect(await text(panel.locator('h2'))).toBe('Model micro F1 by slice');
      // no text accuracy: the label project's panel is not shown
      expect(await page.getByTestId('accuracy-panel').count()).toBe(0);
      // the headline over time: one point per bucket, and the baseline drawn
      const chart = page.getByTestId('headline-chart');
      await chart.locator('.recharts-line-curve').waitFor();
      expect(await chart.locator('.recharts-line-dots circle').count()).toBe(all.metrics.headline.series.length);
      expect(await chart.locator('.recharts-reference-line').count()).toBe(1);
      // every slice's headline now and its baseline, once: with one model version its rows would repeat the every-version ones
      expect(new Set(monitoring.accuracy.map((r: any) => r.modelVersion).filter((v: string) => v !== '*')).size).toBe(1);
      expect(await page.locator('[data-testid="metrics-table"] tr[data-slice^="3|"]').count()).toBe(0);
      for (const r of monitoring.accuracy.filter((r: any) => r.metrics && r.modelVersion === '*')) {
        const tr = page.locator(`[data-testid="metrics-table"] tr[data-slice="${r.modelVersion}|${r.sliceKey}|${r.sliceValue}"]`);
        expect(await text(tr.getByTestId('headline-now'))).toMatch(new RegExp(`^${percent(r.metrics.headline.value.value).replace('.', '\\.')} \\(`));
        expect(await text(tr.getByTestId('headline-baseline'))).toBe(percent(r.metrics.headline.baseline.value));
      }
      const expectCurrent = async (current: any) => {
        expect(await text(page.getByTestId('figure-micro-f1'))).toBe(percent(current.micro.f1));
        expect(await text(page.getByTestId('figure-macro-f1'))).toBe(percent(current.macroF1));
        expect(await text(page.getByTestId('figure-hamming-loss'))).toBe(percent(current.hammingLoss));
        expect(await text(page.getByTestId('figure-subset-accuracy'))).toBe(percent(current.subsetAccuracy));
        for (const l of current.perLabel) {
          const cells = await page.locator(`[data-testid="per-label-table"] tr[data-label="${l.label}"] td`).allTextContents();
          expect(cells.slice(0, 3)).toEqual([percent(l.precision), percent(l.recall), percent(l.f1)]);
        }
        // a bar per defined figure
        const defined = current.perLabel.flatMap((l: any) => [l.precision, l.recall, l.f1]).filter((v: number | null) => v !== null).length;
        expect(await page.locator('[data-testid="per-label-chart"] .recharts-bar-rectangle').count()).toBe(defined);
      };
      await expectCurrent(all.metrics.current);
      expect(all.metrics.current.perLabel.map((l: any) => l.label)).toEqual(LABELS);
      // another slice: its own figures (FR got worse: billing added)
      const fr = row('country', 'FR');
      expect(fr.metrics.current.micro.f1).toBeLessThan(row('country', 'DE').metrics.current.micro.f1);
      await page.getByTestId('metrics-slice').selectOption('*|country|FR');
      await page.getByTestId('current-title').getByText('country=FR').waitFor();
      await expectCurrent(fr.metrics.current);
      await page.getByTestId('metrics-slice').selectOption('*|*|*');
      await page.getByTestId('current-title').getByText('all traffic').waitFor();

      await expectAgreement(page, quality, ['α (MASI)', 'α (ordinal)', 'span F1']);
      // the label confusion matrix is for a label routing question only
      expect(await page.getByTestId('confusion-table').count()).toBe(0);

      await page.mouse.move(0, 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('question-metrics-multi-label.png'), fullPage: true, animations: 'disabled' });
      await sectionShot(page, 'question-metrics-panel', 'question-metrics-multi-label-panel.png');
      await sectionShot(page, 'question-agreement-panel', 'question-metrics-agreement.png');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('numeric: MAE over time against its baseline, MAE, RMSE and interval coverage, the MAE alert, and α (interval)', async () => {
    const items: Item[] = Array.from({ length: ITEMS }, (_, n) => {
      const price = 150 + ((37 * n) % 400);
      // misses of 0 to 5 in the reference window, of 10 to 39 in the current one (its ±20 interval holds about a third)
      const value = price + (n < CURRENT_FROM ? ((n * 7) % 11) - 5 : (n % 2 ? 1 : -1) * (10 + ((n * 13) % 30)));
      const type = n % 3 === 0 ? 'flat' : 'house';
      const answer = { price, type };
      return {
        input: { rooms: 2 + (n % 5), area: 40 + 7 * n },
        output: { suggestions: { price: { value, interval: [value - 20, value + 20] } } },
        answers: [
          answer,
          answer,
          { price: n % 3 === 0 ? price + 15 : n % 3 === 1 ? price + 3 : price, type: n % 4 === 0 ? (type === 'flat' ? 'house' : 'flat') : type },
        ],
      };
    });
    const { project, path } = await answeredProject(
      'House prices',
      [
        { name: 'price', kind: 'numeric', min: 0, max: 2_000, unit: 'k$', tolerance: 5 },
        { name: 'type', kind: 'label', labels: [{ name: 'house' }, { name: 'flat' }] },
      ],
      'price',
      items,
      { minLabels: 5 },
    );

    const { page, errors, close } = await signedInOn(project.slug);
    try {
      await page.getByTestId('evaluate').click();
      await page.getByText(/Evaluated: \d+ new alerts?/).waitFor();
      const monitoring = await reply(path('/monitoring?hours=48'));
      const quality = await reply(path('/quality?days=2'));
      const all = monitoring.accuracy.find((r: any) => r.modelVersion === '*' && r.sliceKey === '*');
      expect(all.metrics.kind).toBe('numeric');
      const { headline, current } = all.metrics;
      expect(headline.value.value).toBeGreaterThan(headline.baseline.value);

      // the alerts name their figure
      const maeAlerts = monitoring.alerts.filter((a: any) => a.metric === 'mae' && a.resolvedAt === null);
      expect(maeAlerts.map((a: any) => a.slice)).toEqual(expect.arrayContaining([null]));
      const badges = page.locator('[data-testid="alerts-panel"] .badge[data-metric="mae"]');
      await badges.first().waitFor();
      expect(await badges.allTextContents()).toEqual(maeAlerts.map(() => 'MAE'));
      await page
        .getByTestId('alerts-panel')
        .getByText(`MAE on all traffic rose to ${headline.value.value.toFixed(3)} from ${headline.baseline.value.toFixed(3)}`, { exact: false })
        .waitFor();

      const panel = page.getByTestId('question-metrics-panel');
      expect(await text(panel.locator('h2'))).toBe('Model MAE by slice');
      const chart = page.getByTestId('headline-chart');
      await chart.locator('.recharts-line-curve').waitFor();
      expect(await chart.locator('.recharts-line-dots circle').count()).toBe(headline.series.length);
      const tr = page.locator('[data-testid="metrics-table"] tr[data-slice="*|*|*"]');
      expect(await text(tr.getByTestId('headline-now'))).toMatch(new RegExp(`^${amount(headline.value.value, 'k$').replace(/[.$]/g, '\\$&')} \\(`));
      expect(await text(tr.getByTestId('headline-baseline'))).toBe(amount(headline.baseline.value, 'k$'));
      expect(await tr.getByTestId('headline-now').getAttribute('class')).toBe('metric--down');
      expect(await text(page.getByTestId('figure-mae'))).toBe(amount(current.mae, 'k$'));
      expect(await text(page.getByTestId('figure-rmse'))).toBe(amount(current.rmse, 'k$'));
      expect(await text(page.getByTestId('figure-coverage'))).toBe(percent(current.coverage));
      expect(await page.getByTestId('error-chart').locator('.recharts-label-list text').allTextContents()).toEqual([
        amount(current.mae, 'k$'),
        amount(current.rmse, 'k$'),
      ]);
      expect(await page.getByTestId('coverage-chart').getAttribute('aria-label')).toBe(
        `${percent(current.coverage)} of the labels inside the model’s interval`,
      );

      await expectAgreement(page, quality, ['α (interval)', 'α (nominal)']);
      await page.mouse.move(0, 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath('question-metrics-numeric.png'), fullPage: true, animations: 'disabled' });
      await sectionShot(page, 'question-metrics-panel', 'question-metrics-numeric-panel.png');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

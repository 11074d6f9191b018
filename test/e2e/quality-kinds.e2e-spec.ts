import { randomUUID } from 'node:crypto';
import { intervalDistance, krippendorffAlpha, masiDistance, ordinalDistance, pairwiseSpanF1 } from '@backflow/agreement';
import { QualityService } from '../../server/src/quality/quality.service';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

const BODY = 'Ada Lovelace met Charles Babbage in London';
const span = (text: string, label: string) => ({ start: BODY.indexOf(text), end: BODY.indexOf(text) + text.length, label });
const ADA = span('Ada Lovelace', 'PER');
const CHARLES = span('Charles Babbage', 'PER');
const BABBAGE = span('Babbage', 'PER');
const LONDON = span('London', 'LOC');

const QUESTIONS = [
  { name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) },
  { name: 'price', kind: 'numeric', min: 0, max: 1_000, tolerance: 1, relativeTolerance: 0, required: false },
  { name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'tech' }] },
  { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'LOC' }] },
];

/** What raters A, B and C answer on task n (a price left out is a blank: the question is not required). */
const ANSWERS: Array<[Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
  [
    { quality: 4, price: 10, topics: ['sports'], ents: [ADA, CHARLES] },
    { quality: 4, price: 10, topics: ['sports'], ents: [ADA, CHARLES] },
    { quality: 4, price: 12, topics: ['sports'], ents: [ADA] },
  ],
  [
    { quality: 2, price: 20, topics: ['sports', 'tech'], ents: [ADA, LONDON] },
    { quality: 3, price: 21, topics: ['tech'], ents: [ADA] },
    { quality: 2, topics: ['sports', 'tech'], ents: [ADA, LONDON] },
  ],
  [
    { quality: 5, price: 5, topics: [], ents: [CHARLES] },
    { quality: 4, topics: ['politics'], ents: [BABBAGE] },
    { quality: 1, topics: [], ents: [CHARLES] },
  ],
  [
    { quality: 3, price: 100, topics: ['politics'], ents: [LONDON] },
    { quality: 3, price: 90, topics: ['tech'], ents: [LONDON] },
    { quality: 4, price: 101, topics: ['politics', 'tech'], ents: [] },
  ],
];

/** The consensus each task reaches (three raters, agreement threshold 0.6), worked out from the kinds' rules. */
const FINAL = [
  // rating: the median; numeric: the median of the answers within 1 of it; multi_label: each label a majority chose; spans: characters a majority marked
  { quality: 4, price: 10, topics: ['sports'], ents: [ADA, CHARLES] },
  { quality: 2, price: 20, topics: ['sports', 'tech'], ents: [ADA, LONDON] },
  // one price of three: not kept (most raters left it blank)
  { quality: 4, topics: [], ents: [CHARLES] },
  { quality: 3, price: 100, topics: ['politics', 'tech'], ents: [LONDON] },
];

describe('quality per question kind: α with each kind’s distance, and each rater against the final answers', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
  });

  async function answeredProject() {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: QUESTIONS,
      routingQuestion: 'quality',
      overlap: 3,
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const path = (p: string) => `/api/v1/projects/${project.slug}${p}`;
    const predictions = ANSWERS.map((_, n) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { body: BODY, n },
      suggestions: { quality: { value: 3, std: 1.5 } },
    }));
    expect((await app.request('POST', path('/predictions/batch'), { token: key, body: predictions })).body).toMatchObject({ accepted: 4, duplicates: 0 });

    const raters = [];
    for (let r = 0; r < 3; r++) {
      const rater = await createUser(app, admin, 'rater', project);
      raters.push(rater);
      const answered: number[] = [];
      for (;;) {
        const { body } = await app.request('POST', path('/tasks/claim'), { token: rater.token, body: {} });
        if (!body.task) break;
        const n = body.task.input.n as number;
        const submitted = await app.request('POST', path(`/tasks/${body.task.id}/annotations`), {
          token: rater.token,
          body: { id: randomUUID(), answers: ANSWERS[n][r], timeSpentMs: 1_000 },
        });
        expect([n, submitted.status, submitted.body?.code]).toEqual([n, 201, undefined]);
        answered.push(n);
      }
      expect(answered.sort()).toEqual([0, 1, 2, 3]);
    }
    return { ...project, path, raters };
  }

  it('reports α per question with its distance, and per-rater reliability, matching a hand computation', async () => {
    const p = await answeredProject();
    // every task reached the consensus worked out above
    const finals = await app.sql(
      `SELECT (pr.input->>'n')::int AS n, l.answers FROM labels l JOIN tasks t ON t.id = l.task_id JOIN predictions pr ON pr.id = t.prediction_id
        WHERE l.project_id = $1 AND l.superseded_at IS NULL ORDER BY 1`,
      [p.id],
    );
    expect(finals.map((f) => f.answers)).toEqual(FINAL);

    const reply = await app.request('GET', p.path('/quality'), { token: admin });
    expect(reply.status).toBe(200);
    const byName = Object.fromEntries(reply.body.questions.map((q: { name: string }) => [q.name, q]));
    expect(reply.body.questions.map((q: { name: string }) => q.name)).toEqual(['quality', 'price', 'topics', 'ents']);

    // rating, ordinal. Values 1:1, 2:2, 3:3, 4:5, 5:1 (n = 12): mid-ranks 0.5, 2, 4.5, 8.5, 11.5.
    // Observed Σ o_ck δ²: o(2,3) = 1 · 2.5², o(1,4) = o(1,5) = o(4,5) = ½ (task 2, three raters) · 8², 11², 3², o(3,4) = 1 · 4²: 119.25.
    // Expected Σ n_c n_k δ²: 2·2.25 + 3·16 + 5·64 + 1·121 + 6·6.25 + 10·42.25 + 2·90.25 + 15·16 + 3·49 + 5·9 = 1566.
    expect(byName.quality).toMatchObject({ kind: 'rating', measure: 'alpha', distance: 'ordinal', pairable: 12 });
    expect(byName.quality.value).toBeCloseTo(1 - (11 * 119.25) / 1566, 10);

    // numeric, interval: a blank is missing, so task 2 (one price) is out and task 1 pairs two (n = 8).
    // Observed: task 0 (0 + 4 + 4)/2, task 1 1/1, task 3 (100 + 1 + 121)/2 = 116.
    // Expected: Σ over all pairs of values (v − w)² = n Σv² − (Σv)² = 8 · 29486 − 364² = 103392.
    expect(byName.price).toMatchObject({ kind: 'numeric', measure: 'alpha', distance: 'interval', pairable: 8 });
    expect(byName.price.value).toBeCloseTo(1 - (7 * 116) / 103392, 10);

    // multi_label, MASI (1 − Jaccard × monotonicity: 2/3 for a subset, 1/3 for overlap, 0 for disjoint sets).
    // Observed: task 1 δ({s,t},{t}) = 2/3, task 2 δ({},{p}) = 1, task 3 (δ({p},{t}) + δ({p},{p,t}) + δ({t},{p,t}))/2 = 7/6: 17/6.
    // Expected over the values {s}:3, {s,t}:2, {t}:2, {}:2, {p}:2, {p,t}:1: 487/9. α = 1 − 11 · (17/6) / (487/9) = 413/974.
    expect(byName.topics).toMatchObject({ kind: 'multi_label', measure: 'alpha', distance: 'masi', pairable: 12 });
    expect(byName.topics.value).toBeCloseTo(413 / 974, 10);

    // spans: the mean F1 over the three pairs of each task: (1 + 2/3 + 2/3) + (2/3 + 1 + 2/3) + (0 + 1 + 0) + (1 + 0 + 0) over 12 pairs
    expect(byName.ents).toEqual({ name: 'ents', kind: 'spans', measure: 'span_f1', value: expect.any(Number), pairable: 12 });
    expect(byName.ents.value).toBeCloseTo(5 / 9, 10);

    // the library's α on the same units agrees with every hand figure above
    const units = (name: string): any[][] => ANSWERS.map((task) => task.map((a) => a[name]).filter((a) => a !== undefined));
    expect(krippendorffAlpha(units('quality'), ordinalDistance).alpha).toBeCloseTo(byName.quality.value, 10);
    expect(krippendorffAlpha(units('price'), intervalDistance).alpha).toBeCloseTo(byName.price.value, 10);
    expect(krippendorffAlpha(units('topics'), masiDistance).alpha).toBeCloseTo(byName.topics.value, 10);
    expect(pairwiseSpanF1(units('ents'))).toBeCloseTo(byName.ents.value, 10);

    // each rater against the final answers, question by question
    const raters = Object.fromEntries(reply.body.raters.map((r: { email: string }) => [r.email, r]));
    const perQuestion = (r: number) => Object.fromEntries(raters[p.raters[r].email].questions.map((q: { name: string }) => [q.name, q]));
    const [a, b, c] = [0, 1, 2].map(perQuestion);
    // rating, within one point of the final 4, 2, 4, 3: A 4 2 5 3, B 4 3 4 3, C 4 2 1 4 (1 is three away)
    expect([a.quality, b.quality, c.quality]).toEqual([
      { name: 'quality', kind: 'rating', compared: 4, measure: 'within_one', value: 1 },
      { name: 'quality', kind: 'rating', compared: 4, measure: 'within_one', value: 1 },
      { name: 'quality', kind: 'rating', compared: 4, measure: 'within_one', value: 0.75 },
    ]);
    // numeric, against 10, 20, (none), 100 with tolerance 1: B is 0, 1 and 10 off; C 2 and 1 (blank on task 1)
    expect(a.price).toEqual({ name: 'price', kind: 'numeric', compared: 3, measure: 'within_tolerance', value: 1, meanAbsoluteError: 0 });
    expect(b.price).toMatchObject({ compared: 3, value: 2 / 3 });
    expect(b.price.meanAbsoluteError).toBeCloseTo(11 / 3, 12);
    expect(c.price).toMatchObject({ compared: 2, value: 0.5, meanAbsoluteError: 1.5 });
    // multi_label, mean Jaccard: A 1, 1, 1 (both empty), ½; B 1, ½, 0, ½; C all 1
    expect([a.topics.value, b.topics.value, c.topics.value]).toEqual([0.875, 0.5, 1]);
    expect(a.topics).toMatchObject({ compared: 4, measure: 'mean_jaccard' });
    // spans, mean F1: A exact throughout; B 1, 2/3, 0 (Babbage without Charles), 1; C 2/3, 1, 1, 0
    expect(a.ents).toMatchObject({ compared: 4, measure: 'mean_span_f1', value: 1 });
    expect(b.ents.value).toBeCloseTo(2 / 3, 12);
    expect(c.ents.value).toBeCloseTo(2 / 3, 12);

    // a rating routing question has no classes: no confusion matrix, no Dawid-Skene
    expect(reply.body).toMatchObject({ classes: [], confusion: [], dawidSkene: null });
    expect(raters[p.raters[0].email]).toMatchObject({ tasks: 4, estimatedAccuracy: null, confusion: null });
  });

  it('refuses Dawid-Skene for a project whose routing question is not a label, and never re-estimates one', async () => {
    const slug = `q-${randomUUID().slice(0, 8)}`;
    const refused = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: { slug, name: 'ratings', questions: QUESTIONS, routingQuestion: 'topics', labeling: { consensus: 'dawid_skene' } },
    });
    expect([refused.status, refused.body.code, refused.body.field]).toEqual([400, 'validation/invalid', 'labeling.consensus']);
    expect(await app.sql(`SELECT 1 FROM projects WHERE slug = $1`, [slug])).toHaveLength(0);

    // a label routing question among others may use it
    const labelled = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'verdict', kind: 'label', labels: [{ name: 'ok' }, { name: 'bad' }] }, ...QUESTIONS],
      routingQuestion: 'verdict',
      labeling: { consensus: 'dawid_skene' },
    });
    expect((await app.request('GET', `/api/v1/projects/${labelled.slug}`, { token: admin })).body.labeling.consensus).toBe('dawid_skene');

    const p = await answeredProject();
    const update = await app.request('PATCH', `/api/v1/projects/${p.slug}`, { token: admin, body: { labeling: { consensus: 'dawid_skene' } } });
    expect([update.status, update.body.field]).toEqual([400, 'labeling.consensus']);
    expect((await app.request('GET', `/api/v1/projects/${p.slug}`, { token: admin })).body.labeling.consensus).toBe('majority');

    // a multi-label routing question whose answers Dawid-Skene would read as classes, set to it before this check existed
    const tagged = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: QUESTIONS,
      routingQuestion: 'topics',
      overlap: 2,
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    await app.sql(`UPDATE projects SET labeling_settings = labeling_settings || '{"consensus": "dawid_skene"}' WHERE id = $1`, [tagged.id]);
    const key = (await createApiKey(app, admin, tagged.slug, ['ingest'])).secret;
    const predictions = [0, 1, 2].map((n) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { body: BODY, n },
      scores: { sports: 0.5, politics: 0.5, tech: 0.5 },
    }));
    expect((await app.request('POST', `/api/v1/projects/${tagged.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
    for (const tags of [['sports'], ['tech']]) {
      const rater = await createUser(app, admin, 'rater', tagged);
      for (;;) {
        const { body } = await app.request('POST', `/api/v1/projects/${tagged.slug}/tasks/claim`, { token: rater.token, body: {} });
        if (!body.task) break;
        const answers = { quality: 3, topics: tags, ents: [] };
        expect(
          (
            await app.request('POST', `/api/v1/projects/${tagged.slug}/tasks/${body.task.id}/annotations`, {
              token: rater.token,
              body: { id: randomUUID(), answers },
            })
          ).status,
        ).toBe(201);
      }
    }
    // the job takes the label project and skips the multi-label one (the old code fitted its single tags as classes); asked directly, it refuses
    expect(await app.app.get(QualityService).reestimateAll()).toBeGreaterThanOrEqual(1);
    expect(await app.sql(`SELECT 1 FROM quality_reestimates WHERE project_id = $1`, [tagged.id])).toHaveLength(0);
    const asked = await app.request('POST', `/api/v1/projects/${tagged.slug}/quality/reestimate`, { token: admin });
    expect([asked.status, asked.body.code, asked.body.field]).toEqual([409, 'quality/dawid_skene_needs_label', 'labeling.consensus']);
    expect(await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND rule = 'dawid_skene'`, [tagged.id])).toEqual([{ n: 0 }]);
    // its quality reply has no classes to fit
    expect((await app.request('GET', `/api/v1/projects/${tagged.slug}/quality`, { token: admin })).body).toMatchObject({ classes: [], dawidSkene: null });
  });
});

import { randomUUID } from 'node:crypto';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

// "😀" is one code point (Backflow's span offsets) and two UTF-16 code units (Label Studio's)
const BODY = 'Ada Lovelace met 😀 Babbage at the Royal Society';

const QUESTIONS = [
  { name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'tech' }] },
  { name: 'sentiment', kind: 'label', labels: [{ name: 'neg' }, { name: 'pos' }], required: false },
  { name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) },
  { name: 'price', kind: 'numeric', min: 0, max: 10_000 },
  { name: 'note', kind: 'text', required: false },
  { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }] },
];

/** Every kind answered, with a text and a span beyond the emoji. */
const FULL = {
  topics: ['sports', 'tech'],
  sentiment: 'pos',
  quality: 4,
  price: 12.5,
  note: 'Lovelace meets Babbage — “Royal Society” 😀\nsecond line',
  ents: [
    { start: 0, end: 12, label: 'PER' },
    { start: 19, end: 26, label: 'PER' },
    { start: 34, end: 47, label: 'ORG' },
  ],
};
/** Nothing chosen where a kind allows it, and the questions that are not required left out. */
const SPARSE = { topics: [], quality: 1, price: 0, ents: [] };
const REVIEWED = { topics: ['politics'], sentiment: 'neg', quality: 3, price: 9_999.75, ents: [{ start: 19, end: 26, label: 'ORG' }] };

/**
 * Interop per question kind: a project of every kind goes out as Label Studio JSON and comes back
 * into a second project of the same questions value for value; a Label Studio file decides each
 * answer's kind by its results; KServe V2 outputs of a multi-label and of a numeric model become
 * predictions with their scores or suggestions, and the uncertainty routing reads.
 */
describe('interop per kind: Label Studio of every kind, KServe V2 multi-label and numeric', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  const kindsProject = (overrides: Record<string, unknown> = {}) =>
    createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: QUESTIONS,
      routingQuestion: 'topics',
      overlap: 2,
      routing: { strategy: 'entropy', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      ...overrides,
    });
  const path = (slug: string, suffix: string) => `/api/v1/projects/${slug}${suffix}`;
  const importFile = (slug: string, body: unknown) => app.request('POST', path(slug, '/import/label-studio'), { token: admin, body });
  const exportOf = async (slug: string) => {
    const response = await app.request('GET', path(slug, '/export/label-studio'), { token: admin });
    expect(response.status).toBe(200);
    return response.body as Array<Record<string, any>>;
  };
  const count = async (table: 'predictions' | 'annotations' | 'labels', projectId: string) =>
    (await app.sql(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [projectId]))[0].n as number;

  /** What a project holds, comparable across projects: predictions, answers, final labels and task states, by prediction. */
  const stateOf = async (projectId: string) => ({
    predictions: await app.sql(
      `SELECT id, model_name, model_version, input, scores, suggestions, predicted_label, confidence, uncertainty, slice FROM predictions WHERE project_id = $1 ORDER BY id`,
      [projectId],
    ),
    answers: await app.sql(
      `SELECT t.prediction_id, a.label, a.answers, a.time_spent_ms FROM annotations a JOIN tasks t ON t.id = a.task_id WHERE t.project_id = $1 ORDER BY t.prediction_id, a.answers::text`,
      [projectId],
    ),
    labels: await app.sql(
      `SELECT prediction_id, value, source, agreement, answers FROM labels WHERE project_id = $1 AND superseded_at IS NULL ORDER BY prediction_id`,
      [projectId],
    ),
    tasks: await app.sql(`SELECT prediction_id, state FROM tasks WHERE project_id = $1 AND annotations_count > 0 ORDER BY prediction_id`, [projectId]),
  });

  describe('Label Studio', () => {
    it('exports every kind and imports it into a project of the same questions, value for value', async () => {
      const source = await kindsProject();
      const key = (await createApiKey(app, admin, source.slug, ['ingest'])).secret;
      const predictions = [0, 1, 2].map((n) => ({
        id: randomUUID(),
        model: { name: 'tagger', version: '3' },
        input: { body: BODY, n },
        scores: { sports: 0.8, politics: 0.3 + n / 10, tech: 0.55 },
        suggestions: {
          quality: { value: 3.6, std: 0.4 },
          price: { value: 14, interval: [10, 20] },
          note: { value: 'A meeting 😀', meanLogProb: -0.3 },
          ents: { spans: [{ start: 19, end: 26, label: 'PER', score: 0.65 }] },
        },
      }));
      expect((await app.request('POST', path(source.slug, '/predictions/batch'), { token: key, body: predictions })).body).toMatchObject({
        accepted: 3,
        duplicates: 0,
      });

      // item 0: the raters agree (consensus); 1: they do not, and a reviewer decides; 2: they do not, and it waits in review
      const given = [
        [FULL, FULL],
        [FULL, SPARSE],
        [SPARSE, FULL],
      ];
      const raters = [await createUser(app, admin, 'rater', source), await createUser(app, admin, 'rater', source)];
      for (const [r, rater] of raters.entries()) {
        for (;;) {
          const claimed = await app.request('POST', path(source.slug, '/tasks/claim'), { token: rater.token, body: {} });
          if (!claimed.body.task) break;
          const answers = given[claimed.body.task.input.n as number][r];
          const submitted = await app.request('POST', path(source.slug, `/tasks/${claimed.body.task.id}/annotations`), {
            token: rater.token,
            body: { id: randomUUID(), answers, timeSpentMs: 1_500 + r },
          });
          expect(submitted.status).toBe(201);
        }
      }
      // two tasks wait in review; a reviewer decides item 1's (item 2's lease is left to run out)
      const reviewer = await createUser(app, admin, 'reviewer', source);
      let reviewed = false;
      for (let tries = 0; tries < 2 && !reviewed; tries++) {
        const claimed = await app.request('POST', path(source.slug, '/review/claim'), { token: reviewer.token, body: {} });
        if (claimed.body.task.input.n !== 1) continue;
        const decided = await app.request('POST', path(source.slug, `/tasks/${claimed.body.task.id}/review`), {
          token: reviewer.token,
          body: { answers: REVIEWED },
        });
        expect(decided.status).toBe(200);
        reviewed = true;
      }
      expect(reviewed).toBe(true);
      const before = await stateOf(source.id);
      expect(before.answers).toHaveLength(6);
      expect(before.labels.map((l) => [l.source, l.answers])).toEqual(
        expect.arrayContaining([
          ['consensus', FULL],
          ['review', REVIEWED],
        ]),
      );
      expect(before.labels).toHaveLength(2);

      const exported = await exportOf(source.slug);
      expect(exported).toHaveLength(3);
      const first = exported.find((t) => t.data.n === 0)!;
      // every kind as its own result type, named by its question
      expect(first.annotations[0].result.map((r: any) => [r.from_name, r.type])).toEqual([
        ['topics', 'choices'],
        ['sentiment', 'choices'],
        ['quality', 'rating'],
        ['price', 'number'],
        ['note', 'textarea'],
        ['ents', 'labels'],
        ['ents', 'labels'],
        ['ents', 'labels'],
      ]);
      // past the emoji, Label Studio counts one more: Babbage is 19–26 in code points, 20–27 in UTF-16
      expect(first.annotations[0].result[6].value).toEqual({ start: 20, end: 27, text: 'Babbage', labels: ['PER'] });
      expect(first.predictions[0].result.map((r: any) => [r.from_name, r.value])).toEqual([
        ['topics', { choices: ['sports', 'tech'] }],
        ['quality', { rating: 4 }],
        ['price', { number: 14 }],
        ['note', { text: ['A meeting 😀'] }],
        ['ents', { start: 20, end: 27, text: 'Babbage', labels: ['PER'] }],
      ]);

      const config = await app.request('GET', path(source.slug, '/export/label-studio/config'), { token: admin });
      expect(config.status).toBe(200);
      expect(config.headers.get('content-type')).toMatch(/^application\/xml/);
      for (const tag of [
        '<Choices name="topics" toName="body" choice="multiple">',
        '<Choices name="sentiment" toName="body" choice="single">',
        '<Rating name="quality" toName="body" maxRating="5" required="true"/>',
        '<Number name="price" toName="body" min="0" max="10000" step="any" required="true"/>',
        '<TextArea name="note" toName="body" maxSubmissions="1" editable="true"/>',
        '<Labels name="ents" toName="body">',
        '<Text name="body" value="$body"/>',
      ])
        expect(config.body).toContain(tag);

      const target = await kindsProject();
      const imported = await importFile(target.slug, exported);
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ tasks: 3, predictions: { accepted: 3, duplicates: 0 }, annotations: 6, labels: 2 });
      const after = await stateOf(target.id);
      expect(after.predictions).toEqual(before.predictions);
      expect(after.answers).toEqual(before.answers);
      expect(after.labels).toEqual(before.labels);
      expect(after.tasks.map((t) => t.state).sort()).toEqual(['completed', 'completed', 'review']);
      expect(after.tasks).toEqual(before.tasks);

      // once: the same file again stores nothing
      expect((await importFile(target.slug, exported)).body).toMatchObject({ predictions: { accepted: 0, duplicates: 3 }, annotations: 0, labels: 0 });
      expect(await stateOf(target.id)).toEqual(after);
    });

    it('reads a file Label Studio wrote: the results decide each answer’s kind, spans counted in UTF-16', async () => {
      const p = await kindsProject();
      const region = (start: number, end: number, labels: string[], extra = {}) => ({
        from_name: 'ents',
        to_name: 'text',
        type: 'labels',
        value: { start, end, text: BODY.slice(start, end), labels },
        ...extra,
      });
      const task = {
        id: 501,
        data: { body: BODY, n: 9 },
        predictions: [
          {
            model_version: 'ner-v1',
            score: 0.7,
            result: [{ from_name: 'topics', to_name: 'text', type: 'choices', value: { choices: ['tech'] } }, region(20, 27, ['PER'], { score: 0.7 })],
          },
        ],
        annotations: [
          {
            id: 1,
            completed_by: { id: 4, email: 'ls-user@example.com' },
            lead_time: 8.5,
            result: [
              { from_name: 'topics', to_name: 'text', type: 'choices', value: { choices: ['tech', 'politics'] } },
              { from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['neg'] } },
              { from_name: 'quality', to_name: 'text', type: 'rating', value: { rating: 2 } },
              { from_name: 'price', to_name: 'text', type: 'number', value: { number: 99.5 } },
              { from_name: 'note', to_name: 'text', type: 'textarea', value: { text: ['first', 'second'] } },
              region(0, 12, ['PER']),
              region(20, 27, ['PER', 'ORG']),
            ],
          },
        ],
      };
      const imported = await importFile(p.slug, [task]);
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ tasks: 1, predictions: { accepted: 1 }, annotations: 1, labels: 1 });
      const [prediction] = await app.sql(`SELECT model_version, suggestions, predicted_label, uncertainty FROM predictions WHERE project_id = $1`, [p.id]);
      expect(prediction).toEqual({
        model_version: 'ner-v1',
        suggestions: { topics: { value: ['tech'] }, ents: { spans: [{ start: 19, end: 26, label: 'PER', score: 0.7 }] } },
        predicted_label: 'tech',
        uncertainty: 0, // the model named its labels, with no probabilities to be unsure of
      });
      const expected = {
        topics: ['politics', 'tech'],
        sentiment: 'neg',
        quality: 2,
        price: 99.5,
        note: 'first\nsecond',
        ents: [
          { start: 0, end: 12, label: 'PER' },
          { start: 19, end: 26, label: 'PER' },
          { start: 19, end: 26, label: 'ORG' },
        ],
      };
      expect(await app.sql(`SELECT label, answers, time_spent_ms FROM annotations WHERE project_id = $1`, [p.id])).toEqual([
        { label: 'politics\ntech', answers: expected, time_spent_ms: 8_500 },
      ]);
      expect(await app.sql(`SELECT value, source, answers FROM labels WHERE project_id = $1`, [p.id])).toEqual([
        { value: 'politics\ntech', source: 'consensus', answers: expected },
      ]);
    });

    it.each([
      [
        'a rating past the scale',
        { from_name: 'quality', type: 'rating', value: { rating: 9 } },
        'interop/invalid_answer',
        '0.annotations.0.result.1.value.rating',
      ],
      [
        'a span counted in code points',
        { from_name: 'ents', type: 'labels', value: { start: 19, end: 26, text: 'Babbage', labels: ['PER'] } },
        'interop/invalid_answer',
        '0.annotations.0.result.1.value.text',
      ],
      [
        'a label set for a label question',
        { from_name: 'sentiment', type: 'choices', value: { choices: ['neg', 'pos'] } },
        'interop/invalid_answer',
        '0.annotations.0.result.1.value.choices',
      ],
      [
        'a rating for a number question',
        { from_name: 'price', type: 'rating', value: { rating: 2 } },
        'interop/unsupported_result',
        '0.annotations.0.result.1.type',
      ],
      [
        'a result no question takes',
        { from_name: 'comment', type: 'textarea', value: { text: ['x'] } },
        'interop/unsupported_result',
        '0.annotations.0.result.1.from_name',
      ],
    ])('refuses %s with a 400 naming the task and the field, storing nothing', async (_name, result, code, field) => {
      const p = await kindsProject();
      const task = {
        id: 7,
        data: { body: BODY },
        predictions: [{ result: [{ from_name: 'topics', type: 'choices', value: { choices: ['tech'] } }] }],
        annotations: [{ completed_by: 1, result: [{ from_name: 'price', type: 'number', value: { number: 3 } }, result] }],
      };
      const response = await importFile(p.slug, [task]);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code, field });
      expect(response.body.message).toContain('task 0 (Label Studio id 7), annotation 0, result 1');
      for (const table of ['predictions', 'annotations', 'labels'] as const) expect(await count(table, p.id)).toBe(0);
    });

    it('refuses a task with no model output for a routing question that has no "unknown" (spans), naming it', async () => {
      const p = await kindsProject({ routingQuestion: 'ents' });
      const response = await importFile(p.slug, [{ id: 3, data: { body: BODY } }]);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'interop/missing_prediction', field: '0.predictions' });
      expect(await count('predictions', p.id)).toBe(0);
    });
  });

  describe('KServe V2', () => {
    const event = (slug: string, key: string, id: string, type: 'request' | 'response', body: unknown) =>
      app.request('POST', path(slug, '/integrations/kserve'), {
        token: key,
        body,
        headers: { 'ce-id': id, 'ce-specversion': '1.0', 'ce-type': `org.kubeflow.serving.inference.${type}`, 'ce-inferenceservicename': 'model' },
      });
    const pair = async (slug: string, key: string, request: unknown, response: unknown) => {
      const id = randomUUID();
      expect((await event(slug, key, id, 'request', request)).status).toBe(202);
      const paired = await event(slug, key, id, 'response', response);
      expect(paired.body).toMatchObject({ state: 'paired' });
      return paired;
    };
    const routed = async (projectId: string) =>
      (
        await app.sql(
          `SELECT p.input->>'text' AS text FROM tasks t JOIN predictions p ON p.project_id = t.project_id AND p.id = t.prediction_id WHERE t.project_id = $1 ORDER BY 1`,
          [projectId],
        )
      ).map((r) => r.text);
    const stored = (projectId: string) =>
      app.sql(
        `SELECT input->>'text' AS text, model_version, scores, suggestions, predicted_label, confidence, uncertainty FROM predictions WHERE project_id = $1 ORDER BY input->>'text'`,
        [projectId],
      );
    const entropy = (p: number) => -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    const request = (...texts: string[]) => ({ inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }] });

    it('turns a multi-label model’s probabilities into scores, routed by mean binary entropy', async () => {
      const p = await createProject(app, admin, {
        taskType: undefined,
        labels: undefined,
        questions: [QUESTIONS[0]],
        routing: { strategy: 'entropy', threshold: 0.5, explorationRate: 0, dedupeWindowMinutes: 0 },
      });
      const key = (await createApiKey(app, admin, p.slug, ['ingest'])).secret;
      const paired = await pair(p.slug, key, request('a sure one', 'an unsure one'), {
        model_name: 'tagger',
        model_version: '5',
        outputs: [
          // as wide as the labels, but not the routing question's: the output named "topics" is read
          { name: 'logits', shape: [2, 3], datatype: 'FP32', data: [4, -4, 4, 0, 0, 0.4] },
          { name: 'topics', shape: [2, 3], datatype: 'FP32', data: [0.9, 0.1, 0.9, 0.5, 0.5, 0.6] },
        ],
      });
      expect(paired.body).toMatchObject({ accepted: 2 });
      const [sure, unsure] = await stored(p.id);
      expect(sure).toMatchObject({ model_version: '5', scores: { sports: 0.9, politics: 0.1, tech: 0.9 }, suggestions: null, predicted_label: 'sports\ntech' });
      expect(sure.confidence).toBeCloseTo(0.9, 12);
      expect(sure.uncertainty).toBeCloseTo(entropy(0.9), 12); // 0.468996: each label's entropy is the same
      expect(unsure).toMatchObject({ scores: { sports: 0.5, politics: 0.5, tech: 0.6 }, predicted_label: 'sports\npolitics\ntech' });
      expect(unsure.uncertainty).toBeCloseTo((1 + 1 + entropy(0.6)) / 3, 12); // 0.990317
      expect(await routed(p.id)).toEqual(['an unsure one']);
    });

    it('turns a numeric model’s value with its interval or standard deviation into suggestions, routed by their width', async () => {
      const p = await createProject(app, admin, {
        taskType: undefined,
        labels: undefined,
        questions: [{ name: 'price', kind: 'numeric', min: 0, max: 1_000 }],
        routing: { strategy: 'entropy', threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 },
      });
      const key = (await createApiKey(app, admin, p.slug, ['ingest'])).secret;
      await pair(p.slug, key, request('a narrow interval', 'a wide interval'), {
        model_name: 'pricer',
        outputs: [
          { name: 'price', shape: [2, 1], datatype: 'FP64', data: [110, 300] },
          { name: 'price_interval', shape: [2, 2], datatype: 'FP64', data: [100, 120, 100, 600] },
        ],
      });
      await pair(p.slug, key, request('a standard deviation'), {
        model_name: 'pricer',
        outputs: [
          { name: 'price_std', shape: [1], datatype: 'FP64', data: [50] },
          { name: 'price', shape: [1], datatype: 'FP64', data: [480.25] },
        ],
      });
      const rows = await stored(p.id);
      expect(rows.map((r) => [r.text, r.scores, r.suggestions, r.predicted_label])).toEqual([
        ['a narrow interval', {}, { price: { value: 110, interval: [100, 120] } }, '110'],
        ['a standard deviation', {}, { price: { value: 480.25, std: 50 } }, '480.25'],
        ['a wide interval', {}, { price: { value: 300, interval: [100, 600] } }, '300'],
      ]);
      // the width of the 95% interval over the question's range (a std counts as ±1.96 std)
      const [narrow, std, wide] = rows.map((r) => r.uncertainty);
      expect(narrow).toBeCloseTo(20 / 1_000, 12);
      expect(std).toBeCloseTo((2 * 1.959963984540054 * 50) / 1_000, 12); // 0.196
      expect(wide).toBeCloseTo(500 / 1_000, 12);
      expect(rows[0].confidence).toBeCloseTo(0.98, 12);
      expect(await routed(p.id)).toEqual(['a wide interval']);
    });

    it('refuses an interval tensor of the wrong shape with a 400 naming the field, keeping nothing', async () => {
      const p = await createProject(app, admin, { taskType: undefined, labels: undefined, questions: [{ name: 'price', kind: 'numeric' }] });
      const key = (await createApiKey(app, admin, p.slug, ['ingest'])).secret;
      const response = await event(p.slug, key, randomUUID(), 'response', {
        outputs: [
          { name: 'price', shape: [1], data: [3] },
          { name: 'price_interval', shape: [1, 3], data: [1, 2, 3] },
        ],
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'interop/shape_mismatch', field: 'outputs.1.shape' });
      expect((await app.request('GET', path(p.slug, '/integrations/kserve'), { token: admin })).body.pending).toMatchObject({ requests: 0, responses: 0 });
    });
  });
});

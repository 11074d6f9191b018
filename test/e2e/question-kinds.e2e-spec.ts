import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { io, Socket } from 'socket.io-client';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

const { ParquetReader } = createRequire(require.resolve('../../server/package.json'))('@dsnp/parquetjs') as typeof import('@dsnp/parquetjs');
const READER = path.join(__dirname, '..', 'helpers', 'read_tfexamples.py');

const BODY = 'Ada Lovelace met 😀 Babbage at the Royal Society';

/**
 * One kind each: its routing question, the model's output for a sure and for an unsure
 * prediction (only the unsure one routes at the threshold), the answer two raters give, and
 * the exported features that answer must read back as (TFRecord, through an independent reader).
 */
const KINDS = [
  {
    kind: 'multi_label',
    question: { name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'tech' }] },
    strategy: 'entropy',
    sure: { scores: { sports: 0.98, politics: 0.02, tech: 0.97 } },
    unsure: { scores: { sports: 0.5, politics: 0.45, tech: 0.55 } },
    answer: ['tech', 'sports'],
    features: { topics: [0, 2], topics_multi_hot: [1, 0, 1] },
    jsonl: { topics: [0, 2], topics_multi_hot: [1, 0, 1] },
  },
  {
    kind: 'rating',
    question: { name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) },
    strategy: 'entropy',
    // a 95% interval of ±1.96 std over a scale 4 points wide: 0.1 std is sure, 1.5 unsure
    sure: { suggestions: { quality: { value: 4, std: 0.1 } } },
    unsure: { suggestions: { quality: { value: 3, std: 1.5 } } },
    answer: 4,
    features: { quality: [4] },
    jsonl: { quality: 4 },
  },
  {
    kind: 'numeric',
    question: { name: 'price', kind: 'numeric', min: 0, max: 10_000 },
    strategy: 'entropy',
    sure: { suggestions: { price: { value: 12.5, interval: [12, 13] } } },
    unsure: { suggestions: { price: { value: 900, interval: [100, 9_000] } } },
    // a value float32 holds exactly, and a double the JSONL keeps to the last digit
    answer: 12.5,
    features: { price: [12.5] },
    jsonl: { price: 12.5 },
  },
  {
    kind: 'text',
    question: { name: 'summary', kind: 'text' },
    strategy: 'entropy',
    sure: { suggestions: { summary: { value: 'A meeting.', confidence: 0.95 } } },
    unsure: { suggestions: { summary: { value: 'A meting', meanLogProb: -1.2 } } },
    answer: 'Lovelace meets Babbage — “Royal Society”',
    features: { summary: ['Lovelace meets Babbage — “Royal Society”'] },
    jsonl: { summary: 'Lovelace meets Babbage — “Royal Society”' },
  },
  {
    kind: 'spans',
    question: { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }] },
    strategy: 'entropy',
    sure: { suggestions: { ents: { spans: [{ start: 0, end: 12, label: 'PER', score: 0.99 }] } } },
    unsure: { suggestions: { ents: { spans: [{ start: 0, end: 12, label: 'PER', score: 0.4 }] } } },
    // offsets in code points: the emoji at 17 is one character (two UTF-16 units), so "Babbage" is 19–26
    answer: [
      { start: 19, end: 26, label: 'PER' },
      { start: 0, end: 12, label: 'PER' },
      { start: 34, end: 47, label: 'ORG' },
    ],
    features: { ents_start: [0, 19, 34], ents_end: [12, 26, 47], ents_label: [0, 0, 1] },
    jsonl: { ents_start: [0, 19, 34], ents_end: [12, 26, 47], ents_label: [0, 0, 1] },
  },
  {
    kind: 'generation',
    question: { name: 'reply', kind: 'generation' },
    // margin: samples of one prompt that disagree (no word shared) route; samples that agree do not
    strategy: 'margin',
    sure: {
      suggestions: {
        reply: { messages: [{ role: 'user', content: 'Who met Babbage?' }], responses: [{ text: 'Ada Lovelace did.' }, { text: 'Ada Lovelace did!' }] },
      },
    },
    unsure: {
      suggestions: {
        reply: { messages: [{ role: 'user', content: 'Who met Babbage?' }], responses: [{ text: 'Ada Lovelace did.' }, { text: 'Nobody, ever.' }] },
      },
    },
    answer: 'Ada Lovelace met 😀 Babbage in 1833.',
    features: { reply: ['Ada Lovelace met 😀 Babbage in 1833.'] },
    jsonl: { reply: 'Ada Lovelace met 😀 Babbage in 1833.' },
  },
] as const;

describe('question kinds: capture, routing, two socket raters, consensus and export, kind by kind', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-kinds-'));
  let app: TestApp;
  let admin: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: root });
    admin = await app.login();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function connect(token: string): Promise<Socket> {
    const socket = io(`${app.url}/labeling`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }
  const ack = (socket: Socket, event: string, body: unknown): Promise<any> => socket.timeout(10_000).emitWithAck(event, body);

  it.each(KINDS.map((k) => [k.kind, k] as const))('%s: the uncertain predictions go to two raters and their answer is exported exactly', async (_kind, k) => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [k.question, { name: 'note', kind: 'text', required: false }],
      routingQuestion: k.question.name,
      overlap: 2,
      routing: { strategy: k.strategy, threshold: 0.5, explorationRate: 0, dedupeWindowMinutes: 0 },
      export: { formats: ['tfrecord', 'csv', 'jsonl', 'parquet'], splits: { train: 100, eval: 0 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const predictions = Array.from({ length: 8 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { body: BODY, n: i },
      ...(i % 2 ? k.unsure : k.sure),
    }));
    const ingest = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions });
    expect(ingest.body).toMatchObject({ accepted: 8, duplicates: 0 });
    const routed = await app.sql(`SELECT p.input->>'n' AS n FROM tasks t JOIN predictions p ON p.id = t.prediction_id WHERE t.project_id = $1 ORDER BY 1`, [
      project.id,
    ]);
    expect(routed.map((r) => Number(r.n))).toEqual([1, 3, 5, 7]);

    for (const rater of [await createUser(app, admin, 'rater', project), await createUser(app, admin, 'rater', project)]) {
      const socket = await connect(rater.token);
      let answered = 0;
      for (;;) {
        const claimed = await ack(socket, 'task:claim', { project: project.slug });
        if (!claimed.task) break;
        expect(claimed.task.questions.map((q: { name: string }) => q.name)).toEqual([k.question.name, 'note']);
        const submitted = await ack(socket, 'task:submit', {
          project: project.slug,
          taskId: claimed.task.id,
          annotation: { id: randomUUID(), answers: { [k.question.name]: k.answer } },
        });
        expect(submitted.error).toBeUndefined();
        answered++;
      }
      expect(answered).toBe(4);
    }
    const labels = await app.sql(`SELECT answers FROM labels WHERE project_id = $1 AND superseded_at IS NULL`, [project.id]);
    expect(labels).toHaveLength(4);

    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exported = (await app.app.get(ExportsService).exportNext(entity, { shardRows: 100 }))!;
    expect(exported.rows).toBe(4);
    const files = (format: string) => exported.manifest.files.filter((f) => f.format === format).map((f) => path.join(exported.directory, f.path));

    // TFRecord, read by a reader that shares no code with the writer
    const examples = execFileSync('python3', [READER, ...files('tfrecord')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown[]>);
    expect(examples).toHaveLength(4);
    for (const example of examples) {
      for (const [name, values] of Object.entries(k.features)) expect([name, example[name]]).toEqual([name, values]);
      expect(example.note).toBeUndefined(); // left blank: absent, not empty
    }
    const schema = fs.readFileSync(path.join(exported.directory, 'schema.pbtxt'), 'utf8');
    for (const name of Object.keys(k.features)) expect(schema).toContain(`name: "${name}"`);
    expect(schema).toContain('name: "body"'); // the input field keeps its own name

    // JSONL and CSV carry the same values (a list as JSON text in CSV); Parquet lists as repeated columns
    const jsonl = files('jsonl').flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    expect(jsonl).toHaveLength(4);
    for (const row of jsonl) for (const [name, value] of Object.entries(k.jsonl)) expect([name, row[name]]).toEqual([name, value]);
    const csv = files('csv').flatMap((file) => parse<Record<string, string>>(fs.readFileSync(file, 'utf8'), { columns: true }));
    for (const row of csv)
      for (const [name, value] of Object.entries(k.jsonl)) expect([name, row[name]]).toEqual([name, typeof value === 'string' ? value : JSON.stringify(value)]);
    let parquetRows = 0;
    for (const file of files('parquet')) {
      const cursor = (await ParquetReader.openFile(file)).getCursor();
      let row: Record<string, unknown> | null;
      while ((row = (await cursor.next()) as Record<string, unknown> | null)) {
        parquetRows++;
        for (const [name, values] of Object.entries(k.features)) {
          const read = row[name];
          const list = (Array.isArray(read) ? read : [read]).map((v) => (typeof v === 'bigint' ? Number(v) : v));
          expect([name, list]).toEqual([name, values]);
        }
      }
    }
    expect(parquetRows).toBe(4);
  });

  it('refuses a suggestion or an answer that does not fit its question, naming the field, and stores none of it', async () => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [KINDS[0].question, KINDS[4].question, { name: 'price', kind: 'numeric', min: 0, max: 100 }],
      routing: { strategy: 'entropy', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const post = (body: Record<string, unknown>) =>
      app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
        token: key,
        body: { model: { name: 'm', version: '1' }, input: { body: BODY }, scores: { sports: 0.5 }, ...body },
      });
    for (const [body, field] of [
      [{ suggestions: { ents: { spans: [{ start: 40, end: 48, label: 'ORG' }] } } }, 'suggestions.ents.spans.0.end'],
      [{ suggestions: { ents: { spans: [{ start: 0, end: 3, label: 'LOC' }] } } }, 'suggestions.ents.spans.0.label'],
      [{ suggestions: { price: { value: 5, interval: [6, 4] } } }, 'suggestions.price.interval'],
      [{ suggestions: { nope: { value: 1 } } }, 'suggestions.nope'],
    ] as const) {
      const reply = await post(body);
      expect([reply.status, reply.body.code, reply.body.field]).toEqual([400, 'predictions/invalid_suggestion', field]);
    }
    expect(await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id])).toEqual([{ n: 0 }]);

    expect((await post({ suggestions: { price: { value: 50, std: 2 } } })).status).toBe(201);
    const rater = await createUser(app, admin, 'rater', project);
    const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
    const submit = (answers: Record<string, unknown>) =>
      app.request('POST', `/api/v1/projects/${project.slug}/tasks/${claimed.body.task.id}/annotations`, {
        token: rater.token,
        body: { id: randomUUID(), answers },
      });
    for (const [answers, field] of [
      [{ topics: ['sports', 'nope'], ents: [], price: 5 }, 'answers.topics.1'],
      [{ topics: [], ents: [{ start: 0, end: 5, label: 'PER' }] }, 'answers.price'],
      [{ topics: [], ents: [], price: 101 }, 'answers.price'],
      [{ topics: [], ents: [{ start: 45, end: 49, label: 'PER' }], price: 5 }, 'answers'],
      [{ topics: [], ents: [], price: 5, extra: 1 }, 'answers.extra'],
    ] as const) {
      const reply = await submit(answers);
      expect([reply.status, reply.body.code, reply.body.field]).toEqual([400, 'labeling/invalid_answer', field]);
    }
    expect(await app.sql(`SELECT count(*)::int AS n FROM annotations WHERE project_id = $1`, [project.id])).toEqual([{ n: 0 }]);
    const old = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${claimed.body.task.id}/annotations`, {
      token: rater.token,
      body: { id: randomUUID(), label: 'sports' },
    });
    expect([old.status, old.body.code, old.body.field]).toEqual([400, 'labeling/invalid_answer', 'label']);
    const good = await submit({ topics: ['sports'], ents: [{ start: 44, end: 47, label: 'ORG' }], price: 5 });
    expect(good.status).toBe(201);
    expect(good.body.annotation.answers).toEqual({ topics: ['sports'], ents: [{ start: 44, end: 47, label: 'ORG' }], price: 5 });
  });
  it("decides a lone answer (an overlap of one) as the SQL consensus of every question would: the label's value, answers and agreement", async () => {
    // the submit takes the server's decision of a lone answer (decideAnswers) instead of deciding it again in SQL
    const questions = [
      KINDS[0].question,
      KINDS[1].question,
      KINDS[2].question,
      { ...KINDS[3].question, required: false },
      KINDS[4].question,
      { name: 'note', kind: 'text', required: false },
    ];
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions,
      routingQuestion: 'topics',
      overlap: 1,
      routing: { strategy: 'entropy', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const sets = [
      { topics: ['tech', 'sports'], quality: 2, price: 0.1, summary: '  two spaces around \n', ents: [...KINDS[4].answer], note: 'kept' },
      { topics: [], quality: 5, price: 9_999.75, ents: [] },
    ];
    const ingest = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, {
      token: key,
      body: sets.map((_, i) => ({ model: { name: 'm', version: '1' }, input: { body: BODY, n: i }, scores: { sports: 0.5, politics: 0.5, tech: 0.5 } })),
    });
    expect(ingest.body).toMatchObject({ accepted: sets.length, duplicates: 0 });
    const rater = await createUser(app, admin, 'rater', project);
    const socket = await connect(rater.token);
    for (let i = 0; i < sets.length; i++) {
      const claimed = await ack(socket, 'task:claim', { project: project.slug });
      const n = (await app.sql(`SELECT p.input->>'n' AS n FROM tasks t JOIN predictions p ON p.id = t.prediction_id WHERE t.id = $1`, [claimed.task.id]))[0].n;
      const given = sets[Number(n)];
      const submitted = await ack(socket, 'task:submit', { project: project.slug, taskId: claimed.task.id, annotation: { id: randomUUID(), answers: given } });
      expect(submitted.taskState).toBe('completed');
      const [stored] = await app.sql(
        `SELECT l.value, l.answers, l.agreement, l.source FROM labels l JOIN tasks t ON t.prediction_id = l.prediction_id WHERE t.id = $1 AND l.superseded_at IS NULL`,
        [claimed.task.id],
      );
      // what the SQL consensus makes of the answer as stored
      const [twin] = await app.sql(
        `SELECT d.kind, d.answers, d.agreement, backflow_answer_text('multi_label', d.answers->'topics') AS value
           FROM projects p, annotations a,
                backflow_decide_answers(p.questions, ARRAY[a.answers], (p.labeling_settings->>'agreementThreshold')::float8, 1) d
          WHERE p.id = $1 AND a.task_id = $2`,
        [project.id, claimed.task.id],
      );
      expect(twin.kind).toBe('agreed');
      expect(stored).toEqual({ value: twin.value, answers: twin.answers, agreement: twin.agreement, source: 'consensus' });
    }
    const decided = await app.sql(`SELECT answers FROM labels WHERE project_id = $1 AND superseded_at IS NULL ORDER BY value DESC`, [project.id]);
    // the text trimmed as its consensus does, the not-required text left out when not given
    expect(decided.map((r) => r.answers.summary)).toEqual(['two spaces around', undefined]);
  });

  it('generation: a rater sees the conversation and every response, starts from the first; a bad one is refused naming the field', async () => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'reply', kind: 'generation', maxResponses: 2 }],
      routing: { strategy: 'least_confidence', threshold: 0.3, explorationRate: 0, dedupeWindowMinutes: 0 },
    });
    expect(project).toMatchObject({ taskType: 'generation' });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const send = (reply: unknown) =>
      app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
        token: key,
        body: { id: randomUUID(), model: { name: 'assistant', version: '2' }, input: { surface: 'chat' }, suggestions: { reply } },
      });
    const refused = await send({ responses: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] });
    expect([refused.status, refused.body.field]).toEqual([400, 'suggestions.reply.responses']);
    const conversation = [
      { role: 'system', content: 'Answer in one line.' },
      { role: 'user', content: 'Write a loop in Python.' },
    ];
    const responses = [
      { text: 'for i in range(3): print(i)', model: { version: '2' }, meanLogprob: Math.log(0.4) },
      { text: 'while True: pass', model: { version: '3' } },
    ];
    // a geometric mean token probability of 0.4: doubt 0.6, past the threshold
    expect((await send({ messages: conversation, responses })).status).toBe(201);
    expect((await send({ messages: conversation, responses: [{ text: 'for i in range(3): print(i)', meanLogprob: Math.log(0.95) }] })).status).toBe(201);
    const [prediction] = await app.sql(`SELECT predicted_label FROM predictions WHERE project_id = $1 ORDER BY received_at LIMIT 1`, [project.id]);
    expect(prediction.predicted_label).toBe('for i in range(3): print(i)');

    const rater = await createUser(app, admin, 'rater', project);
    const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
    // the conversation and the responses, as sent: the rater corrects the first
    expect(claimed.body.task.suggestions.reply).toEqual({ messages: conversation, responses });
    const submitted = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${claimed.body.task.id}/annotations`, {
      token: rater.token,
      body: { id: randomUUID(), answers: { reply: 'for i in range(3):\n    print(i)' } },
    });
    expect(submitted.status).toBe(201);
    const [label] = await app.sql(`SELECT value, answers FROM labels WHERE project_id = $1 AND superseded_at IS NULL`, [project.id]);
    expect(label).toEqual({ value: 'for i in range(3):\n    print(i)', answers: { reply: 'for i in range(3):\n    print(i)' } });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task).toBeNull();
  });

  it('ranking: takes ranked lists, refuses a bad one naming the field, and two raters grade every candidate over sockets', async () => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'runs', kind: 'ranking', grades: [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` })), maxItems: 5, k: 3 }],
      overlap: 2,
      routing: { strategy: 'margin', threshold: 0.5, explorationRate: 0, dedupeWindowMinutes: 0 },
      export: { formats: ['tfrecord', 'jsonl'], splits: { train: 100, eval: 0 } },
    });
    expect(project.taskType).toBe('ranking');
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const list = (scores: number[], extra: Record<string, unknown> = {}) => ({
      model: { name: 'recommender', version: '7' },
      input: { user_id: 'u-1', hour: 7 },
      slice: { cohort: 'new' },
      suggestions: {
        runs: {
          candidates: scores.map((score, i) => ({ item: `run-${i}`, score, position: i + 1, features: { km: 5 + i, surface: i % 2 ? 'trail' : 'road' } })),
          ...extra,
        },
      },
    });
    const post = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: key, body });
    const dupe = list([3, 2, 1]);
    (dupe.suggestions.runs.candidates[2] as { item: string }).item = 'run-0';
    const notPermutation = list([3, 2, 1]);
    (notPermutation.suggestions.runs.candidates[1] as { position: number }).position = 1;
    for (const [body, field] of [
      [dupe, 'suggestions.runs.candidates.2.item'],
      [notPermutation, 'suggestions.runs.candidates.1.position'],
      [list([1, 2, 3, 4, 5, 6]), 'suggestions.runs.candidates'],
      [{ ...list([1]), suggestions: {} }, 'suggestions.runs'],
    ] as const) {
      const reply = await post(body);
      expect([reply.status, reply.body.code, reply.body.field]).toEqual([400, 'predictions/invalid_suggestion', field]);
    }
    expect(await app.sql(`SELECT count(*)::int AS n FROM predictions WHERE project_id = $1`, [project.id])).toEqual([{ n: 0 }]);

    // a clear first place is sure; a near tie at the top is routed
    const sure = await post(list([9, 1, 0.5]));
    const unsure = await post(list([2, 1.95, 1.9, -4]));
    expect([sure.status, unsure.status]).toEqual([201, 201]);
    const [stored] = await app.sql(`SELECT predicted_label, suggestions FROM predictions WHERE id = $1`, [unsure.body.id]);
    expect(stored.predicted_label).toBe('run-0\nrun-1\nrun-2\nrun-3');
    const tasks = await app.sql(`SELECT prediction_id FROM tasks WHERE project_id = $1`, [project.id]);
    expect(tasks.map((t) => t.prediction_id)).toEqual([unsure.body.id]);

    const grades = [
      { 'run-0': 3, 'run-1': 1, 'run-2': 0, 'run-3': 0 },
      { 'run-0': 2, 'run-1': 1, 'run-2': 0, 'run-3': 1 },
    ];
    for (const [r, given] of grades.entries()) {
      const rater = await createUser(app, admin, 'rater', project);
      const socket = await connect(rater.token);
      const claimed = await ack(socket, 'task:claim', { project: project.slug });
      // the list to grade, in the order shown, without the model's scores (the project does not show predictions)
      expect(claimed.task.suggestions.runs.candidates.map((c: Record<string, unknown>) => [c.item, c.position, c.score])).toEqual([
        ['run-0', 1, undefined],
        ['run-1', 2, undefined],
        ['run-2', 3, undefined],
        ['run-3', 4, undefined],
      ]);
      expect(claimed.task.suggestions.runs.candidates[1].features).toEqual({ km: 6, surface: 'trail' });
      const submit = (answer: Array<{ item: string; grade: number }>) =>
        ack(socket, 'task:submit', { project: project.slug, taskId: claimed.task.id, annotation: { id: randomUUID(), answers: { runs: answer } } });
      const answer = Object.entries(given).map(([item, grade]) => ({ item, grade }));
      if (r === 0) {
        // a grade of an item not in the list, or a candidate left out, is refused and nothing is stored
        for (const wrong of [[...answer.slice(0, 3), { item: 'run-9', grade: 1 }], answer.slice(0, 3)]) {
          const refused = await submit(wrong);
          expect([refused.error?.code, refused.error?.field]).toEqual(['labeling/invalid_answer', 'answers.runs']);
        }
        expect(await app.sql(`SELECT count(*)::int AS n FROM annotations WHERE project_id = $1`, [project.id])).toEqual([{ n: 0 }]);
      }
      const reply = await submit(answer.reverse());
      expect(reply.error).toBeUndefined();
      expect(reply.taskState).toBe(r === 0 ? 'queued' : 'completed');
    }
    // per item the lower median: run-0 [3, 2] → 2, run-3 [0, 1] → 0; every item within one grade
    const [label] = await app.sql(`SELECT value, answers, agreement FROM labels WHERE project_id = $1 AND superseded_at IS NULL`, [project.id]);
    expect(label).toEqual({
      value: 'run-0:2\nrun-1:1\nrun-2:0\nrun-3:0',
      answers: {
        runs: [
          { item: 'run-0', grade: 2 },
          { item: 'run-1', grade: 1 },
          { item: 'run-2', grade: 0 },
          { item: 'run-3', grade: 0 },
        ],
      },
      agreement: 1,
    });
    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exported = (await app.app.get(ExportsService).exportNext(entity, { shardRows: 100 }))!;
    const tfrecord = exported.manifest.files.filter((f) => f.format === 'tfrecord').map((f) => path.join(exported.directory, f.path));
    const [example] = execFileSync('python3', [READER, ...tfrecord], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown[]>);
    expect([example.runs_item, example.runs_grade]).toEqual([
      ['run-0', 'run-1', 'run-2', 'run-3'],
      [2, 1, 0, 0],
    ]);

    // what does not take a ranking yet says so: Label Studio, feedback rules
    const config = await app.request('GET', `/api/v1/projects/${project.slug}/export/label-studio/config`, { token: admin });
    expect([config.status, config.body.code, config.body.field]).toEqual([409, 'interop/unsupported_question', 'questions.runs']);
    const rules = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { feedbackRules: { rules: [{ eventType: 'click', answer: '$value', windowMinutes: 60 }] } },
    });
    expect([rules.status, rules.body.field]).toEqual([400, 'feedbackRules.rules.0.answer']);
  });

  it('turns feedback into answers of other kinds: a rating from an event’s value, a removed tag as a negative for that label', async () => {
    const refused = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `fb-bad-${Date.now()}`,
        name: 'x',
        questions: [{ name: 'stars', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `${value}` })) }],
        feedbackRules: { rules: [{ eventType: 'rated', label: 'good', windowMinutes: 60 }] },
      },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'feedbackRules.rules.0.label']);
    const stars = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'stars', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `${value}` })) }],
      routing: { threshold: 1, explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'rated', answer: '$value', windowMinutes: 60 }] },
    });
    const tags = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [KINDS[0].question],
      routing: { threshold: 1, explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'tag_removed', answer: { remove: '$value' }, windowMinutes: 60 }] },
    });
    const send = async (slug: string, prediction: Record<string, unknown>, events: Array<Record<string, unknown>>) => {
      const key = (await createApiKey(app, admin, slug, ['ingest'])).secret;
      const id = randomUUID();
      expect(
        (
          await app.request('POST', `/api/v1/projects/${slug}/predictions`, {
            token: key,
            body: { id, model: { name: 'm', version: '1' }, input: { n: 1 }, ...prediction },
          })
        ).status,
      ).toBe(201);
      const replies = [];
      for (const event of events)
        replies.push(await app.request('POST', `/api/v1/projects/${slug}/feedback`, { token: key, body: { id: randomUUID(), predictionId: id, ...event } }));
      return { id, replies };
    };
    const rated = await send(stars.slug, { suggestions: { stars: { value: 2 } } }, [
      { type: 'rated', value: 9 },
      { type: 'rated', value: 4 },
    ]);
    expect([rated.replies[0].status, rated.replies[0].body.code, rated.replies[0].body.field]).toEqual([400, 'feedback/invalid_value', 'value']);
    expect(rated.replies[1].status).toBe(201);
    expect(await app.sql(`SELECT value, source, answers FROM labels WHERE prediction_id = $1 AND superseded_at IS NULL`, [rated.id])).toEqual([
      { value: '4', source: 'feedback', answers: { stars: 4 } },
    ]);
    const tagged = await send(tags.slug, { scores: { sports: 0.9, politics: 0.1, tech: 0.8 } }, [{ type: 'tag_removed', value: 'tech' }]);
    expect(tagged.replies[0].status).toBe(201);
    expect(await app.sql(`SELECT value, answers FROM labels WHERE prediction_id = $1 AND superseded_at IS NULL`, [tagged.id])).toEqual([
      { value: 'sports', answers: { topics: ['sports'] } },
    ]);
  });

  it('ranking: clicks and completions grade the candidates they name, before or after the list arrives; a beaten first candidate routes the list', async () => {
    const grades = [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` }));
    const refused = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `rank-bad-${Date.now()}`,
        name: 'x',
        questions: [{ name: 'runs', kind: 'ranking', grades }],
        feedbackRules: { rules: [{ eventType: 'click', grade: 5, windowMinutes: 60 }] },
      },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'feedbackRules.rules.0.grade']);
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'runs', kind: 'ranking', grades }],
      // nothing is uncertain enough to route: only a contradiction makes a task
      routing: { strategy: 'margin', threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 },
      feedbackRules: {
        rules: [
          { eventType: 'click', grade: 1, windowMinutes: 60 },
          { eventType: 'completion', grade: 3, windowMinutes: 1440 },
        ],
      },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const feedback = (predictionId: string, body: Record<string, unknown>) =>
      app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: { id: randomUUID(), predictionId, ...body } });
    const list = (id: string) =>
      app.request('POST', `/api/v1/projects/${project.slug}/predictions`, {
        token: key,
        body: {
          id,
          model: { name: 'recommender', version: '7' },
          input: { user_id: 'u-7' },
          suggestions: { runs: { candidates: ['run-a', 'run-b', 'run-c'].map((item, i) => ({ item, score: 6 - 3 * i, position: i + 1 })) } },
        },
      });
    const current = async (id: string) =>
      app.sql(`SELECT value, source, answers, contradicts_prediction FROM labels WHERE prediction_id = $1 AND superseded_at IS NULL`, [id]);

    // a click that arrives before its list waits for it; one that names no item is refused where a rule grades it
    const early = randomUUID();
    const noItem = await feedback(early, { type: 'click' });
    expect([noItem.status, noItem.body.code, noItem.body.field]).toEqual([400, 'feedback/missing_item', 'item']);
    expect((await feedback(early, { type: 'click', item: 'run-a' })).status).toBe(201);
    expect(await current(early)).toEqual([]);
    expect((await list(early)).status).toBe(201);
    expect(await current(early)).toEqual([
      {
        value: 'run-a:1\nrun-b:0\nrun-c:0',
        source: 'feedback',
        answers: {
          runs: [
            { item: 'run-a', grade: 1 },
            { item: 'run-b', grade: 0 },
            { item: 'run-c', grade: 0 },
          ],
        },
        contradicts_prediction: false,
      },
    ]);

    // after the list: a completion of the third candidate beats the model's first, which nobody touched
    const late = randomUUID();
    expect((await list(late)).status).toBe(201);
    expect(await app.sql(`SELECT count(*)::int AS n FROM tasks WHERE project_id = $1`, [project.id])).toEqual([{ n: 0 }]);
    expect((await feedback(late, { type: 'click', item: 'run-c' })).status).toBe(201);
    expect((await feedback(late, { type: 'completion', item: 'run-c' })).status).toBe(201);
    // an item the list does not hold grades nothing
    expect((await feedback(late, { type: 'completion', item: 'run-z' })).status).toBe(201);
    const [label] = await current(late);
    expect(label).toEqual({
      value: 'run-a:0\nrun-b:0\nrun-c:3',
      source: 'feedback',
      answers: {
        runs: [
          { item: 'run-a', grade: 0 },
          { item: 'run-b', grade: 0 },
          { item: 'run-c', grade: 3 },
        ],
      },
      contradicts_prediction: true,
    });
    expect(await app.sql(`SELECT prediction_id, reason FROM tasks WHERE project_id = $1`, [project.id])).toEqual([
      { prediction_id: late, reason: 'contradiction' },
    ]);
  });
});

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { leftOf } from '@backflow/questions';
import { bradleyTerry, mulberry32, type Comparison } from '@backflow/ranking';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

/** A project that asks for a correction of a generation and a preference between its first two responses. */
const COMPARISON = {
  taskType: undefined,
  labels: undefined,
  questions: [
    { name: 'reply', kind: 'generation' },
    { name: 'better', kind: 'preference', of: 'reply' },
  ],
  routingQuestion: 'reply',
};

const READER = path.join(__dirname, '..', 'helpers', 'read_tfexamples.py');
const TASKS = 60;
// the challenger's responses win three times in four
const CHALLENGER_WINS = 0.75;

describe('generation: pairwise preferences with sides drawn per task, Bradley–Terry of the versions', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-generation-'));
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: root });
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('turns implicit feedback into labels: a thumbs-up keeps the response, an edit is a correction that contradicts a confident model and routes it', async () => {
    const numeric = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `thumbs-bad-${Date.now()}`,
        name: 'x',
        questions: [{ name: 'price', kind: 'numeric' }],
        feedbackRules: { rules: [{ eventType: 'thumbs_up', answer: '$predicted', windowMinutes: 60 }] },
      },
    });
    expect([numeric.status, numeric.body.field]).toEqual([400, 'feedbackRules.rules.0.answer']);
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'reply', kind: 'generation' }],
      // nothing is doubtful enough to route on its own: only a contradiction makes a task
      routing: { strategy: 'least_confidence', threshold: 0.99, explorationRate: 0, dedupeWindowMinutes: 0, contradictionConfidence: 0.8 },
      feedbackRules: {
        rules: [
          { eventType: 'thumbs_up', answer: '$predicted', windowMinutes: 60 },
          { eventType: 'edit', answer: '$value', windowMinutes: 1440, priority: 1 },
        ],
      },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const ids = [randomUUID(), randomUUID()];
    const body = ids.map((id, i) => ({
      id,
      model: { name: 'assistant', version: 'v1' },
      input: { surface: 'web' },
      suggestions: {
        reply: { messages: [{ role: 'user', content: `Plan my run ${i}` }], responses: [{ text: `Run 5 km easy (${i}).`, meanLogprob: Math.log(0.9) }] },
      },
    }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body })).status).toBe(200);
    const feedback = await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, {
      token: key,
      body: [
        { id: randomUUID(), predictionId: ids[0], type: 'thumbs_up' },
        { id: randomUUID(), predictionId: ids[1], type: 'thumbs_down' },
        { id: randomUUID(), predictionId: ids[1], type: 'edit', value: 'Run 3 km easy, then stretch.' },
      ],
    });
    expect(feedback.status).toBe(201);
    const labels = await app.sql(
      `SELECT prediction_id, value, source, contradicts_prediction FROM labels WHERE project_id = $1 AND superseded_at IS NULL ORDER BY value`,
      [project.id],
    );
    expect(labels).toEqual([
      { prediction_id: ids[1], value: 'Run 3 km easy, then stretch.', source: 'feedback', contradicts_prediction: true },
      { prediction_id: ids[0], value: 'Run 5 km easy (0).', source: 'feedback', contradicts_prediction: false },
    ]);
    expect(await app.sql(`SELECT prediction_id, reason FROM tasks WHERE project_id = $1`, [project.id])).toEqual([
      { prediction_id: ids[1], reason: 'contradiction' },
    ]);
  });

  it('sends a thumbs-down or a regenerate to raters without labeling it, and measures how far each edit moved the response', async () => {
    const both = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `route-bad-${Date.now()}`,
        name: 'x',
        questions: [{ name: 'reply', kind: 'generation' }],
        feedbackRules: { rules: [{ eventType: 'thumbs_down', route: true, answer: '$predicted', windowMinutes: 60 }] },
      },
    });
    expect([both.status, both.body.field]).toEqual([400, 'feedbackRules.rules.0.answer']);
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'reply', kind: 'generation' }],
      // confident responses: only the users' signals make tasks
      routing: { strategy: 'least_confidence', threshold: 0.99, explorationRate: 0, dedupeWindowMinutes: 0 },
      feedbackRules: {
        rules: [
          { eventType: 'thumbs_down', route: true, windowMinutes: 60 },
          { eventType: 'regenerate', route: true, windowMinutes: 60 },
        ],
      },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const body = ids.map((id, i) => ({
      id,
      model: { name: 'assistant', version: 'v1' },
      input: { surface: 'web' },
      suggestions: {
        reply: { messages: [{ role: 'user', content: `Plan my run ${i}` }], responses: [{ text: 'Run 5 km easy (3).', meanLogprob: Math.log(0.95) }] },
      },
    }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body })).status).toBe(200);
    const [down, again, quiet, edited] = ids;
    const events = [
      { id: randomUUID(), predictionId: down, type: 'thumbs_down' },
      { id: randomUUID(), predictionId: again, type: 'regenerate' },
      { id: randomUUID(), predictionId: quiet, type: 'copy' },
      // one code point changed of 18; no rule reads it, the distance is measured all the same
      { id: randomUUID(), predictionId: edited, type: 'edit', value: 'Run 5 km easy (3)!' },
      // a second thumbs-down on the same prediction does not make a second task
      { id: randomUUID(), predictionId: down, type: 'thumbs_down' },
    ];
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events })).status).toBe(201);
    expect(await app.sql(`SELECT prediction_id, reason FROM tasks WHERE project_id = $1 ORDER BY prediction_id`, [project.id])).toEqual(
      [down, again].sort().map((id) => ({ prediction_id: id, reason: 'contradiction' })),
    );
    expect(await app.sql(`SELECT count(*)::int AS n FROM labels WHERE project_id = $1`, [project.id])).toEqual([{ n: 0 }]);
    const distances = await app.sql(`SELECT prediction_id, type, edit_distance FROM feedback_events WHERE project_id = $1 AND edit_distance IS NOT NULL`, [
      project.id,
    ]);
    expect(distances).toEqual([{ prediction_id: edited, type: 'edit', edit_distance: 1 / 18 }]);

    // the signals per version: each type's share of the predictions, the edits' mean distance
    const signals = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/feedback?days=1`, { token: admin });
    expect(signals.status).toBe(200);
    expect(signals.body.types).toEqual(['thumbs_down', 'copy', 'edit', 'regenerate']);
    const [v1] = signals.body.versions;
    expect(v1).toMatchObject({ modelVersion: 'v1', predictions: 4, edits: { events: 1, meanDistance: 1 / 18 } });
    expect(
      v1.events.map((e: { type: string; predictions: number; events: number; rate: { value: number } }) => [e.type, e.predictions, e.events, e.rate.value]),
    ).toEqual([
      ['thumbs_down', 1, 2, 0.25],
      ['copy', 1, 1, 0.25],
      ['edit', 1, 1, 0.25],
      ['regenerate', 1, 1, 0.25],
    ]);
    const rater = await createUser(app, admin, 'rater', project);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/feedback`, { token: rater.token })).status).toBe(403);
  });

  it('shows each pair with its sides drawn per task, records the side, and ranks the challenger above the champion with its interval', async () => {
    const refused = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: { slug: `pref-bad-${Date.now()}`, name: 'x', questions: [{ name: 'better', kind: 'preference', of: 'reply' }] },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'questions.0.of']);
    // DPO pairs need a preference question over the generation
    const noPairs = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: { slug: `dpo-bad-${Date.now()}`, name: 'x', questions: [{ name: 'reply', kind: 'generation' }], export: { formats: ['dpo_jsonl'] } },
    });
    expect([noPairs.status, noPairs.body.field]).toEqual([400, 'export.formats.0']);
    const project = await createProject(app, admin, {
      ...COMPARISON,
      // every prediction is a comparison task
      routing: { strategy: 'least_confidence', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
      export: { formats: ['jsonl', 'sft_jsonl', 'dpo_jsonl', 'sft_tfrecord', 'dpo_tfrecord'], splits: { train: 100, eval: 0 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const random = mulberry32(21);
    // champion v1 and challenger v2 answered the same prompt; which of them comes first varies
    const predictions = Array.from({ length: TASKS }, (_, i) => {
      const challengerFirst = i % 2 === 0;
      const responses = [
        { text: `v1 answer ${i}`, model: { version: 'v1' } },
        { text: `v2 answer ${i}`, model: { version: 'v2' } },
      ];
      return {
        id: randomUUID(),
        model: { name: 'assistant', version: 'v2' },
        input: { surface: i % 3 === 0 ? 'mobile' : 'web' },
        slice: { surface: i % 3 === 0 ? 'mobile' : 'web' },
        suggestions: { reply: { messages: [{ role: 'user', content: `question ${i}` }], responses: challengerFirst ? responses.reverse() : responses } },
      };
    });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions })).body).toMatchObject({
      accepted: TASKS,
      duplicates: 0,
    });

    const rater = await createUser(app, admin, 'rater', project);
    let firstOnLeft = 0;
    const expected: Comparison[] = [];
    const surfaces: string[] = [];
    for (;;) {
      const claimed = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} });
      const task = claimed.body.task;
      if (!task) break;
      const pair = task.suggestions.better;
      // the side was drawn for this task, the same the export will record
      expect(pair.left).toBe(leftOf(task.id));
      if (pair.left === 'first') firstOnLeft++;
      const versions = [pair.first.model.version, pair.second.model.version];
      const challenger = versions.indexOf('v2') === 0 ? 'first' : 'second';
      const roll = random();
      const preferred = roll < 0.05 ? 'tie' : roll < 0.05 + CHALLENGER_WINS * 0.95 ? challenger : challenger === 'first' ? 'second' : 'first';
      expected.push({ a: versions[0], b: versions[1], winner: preferred === 'first' ? 'a' : preferred === 'second' ? 'b' : 'tie' });
      surfaces.push(task.input.surface);
      if (expected.length === 0) {
        // the side is the task's: an answer that records the other one is refused, naming it
        const wrongSide = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
          token: rater.token,
          body: { id: randomUUID(), answers: { reply: pair.first.text, better: { preferred, left: pair.left === 'first' ? 'second' : 'first' } } },
        });
        expect([wrongSide.status, wrongSide.body.code, wrongSide.body.field]).toEqual([400, 'labeling/invalid_answer', 'answers.better.left']);
      }
      const submitted = await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
        token: rater.token,
        body: { id: randomUUID(), answers: { reply: pair.first.text, better: { preferred, left: pair.left } } },
      });
      expect(submitted.status).toBe(201);
    }
    expect(expected).toHaveLength(TASKS);
    // balanced over the tasks: each side shown first about half the time
    expect(firstOnLeft).toBeGreaterThan(TASKS * 0.25);
    expect(firstOnLeft).toBeLessThan(TASKS * 0.75);

    const report = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/preferences/better`, { token: admin });
    expect(report.status).toBe(200);
    const fit = bradleyTerry(expected, { reference: 'v1' })!;
    const v2 = fit.strengths.find((s) => s.player === 'v2')!;
    expect(report.body).toMatchObject({ question: 'better', of: 'reply', labels: TASKS, comparisons: TASKS, bothBad: 0, champion: 'v1' });
    expect(report.body.versions[0].modelVersion).toBe('v2');
    expect(report.body.versions[0].logStrength).toBeCloseTo(v2.logStrength, 9);
    expect(report.body.versions[0].low).toBeGreaterThan(0);
    expect(report.body.challenger).toMatchObject({ modelVersion: 'v2', comparisons: TASKS, verdict: 'better' });
    // measured against v2 as the champion, v1 is the one losing (the newest other version): an alert names it
    const reversed = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/preferences/better?champion=v2`, { token: admin });
    expect(reversed.body.challenger).toMatchObject({ modelVersion: 'v1', verdict: 'worse' });
    const mobile = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/preferences/better?slice=surface%3Dmobile`, { token: admin });
    expect(mobile.body.labels).toBe(TASKS / 3);
    expect(mobile.body.slices).toEqual([]);
    // per slice, from that slice's preferences alone: the fit a hand computation over them gives
    expect(report.body.slices.map((s: { slice: string }) => s.slice)).toEqual(['surface=web', 'surface=mobile']);
    for (const row of report.body.slices) {
      const within = expected.filter((_, i) => `surface=${surfaces[i]}` === row.slice);
      const own = bradleyTerry(within, { reference: 'v1' })!.strengths.find((s) => s.player === 'v2')!;
      expect(row.comparisons).toBe(within.length);
      expect(row.winProbability.value).toBeCloseTo(own.winProbability.value, 9);
      expect(row.winProbability.low).toBeCloseTo(own.winProbability.low, 9);
    }
    // the challenger is better: no alert
    const calm = await app.request('POST', `/api/v1/projects/${project.slug}/monitoring/evaluate`, { token: admin });
    expect(calm.body.raised.filter((a: { metric: string }) => a.metric === 'win_rate')).toEqual([]);
    const missing = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/preferences/reply`, { token: admin });
    expect([missing.status, missing.body.code]).toEqual([404, 'monitoring/not_a_preference']);

    // the export records the preference by response and the side it was shown on
    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const exported = (await app.app.get(ExportsService).exportNext(entity, { shardRows: 1_000 }))!;
    const linesOf = (format: string) =>
      exported.manifest.files
        .filter((f) => f.format === format)
        .flatMap((f) => fs.readFileSync(path.join(exported.directory, f.path), 'utf8').split('\n'))
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, any>);
    const rows = linesOf('jsonl');
    expect(rows).toHaveLength(TASKS);
    const tasks = await app.sql(`SELECT id::text, prediction_id FROM tasks WHERE project_id = $1`, [project.id]);
    const taskOf = new Map(tasks.map((t) => [t.prediction_id, t.id]));
    for (const row of rows) {
      expect(['first', 'second', 'tie']).toContain(row.better);
      expect(row.better_left).toBe(leftOf(taskOf.get(row.prediction_id)));
      expect(String(row.reply)).toMatch(/^v[12] answer \d+$/);
    }

    // fine-tuning shapes: the chat with the corrected response (SFT), and the pairs that name a better response (DPO, ties left out)
    const sft = linesOf('sft_jsonl');
    expect(sft).toHaveLength(TASKS);
    for (const line of sft) {
      expect(Object.keys(line)).toEqual(['messages']);
      expect(line.messages[0]).toEqual({ role: 'user', content: expect.stringMatching(/^question \d+$/) });
      expect(line.messages[1]).toMatchObject({ role: 'assistant', content: expect.stringMatching(/^v[12] answer \d+$/) });
    }
    const dpo = linesOf('dpo_jsonl');
    const decisive = expected.filter((c) => c.winner !== 'tie');
    expect(dpo).toHaveLength(decisive.length);
    const chosenVersions = dpo.map((line) => {
      expect(Object.keys(line)).toEqual(['prompt', 'chosen', 'rejected']);
      expect(line.prompt).toEqual([{ role: 'user', content: expect.stringMatching(/^question \d+$/) }]);
      const [chosen, rejected] = [line.chosen[0].content as string, line.rejected[0].content as string];
      expect(chosen.split(' ')[2]).toBe(rejected.split(' ')[2]); // the same prompt's two answers
      return chosen.slice(0, 2);
    });
    expect(chosenVersions.filter((v) => v === 'v2')).toHaveLength(decisive.filter((c) => (c.winner === 'a' ? c.a : c.b) === 'v2').length);

    // the same examples as tf.Example, read by a reader that shares no code with the writer
    const examplesOf = (format: string) =>
      execFileSync('python3', [READER, ...exported.manifest.files.filter((f) => f.format === format).map((f) => path.join(exported.directory, f.path))], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown[]>);
    const sftExamples = examplesOf('sft_tfrecord');
    expect(sftExamples.map((e) => ({ messages: e.messages_role.map((role, i) => ({ role, content: e.messages_content[i] })) }))).toEqual(sft);
    for (const e of sftExamples) {
      expect(e.label_source).toEqual(['consensus']);
      expect(e.model_version).toEqual(['v2']);
      expect(rows.map((r) => r.prediction_id)).toContain(e.prediction_id[0]);
    }
    const dpoExamples = examplesOf('dpo_tfrecord');
    expect(
      dpoExamples.map((e) => ({
        prompt: e.prompt_role.map((role, i) => ({ role, content: e.prompt_content[i] })),
        chosen: [{ role: 'assistant', content: e.chosen[0] }],
        rejected: [{ role: 'assistant', content: e.rejected[0] }],
      })),
    ).toEqual(dpo);
    for (const e of dpoExamples) {
      expect(String(e.chosen[0]).slice(0, 2)).toBe(e.chosen_model_version[0]);
      expect(String(e.rejected[0]).slice(0, 2)).toBe(e.rejected_model_version[0]);
    }
  });

  it("alerts when raters prefer the champion to a newer version: the win rate's interval below one half", async () => {
    const project = await createProject(app, admin, {
      ...COMPARISON,
      routing: { strategy: 'least_confidence', threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      labeling: { goldRate: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const rater = await createUser(app, admin, 'rater', project);
    const random = mulberry32(9);
    /** `n` prompts answered by v1 and `other`, every one judged, `other` winning with probability `wins`. */
    const judge = async (other: string, n: number, wins: number, at: number) => {
      const body = Array.from({ length: n }, (_, i) => ({
        id: randomUUID(),
        model: { name: 'assistant', version: other },
        timestamp: new Date(at + i * 1_000).toISOString(),
        input: { surface: 'web' },
        suggestions: {
          reply: {
            responses: [
              { text: `v1 says ${i}`, model: { version: 'v1' } },
              { text: `${other} says ${i}`, model: { version: other } },
            ],
          },
        },
      }));
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body })).status).toBe(200);
      for (;;) {
        const task = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body.task;
        if (!task) break;
        const pair = task.suggestions.better;
        const preferred = random() < wins ? 'second' : 'first';
        await app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, {
          token: rater.token,
          body: { id: randomUUID(), answers: { reply: pair.first.text, better: { preferred, left: pair.left } } },
        });
      }
    };
    // last week v2 was compared and held its own; today v3 is, and loses nine times in ten
    await judge('v2', 20, 0.5, Date.now() - 7 * 24 * 3_600_000);
    await judge('v3', 40, 0.1, Date.now() - 3_600_000);
    const evaluated = await app.request('POST', `/api/v1/projects/${project.slug}/monitoring/evaluate`, { token: admin });
    const alerts = evaluated.body.raised.filter((a: { metric: string }) => a.metric === 'win_rate');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'accuracy', metric: 'win_rate', slice: null, baseline: 0.5 });
    expect(alerts[0].message).toMatch(/^raters prefer v1 to v3 on "better": v3 won \d+\.\d% of 40 comparisons/);
    // judged again, the open alert is not raised twice
    const again = await app.request('POST', `/api/v1/projects/${project.slug}/monitoring/evaluate`, { token: admin });
    expect(again.body.raised.filter((a: { metric: string }) => a.metric === 'win_rate')).toEqual([]);
  });

  it('champion and challenger: a prompt answered by two versions is explored at the challenger rate, its inclusion probability stored; samples of one version are not', async () => {
    const project = await createProject(app, admin, {
      ...COMPARISON,
      // nothing uncertain enough on its own, no exploration: only the challenger rate routes
      routing: { strategy: 'least_confidence', threshold: 1, explorationRate: 0, challengerRate: 0.5, dedupeWindowMinutes: 0 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const prediction = (i: number, second: string) => ({
      id: randomUUID(),
      model: { name: 'assistant', version: 'v1' },
      input: { n: i },
      suggestions: {
        reply: {
          responses: [
            { text: `a ${i}`, model: { version: 'v1' }, meanLogprob: -0.01 },
            { text: `b ${i}`, model: { version: second } },
          ],
        },
      },
    });
    const pairs = Array.from({ length: 200 }, (_, i) => prediction(i, 'v2'));
    const samples = Array.from({ length: 100 }, (_, i) => prediction(1_000 + i, 'v1'));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [...pairs, ...samples] })).status).toBe(200);
    const tasks = await app.sql(
      `SELECT t.reason, t.inclusion_probability AS p, (p.input->>'n')::int AS n FROM tasks t JOIN predictions p ON p.id = t.prediction_id WHERE t.project_id = $1`,
      [project.id],
    );
    // about half of the pairs (a binomial draw: 200 × 0.5 ± 3σ), none of the samples
    expect(tasks.length).toBeGreaterThan(100 - 22);
    expect(tasks.length).toBeLessThan(100 + 22);
    expect(tasks.every((t) => t.n < 1_000 && t.reason === 'exploration' && Number(t.p) === 0.5)).toBe(true);
  });
});

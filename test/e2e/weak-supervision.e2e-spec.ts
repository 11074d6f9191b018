import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExportsService } from '../../server/src/exports/exports.service';
import { WeakService } from '../../server/src/weak/weak.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject, createUser } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';

// three functions over mail: "free" in the subject and a dollar amount vote spam, a French sender votes ham
const FUNCTIONS = [
  { name: 'free', label: 'spam', when: { kind: 'keywords', on: { feature: 'subject' }, keywords: ['free'] } },
  { name: 'dollars', label: 'spam', when: { kind: 'regex', on: { feature: 'subject' }, pattern: '\\$\\d+' } },
  { name: 'french', label: 'ham', when: { kind: 'in', on: { slice: 'country' }, values: ['FR'] } },
];

/** Subjects and countries in a fixed pattern, so each function's votes can be counted by hand. */
function mail(i: number, truth: 'ham' | 'spam') {
  const subject = [`free entry ${i}`, `win $${i}`, `free $${i} now`, `hello ${i}`][i % 4];
  return {
    id: randomUUID(),
    model: { name: 'mail', version: '1' },
    input: { subject, truth },
    scores: { ham: 0.8, spam: 0.2 },
    slice: { country: i % 3 === 0 ? 'FR' : 'DE' },
  };
}

describe('weak supervision: labeling functions over traffic', () => {
  const exportRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-weak-'));
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ EXPORT_ROOT: exportRoot });
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(exportRoot, { recursive: true, force: true });
  });

  /** A rater claims task after task and answers each with the label `answer` gives, until none is left. */
  async function labelEveryTask(
    slug: string,
    token: string,
    answer: (task: { id: string; input: Record<string, unknown>; machineLabel?: unknown }) => string | Promise<string>,
  ) {
    for (;;) {
      const { body } = await app.request('POST', `/api/v1/projects/${slug}/tasks/claim`, { token, body: {} });
      if (!body.task) return;
      await app.request('POST', `/api/v1/projects/${slug}/tasks/${body.task.id}/annotations`, {
        token,
        body: { id: randomUUID(), label: await answer(body.task) },
      });
    }
  }

  it('refuses a pattern that could backtrack catastrophically, a label the project lacks and a repeated name, naming the field, and stores none of it', async () => {
    const project = await createProject(app, admin);
    const patch = (weakSupervision: unknown) => app.request('PATCH', `/api/v1/projects/${project.slug}`, { token: admin, body: { weakSupervision } });
    const cases: Array<[unknown, string]> = [
      [
        { functions: [{ name: 'evil', label: 'spam', when: { kind: 'regex', on: { feature: 'subject' }, pattern: '(a+)+$' } }] },
        'weakSupervision.functions.0.when.pattern',
      ],
      [
        { functions: [{ name: 'bad', label: 'spam', when: { kind: 'regex', on: { feature: 'subject' }, pattern: '([a-z' } }] },
        'weakSupervision.functions.0.when.pattern',
      ],
      [{ functions: [{ name: 'x', label: 'phish', when: { kind: 'score', of: 'spam', min: 0.9 } }] }, 'weakSupervision.functions.0.label'],
      [{ functions: [FUNCTIONS[0], { ...FUNCTIONS[1], name: 'free' }] }, 'weakSupervision.functions.1.name'],
      [{ functions: [{ name: 'open', label: 'spam', when: { kind: 'threshold', on: { feature: 'links' } } }] }, 'weakSupervision.functions.0.when.min'],
    ];
    for (const [body, field] of cases) {
      const refused = await patch(body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'validation/invalid', field });
    }
    // nor at creation
    const created = await app.request('POST', '/api/v1/projects', {
      token: admin,
      body: {
        slug: `w-${randomUUID().slice(0, 8)}`,
        name: 'Evil',
        taskType: 'single_label',
        labels: [{ name: 'ham' }, { name: 'spam' }],
        weakSupervision: cases[0][0],
      },
    });
    expect(created.status).toBe(400);
    expect(created.body.field).toBe('weakSupervision.functions.0.when.pattern');
    const [stored] = await app.sql(`SELECT weak_supervision FROM projects WHERE id = $1`, [project.id]);
    expect(stored.weak_supervision).toEqual({ functions: [], routeConflicts: true });
    // a question of another kind has no labels to vote
    const rating = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'stars', kind: 'rating', points: [1, 2, 3].map((value) => ({ value, name: `s${value}` })) }],
    });
    const refused = await app.request('PATCH', `/api/v1/projects/${rating.slug}`, { token: admin, body: { weakSupervision: { functions: [FUNCTIONS[0]] } } });
    expect(refused.body).toMatchObject({ code: 'validation/invalid', field: 'weakSupervision.functions' });
  });

  it('routes what the functions disagree on (reason weak), and reports each function as Snorkel does, feedback rules beside them', async () => {
    const project = await createProject(app, admin, {
      routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 },
      weakSupervision: { functions: FUNCTIONS },
      feedbackRules: { rules: [{ eventType: 'report', label: 'spam', windowMinutes: 60 }] },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const truths = Array.from({ length: 120 }, (_, i) => (i % 4 === 3 ? 'ham' : i % 5 === 0 ? 'ham' : 'spam'));
    const batch = truths.map((truth, i) => mail(i, truth));
    const ingested = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: batch });
    expect(ingested.status).toBe(200);
    // a conflict: a spam vote (free or dollars: subjects 0, 1, 2 of every 4) on a French prediction (every third)
    const conflicting = batch.filter((p, i) => i % 4 !== 3 && p.slice.country === 'FR');
    expect(ingested.body.routed.byReason.weak).toBe(conflicting.length);
    const tasks: Array<{ prediction_id: string; reason: string; inclusion_probability: number }> = await app.sql(
      `SELECT prediction_id, reason, inclusion_probability FROM tasks WHERE project_id = $1`,
      [project.id],
    );
    expect(new Set(tasks.map((t) => t.prediction_id))).toEqual(new Set(conflicting.map((p) => p.id)));
    expect(tasks.every((t) => t.reason === 'weak' && t.inclusion_probability === 1)).toBe(true);
    // a single prediction takes the same path (subject "free…", French)
    const lone = mail(120, 'spam');
    const single = await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: key, body: lone });
    expect(single.body.routed.byReason.weak).toBe(1);

    // raters label the conflicts with the truth; a feedback rule labels every tenth prediction spam
    const rater = await createUser(app, admin, 'rater', project);
    await labelEveryTask(project.slug, rater.token, (task) => task.input.truth as string);
    const reported = batch.filter((_, i) => i % 10 === 0);
    const events = reported.map((p) => ({ id: randomUUID(), predictionId: p.id, type: 'report' }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events })).status).toBe(201);

    const analysis = await app.request('GET', `/api/v1/projects/${project.slug}/weak-supervision/analysis?limit=1000`, { token: admin });
    expect(analysis.status).toBe(200);
    const all = [...batch, lone];
    expect(analysis.body.examined).toBe(121);
    // by hand over the 120 of the batch and the single one
    const votes = all.map((p, i) => {
      const kind = i % 4;
      const french = p.slice.country === 'FR';
      return { free: kind === 0 || kind === 2, dollars: kind === 1 || kind === 2, french, report: i % 10 === 0 && i < 120 };
    });
    const share = (n: number) => n / all.length;
    const free = analysis.body.functions.find((f: { name: string }) => f.name === 'free');
    expect(free.coverage).toBeCloseTo(share(votes.filter((v) => v.free).length), 12);
    expect(free.overlaps).toBeCloseTo(share(votes.filter((v) => v.free && (v.dollars || v.french || v.report)).length), 12);
    // free votes spam: a conflict with french (ham) only
    expect(free.conflicts).toBeCloseTo(share(votes.filter((v) => v.free && v.french).length), 12);
    const french = analysis.body.functions.find((f: { name: string }) => f.name === 'french');
    expect(french.conflicts).toBeCloseTo(share(votes.filter((v) => v.french && (v.free || v.dollars || v.report)).length), 12);
    // accuracy against the human labels: the conflicts were labelled with their truth
    const labelled = [...conflicting, lone].filter((p) => /^free/.test(p.input.subject));
    const right = labelled.filter((p) => p.input.truth === 'spam').length;
    expect(free).toMatchObject({ source: 'function', polarity: ['spam'], correct: right, incorrect: labelled.length - right });
    expect(free.empiricalAccuracy.value).toBeCloseTo(right / labelled.length, 12);
    expect(free.empiricalAccuracy.low).toBeLessThan(free.empiricalAccuracy.value);
    expect(free.estimatedAccuracy).toEqual(expect.any(Number));
    // the feedback rule votes what it labelled
    const rule = analysis.body.functions.find((f: { source: string }) => f.source === 'feedback_rule');
    expect(rule).toMatchObject({ name: 'feedback rules[0]', label: 'spam', polarity: ['spam'] });
    expect(rule.coverage).toBeCloseTo(share(reported.length), 12);
    expect(analysis.body.coverage).toBeCloseTo(share(votes.filter((v) => v.free || v.dollars || v.french || v.report).length), 12);
    expect(analysis.body.humanLabelled).toBe(conflicting.length + 1);
    expect(analysis.body.labelModel.priors).toEqual({ ham: expect.any(Number), spam: expect.any(Number) });

    // a candidate function is previewed over the same traffic before it is saved
    const candidate = { name: 'hello', label: 'ham', when: { kind: 'keywords', on: { feature: 'subject' }, keywords: ['hello'] } };
    const preview = await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/preview`, {
      token: admin,
      body: { function: candidate, limit: 1000 },
    });
    expect(preview.status).toBe(200);
    const hello = preview.body.functions.find((f: { name: string }) => f.name === 'hello');
    expect(hello.coverage).toBeCloseTo(share(votes.filter((_, i) => i % 4 === 3 && i < 120).length), 12);
    expect(preview.body.votes).toHaveLength(20);
    expect(preview.body.votes[0]).toMatchObject({ predictionId: expect.any(String), vote: 'ham' });
    const [settings] = await app.sql(`SELECT weak_supervision FROM projects WHERE id = $1`, [project.id]);
    expect(settings.weak_supervision.functions.map((f: { name: string }) => f.name)).toEqual(['free', 'dollars', 'french']);
    const refused = await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/preview`, {
      token: admin,
      body: { function: { ...candidate, when: { kind: 'regex', on: { feature: 'subject' }, pattern: '(x+x+)+y' } } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe('function.when.pattern');
    const unknownLabel = await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/preview`, {
      token: admin,
      body: { function: { ...candidate, label: 'phish' } },
    });
    expect(unknownLabel.body).toMatchObject({ code: 'validation/invalid', field: 'function.label' });
  });

  it('writes the label model’s labels where no one labelled, weighted by their probability, never over a human or feedback label, and exports them when asked', async () => {
    const project = await createProject(app, admin, {
      routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 },
      weakSupervision: { functions: FUNCTIONS, weakLabels: { minProbability: 0.6 } },
      feedbackRules: { rules: [{ eventType: 'report', label: 'spam', windowMinutes: 60 }] },
      export: { formats: ['jsonl'], sources: ['consensus', 'feedback', 'weak'] },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const batch = Array.from({ length: 200 }, (_, i) => mail(i, i % 4 === 3 || i % 5 === 0 ? 'ham' : 'spam'));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: batch })).status).toBe(200);
    // raters label the conflicts first
    const rater = await createUser(app, admin, 'rater', project);
    await labelEveryTask(project.slug, rater.token, (task) => task.input.truth as string);
    const human = new Set(
      (await app.sql<{ prediction_id: string }>(`SELECT prediction_id FROM labels WHERE project_id = $1 AND source = 'consensus'`, [project.id])).map(
        (r) => r.prediction_id,
      ),
    );
    expect(human.size).toBeGreaterThan(20);

    const pass = await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin });
    expect(pass.status).toBe(200);
    expect(pass.body.examined).toBe(200);
    const weak: Array<{ prediction_id: string; value: string; weight: number; agreement: number; superseded_at: Date | null }> = await app.sql(
      `SELECT prediction_id, value, weight, agreement, superseded_at FROM labels WHERE project_id = $1 AND source = 'weak'`,
      [project.id],
    );
    expect(weak).toHaveLength(pass.body.labelled);
    // every voted prediction without a human label got one (a single vote is confident enough here), none with a human label
    const voted = batch.filter((p, i) => i % 4 !== 3 || p.slice.country === 'FR');
    expect(new Set(weak.map((w) => w.prediction_id))).toEqual(new Set(voted.filter((p) => !human.has(p.id)).map((p) => p.id)));
    for (const w of weak) {
      expect(w.weight).toBeGreaterThanOrEqual(0.6);
      expect(w.weight).toBe(w.agreement);
      expect(w.superseded_at).toBeNull();
    }
    // a dollar amount alone reads spam
    const dollars = batch.find((p, i) => i % 4 === 1 && p.slice.country === 'DE')!;
    expect(weak.find((w) => w.prediction_id === dollars.id)?.value).toBe('spam');
    // a second pass writes nothing again
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin })).body.labelled).toBe(0);
    // the scheduled pass leaves predictions younger than a quarter of an hour for later (one that began earlier may commit after them)
    const weakService = app.app.get(WeakService);
    const entity = (await app.app.get(ProjectsService).findBySlug(project.slug))!;
    const younger = Array.from({ length: 8 }, (_, i) => mail(500 + 4 * i, 'spam'));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: younger })).status).toBe(200);
    expect(await weakService.labelNew(entity)).toMatchObject({ examined: 0, labelled: 0 });
    // asked for now, it takes them
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin })).body).toMatchObject({
      examined: 8,
      labelled: 8,
    });

    // feedback on a weakly labelled prediction supersedes the weak label
    const reported = weak[0].prediction_id;
    expect(
      (
        await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, {
          token: key,
          body: [{ id: randomUUID(), predictionId: reported, type: 'report' }],
        })
      ).status,
    ).toBe(201);
    const [now] = await app.sql(`SELECT source FROM labels WHERE project_id = $1 AND prediction_id = $2 AND superseded_at IS NULL`, [project.id, reported]);
    expect(now.source).toBe('feedback');
    const [was] = await app.sql(`SELECT superseded_at FROM labels WHERE project_id = $1 AND prediction_id = $2 AND source = 'weak'`, [project.id, reported]);
    expect(was.superseded_at).not.toBeNull();

    // the span takes them with their probability as the weight; a project that does not list weak leaves them out
    const exported = (await app.app.get(ExportsService).exportNext((await app.app.get(ProjectsService).findBySlug(project.slug))!))!;
    const rows = exported.manifest.files
      .filter((f) => f.format === 'jsonl')
      .flatMap((f) => fs.readFileSync(path.join(exported.directory, f.path), 'utf8').split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { prediction_id: string; label_source: string; weight: number });
    const weakRows = rows.filter((r) => r.label_source === 'weak');
    const current: Array<{ prediction_id: string; weight: number }> = await app.sql(
      `SELECT prediction_id, weight FROM labels WHERE project_id = $1 AND source = 'weak' AND superseded_at IS NULL`,
      [project.id],
    );
    // the first pass's, but the one feedback replaced, and the eight younger ones
    expect(current).toHaveLength(weak.length - 1 + 8);
    expect(weakRows).toHaveLength(current.length);
    const byId = new Map(current.map((w) => [w.prediction_id, w.weight]));
    for (const row of weakRows) expect(row.weight).toBe(byId.get(row.prediction_id));
    expect(rows.filter((r) => r.label_source === 'consensus')).toHaveLength(human.size);
  });

  it('propagates human labels to the nearest unlabelled embeddings (source propagated, weighted by the neighbours’ share), and to nothing out of reach', async () => {
    const project = await createProject(app, admin, {
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 },
      weakSupervision: { propagation: { k: 3, maxDistance: 0.05, minConfidence: 0.6 } },
      export: { formats: ['jsonl'], sources: ['consensus', 'propagated'] },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const near = (axis: number, i: number) => [0, 1, 2].map((k) => (k === axis ? 1 : 0.002 * (i % 7)));
    const batch = (from: number, n: number, axes = [0, 1]) =>
      Array.from({ length: n }, (_, j) => {
        const i = from + j;
        const axis = axes[i % axes.length];
        return { ...mail(i, axis === 0 ? 'spam' : 'ham'), embedding: near(axis, i) };
      });
    // the first twenty are all routed and labelled by a rater: spam around one axis, ham around the other
    const labelled = batch(0, 20);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: labelled })).status).toBe(200);
    const rater = await createUser(app, admin, 'rater', project);
    await labelEveryTask(project.slug, rater.token, (task) => task.input.truth as string);
    // then nothing is routed: twenty more in the same places, and two on the third axis, far from every label
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 } },
    });
    expect(patched.status).toBe(200);
    const unlabelled = batch(20, 20);
    const far = batch(40, 2, [2]);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: [...unlabelled, ...far] })).status).toBe(200);

    const pass = await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin });
    expect(pass.body).toMatchObject({ labelled: 0, propagated: 20 });
    const rows: Array<{ prediction_id: string; value: string; weight: number; source: string }> = await app.sql(
      `SELECT prediction_id, value, weight, source FROM labels WHERE project_id = $1 AND source = 'propagated'`,
      [project.id],
    );
    const truth = new Map(unlabelled.map((p) => [p.id, p.input.truth]));
    expect(rows).toHaveLength(20);
    // each takes its cluster's label; all three neighbours agree, so the share is 1
    for (const row of rows) expect([row.value, row.weight]).toEqual([truth.get(row.prediction_id), 1]);
    // again: nothing new; the human labels are untouched
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin })).body.propagated).toBe(0);
    const [{ humans }] = await app.sql(`SELECT count(*)::int AS humans FROM labels WHERE project_id = $1 AND source = 'consensus' AND superseded_at IS NULL`, [
      project.id,
    ]);
    expect(humans).toBe(20);

    // sent to a rater later (a backfill under a changed policy), a propagated prediction shows its label as a suggestion, when the project shows predictions
    expect(
      (
        await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
          token: admin,
          body: { labeling: { showPrediction: true }, routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0 } },
        })
      ).status,
    ).toBe(200);
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/routing/backfill`, { token: admin, body: { limit: 100 } })).body.routed.total).toBe(22);
    const shown = new Map<string, unknown>();
    await labelEveryTask(project.slug, rater.token, async (task) => {
      const [{ prediction_id }] = await app.sql(`SELECT prediction_id FROM tasks WHERE id = $1`, [task.id]);
      shown.set(prediction_id, task.machineLabel);
      return 'ham';
    });
    expect(shown.size).toBe(22);
    for (const p of unlabelled) expect(shown.get(p.id)).toEqual({ source: 'propagated', label: p.input.truth, confidence: 1 });
    for (const p of far) expect(shown.get(p.id)).toBeUndefined();
  });

  it('routes a prediction whose label the label model is unsure of (reason weak), by the model the pass fitted last', async () => {
    const project = await createProject(app, admin, {
      routing: { threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0 },
      weakSupervision: { functions: FUNCTIONS, routeConflicts: false, routeBelow: 0.9 },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const send = (body: unknown) => app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body });
    // no model yet: nothing is routed
    const before = await send(Array.from({ length: 200 }, (_, i) => mail(i, i % 4 === 3 ? 'ham' : 'spam')));
    expect(before.body.routed.tasks).toBe(0);
    // the pass fits it (and writes no label: weakLabels is not set)
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/weak-supervision/label`, { token: admin })).body).toMatchObject({ labelled: 0 });
    const [{ model }] = await app.sql(`SELECT model FROM weak_label_state WHERE project_id = $1`, [project.id]);
    expect(model.functions.map((f: { name: string }) => f.name)).toEqual(['free', 'dollars', 'french']);
    const { applyLabelModel, compileLabelingFunction } = await import('@backflow/weak');
    const functions = FUNCTIONS.map((f) => compileLabelingFunction(f as Parameters<typeof compileLabelingFunction>[0]));
    const after = Array.from({ length: 120 }, (_, i) => mail(1000 + i, 'spam'));
    const probabilityOf = (p: (typeof after)[number]) => {
      const votes = functions.map((f) => f(p));
      return votes.some((v) => v !== null) ? applyLabelModel(model, votes).probability : undefined;
    };
    // the bar between the model's least and most sure patterns (a change of the settings is seen by routing at once)
    const probabilities = after.map(probabilityOf).filter((p): p is number => p !== undefined);
    const routeBelow = (Math.min(...probabilities) + Math.max(...probabilities)) / 2;
    const patched = await app.request('PATCH', `/api/v1/projects/${project.slug}`, {
      token: admin,
      body: { weakSupervision: { functions: FUNCTIONS, routeConflicts: false, routeBelow } },
    });
    expect(patched.status).toBe(200);
    const unsure = after.filter((p) => (probabilityOf(p) ?? 1) < routeBelow);
    // some patterns are unsure (a spam vote against the French one), the others are not
    expect(unsure.length).toBeGreaterThan(0);
    expect(unsure.length).toBeLessThan(after.length);
    const routed = await send(after);
    expect(routed.body.routed.byReason.weak).toBe(unsure.length);
    const tasks = await app.sql<{ prediction_id: string }>(`SELECT prediction_id FROM tasks WHERE project_id = $1`, [project.id]);
    expect(new Set(tasks.map((t) => t.prediction_id))).toEqual(new Set(unsure.map((p) => p.id)));
  });
});

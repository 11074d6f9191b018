import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { LabelsService } from '../../server/src/labels/labels.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { QualityRepository } from '../../server/src/quality/quality.repository';
import { applyDefinitions } from '../../server/src/database/definitions';
import { LabelsPredictionFacts1764570000000 } from '../../server/src/database/migrations/1764570000000-labels-prediction-facts';
import pino from 'pino';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, createUser, predictionBody } from '../factories';

// Two writers of one prediction's current label, made to collide: the first holds its label
// uncommitted until the second is seen waiting for it in pg_stat_activity, then commits.
describe('labels: concurrent writers of a current label', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  /** A project where every prediction is a task one answer decides, and a rater holding the task of one prediction. */
  async function claimedTask(scores = { ham: 0.6, spam: 0.4 }) {
    const project = await createProject(app, admin, {
      overlap: 1,
      labeling: { goldRate: 0 },
      routing: { threshold: 0, explorationRate: 0, dedupeWindowMinutes: 0, contradictionConfidence: 0.9 },
      feedbackRules: { rules: [{ eventType: 'report_spam', label: 'spam', windowMinutes: 60 }], absence: { label: 'ham', windowMinutes: 60 } },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const prediction = predictionBody({ scores });
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions`, { token: key, body: prediction })).status).toBe(201);
    const rater = await createUser(app, admin, 'rater', project);
    const { task } = (await app.request('POST', `/api/v1/projects/${project.slug}/tasks/claim`, { token: rater.token, body: {} })).body;
    expect(task).toBeTruthy();
    return {
      ...project,
      predictionId: prediction.id,
      taskId: task.id as string,
      raterId: rater.id,
      entity: (await app.app.get(ProjectsService).findById(project.id))!,
      answer: (label: string) =>
        app.request('POST', `/api/v1/projects/${project.slug}/tasks/${task.id}/annotations`, { token: rater.token, body: { id: randomUUID(), label } }),
      feedback: (type: string) =>
        app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: { id: `fb-${randomUUID()}`, predictionId: prediction.id, type } }),
      history: () =>
        app.sql(
          `SELECT value, source, superseded_at IS NULL AS current, contradicts_prediction FROM labels WHERE project_id = $1 AND prediction_id = $2 ORDER BY id`,
          [project.id, prediction.id],
        ),
    };
  }

  /** Resolves once `count` sessions of this database wait for a lock: the second writer has met the first. */
  async function waiting(count: number): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
      const [{ n }] = await app.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (n >= count) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`never ${count} sessions waiting for a lock: the writers did not collide`);
  }

  async function transaction(): Promise<QueryRunner> {
    const runner = app.app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    return runner;
  }

  async function session(): Promise<Client> {
    const client = new Client({ connectionString: app.databaseUrl });
    await client.connect();
    return client;
  }

  const feedbackLabel = (manager: EntityManager, project: Awaited<ReturnType<typeof claimedTask>>, value: string, rule: string) =>
    app.app.get(LabelsService).recordFeedbackLabels(manager, project.entity, [{ predictionId: project.predictionId, value, rule, feedbackEventId: null }]);

  it.each([
    ['agrees with the model', { ham: 0.6, spam: 0.4 }, false],
    ['contradicts a confident model, so it raises the task the answer holds', { ham: 0.95, spam: 0.05 }, true],
  ])("lets a rater's answer that completes consensus supersede a feedback label that %s, committed while the answer waited", async (_, scores, contradicts) => {
    const project = await claimedTask(scores);
    // the feedback transaction is held at its last statement, after its label is written (and its contradiction routed)
    const blocker = await session();
    try {
      await blocker.query('BEGIN');
      expect((await blocker.query(`SELECT 1 FROM feedback_windows WHERE prediction_id = $1 FOR UPDATE`, [project.predictionId])).rowCount).toBe(1);
      const feedback = project.feedback('report_spam');
      await waiting(1);
      const answer = project.answer('ham');
      await waiting(2);
      await blocker.query('ROLLBACK');
      expect((await feedback).status).toBe(201);
      const answered = await answer;
      expect({ status: answered.status, body: answered.body }).toMatchObject({ status: 201, body: { taskState: 'completed' } });
    } finally {
      await blocker.end();
    }
    expect(await project.history()).toEqual([
      { value: 'spam', source: 'feedback', current: false, contradicts_prediction: contradicts },
      { value: 'ham', source: 'consensus', current: true, contradicts_prediction: false },
    ]);
  });

  it("keeps each label's prediction facts (day, timestamp, predicted label, confidence, model version, slice), whether the writer or any other insert made it", async () => {
    const project = await claimedTask();
    // a label by the writer (the answer decides it) and another by plain SQL, as a test or a benchmark writes one
    expect((await project.answer('spam')).status).toBe(201);
    await app.sql(
      `INSERT INTO labels (project_id, prediction_id, value, source, answers, superseded_at) VALUES ($1, $2, 'ham', 'review', '{"label": "ham"}', now())`,
      [project.id, project.predictionId],
    );
    const facts = await app.sql(
      `SELECT (l.prediction_occurred_on, l.prediction_occurred_at, l.predicted_label, l.prediction_confidence, l.prediction_model_version, l.prediction_slice)
                = (p.occurred_on, p.occurred_at, p.predicted_label, p.confidence, p.model_version, p.slice) AS same,
              l.prediction_occurred_at IS NOT NULL AND l.prediction_slice IS NOT NULL AS filled
         FROM labels l JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
        WHERE l.project_id = $1`,
      [project.id],
    );
    expect(facts).toEqual([
      { same: true, filled: true },
      { same: true, filled: true },
    ]);
  });

  it('keeps a feedback label as history when consensus commits while the feedback ingest waits for it', async () => {
    const project = await claimedTask();
    const held = await session();
    try {
      await held.query('BEGIN');
      const { rows } = await held.query(
        `SELECT outcome FROM backflow_submit_annotation($1, $2, $3, $4, 'ham', NULL, 0.6, 1, '{"label": "ham"}', NULL, 'label', NULL, NULL)`,
        [project.id, project.taskId, project.raterId, randomUUID()],
      );
      expect(rows).toEqual([{ outcome: 'agreed' }]);
      // it waits for the task the answer holds (and, before, for the prediction the consensus label's foreign key holds)
      const feedback = project.feedback('report_spam');
      await waiting(1);
      await held.query('COMMIT');
      const sent = await feedback;
      expect({ status: sent.status, body: sent.body }).toEqual({ status: 201, body: { accepted: 1, duplicates: 0 } });
    } finally {
      await held.end();
    }
    expect(await project.history()).toEqual([
      { value: 'ham', source: 'consensus', current: true, contradicts_prediction: false },
      { value: 'spam', source: 'feedback', current: false, contradicts_prediction: false },
    ]);
  });

  it("keeps a feedback label as history when consensus commits while it waits, without the prediction's row lock (a Label Studio import)", async () => {
    const project = await claimedTask();
    const held = await session();
    const runner = await transaction();
    try {
      await held.query('BEGIN');
      const { rows } = await held.query(
        `SELECT outcome FROM backflow_submit_annotation($1, $2, $3, $4, 'ham', NULL, 0.6, 1, '{"label": "ham"}', NULL, 'label', NULL, NULL)`,
        [project.id, project.taskId, project.raterId, randomUUID()],
      );
      expect(rows).toEqual([{ outcome: 'agreed' }]);
      const recorded = feedbackLabel(runner.manager, project, 'spam', 'imported');
      await waiting(1);
      await held.query('COMMIT');
      expect(await recorded).toEqual([]);
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
      await held.end();
    }
    expect(await project.history()).toEqual([
      { value: 'ham', source: 'consensus', current: true, contradicts_prediction: false },
      { value: 'spam', source: 'feedback', current: false, contradicts_prediction: false },
    ]);
  });

  const weakLabel = (manager: EntityManager, project: Awaited<ReturnType<typeof claimedTask>>, value: string) =>
    app.app.get(LabelsService).recordMachineLabels(manager, project.entity, [{ predictionId: project.predictionId, value, probability: 0.8 }]);

  it('lets a feedback label that waited for a weak one supersede it, and a weak one that waited for a feedback one leave no trace', async () => {
    const project = await claimedTask();
    const [weak, feedback] = [await transaction(), await transaction()];
    try {
      expect(await weakLabel(weak.manager, project, 'ham')).toBe(1);
      const later = feedbackLabel(feedback.manager, project, 'spam', 'rules[0]');
      await waiting(1);
      await weak.commitTransaction();
      expect(await later).toMatchObject([{ value: 'spam' }]);
      await feedback.commitTransaction();
    } finally {
      for (const runner of [weak, feedback]) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        await runner.release();
      }
    }
    expect(await project.history()).toEqual([
      { value: 'ham', source: 'weak', current: false, contradicts_prediction: false },
      { value: 'spam', source: 'feedback', current: true, contradicts_prediction: false },
    ]);

    // the other way round: the weak label waits for the feedback label, then is not written at all
    const other = await claimedTask();
    const [first, second] = [await transaction(), await transaction()];
    try {
      await feedbackLabel(first.manager, other, 'spam', 'rules[0]');
      const late = weakLabel(second.manager, other, 'ham');
      await waiting(1);
      await first.commitTransaction();
      expect(await late).toBe(0);
      await second.commitTransaction();
    } finally {
      for (const runner of [first, second]) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        await runner.release();
      }
    }
    expect(await other.history()).toEqual([{ value: 'spam', source: 'feedback', current: true, contradicts_prediction: false }]);
  });

  it("lets a rater's answer supersede a weak label committed while it waited, and writes no weak label beside a human one", async () => {
    const project = await claimedTask();
    const weak = await transaction();
    try {
      expect(await weakLabel(weak.manager, project, 'spam')).toBe(1);
      const answer = project.answer('ham');
      await waiting(1);
      await weak.commitTransaction();
      expect((await answer).body).toMatchObject({ taskState: 'completed' });
    } finally {
      if (weak.isTransactionActive) await weak.rollbackTransaction();
      await weak.release();
    }
    expect(await project.history()).toEqual([
      { value: 'spam', source: 'weak', current: false, contradicts_prediction: false },
      { value: 'ham', source: 'consensus', current: true, contradicts_prediction: false },
    ]);
    const again = await transaction();
    try {
      expect(await weakLabel(again.manager, project, 'spam')).toBe(0);
      await again.commitTransaction();
    } finally {
      await again.release();
    }
    expect(await project.history()).toHaveLength(2);
  });

  it('makes the later of two racing feedback labels current, the earlier history', async () => {
    const project = await claimedTask();
    const [first, second] = [await transaction(), await transaction()];
    try {
      await feedbackLabel(first.manager, project, 'spam', 'rules[0]');
      const later = feedbackLabel(second.manager, project, 'ham', 'absence');
      await waiting(1);
      await first.commitTransaction();
      expect(await later).toMatchObject([{ value: 'ham', rule: 'absence' }]);
      await second.commitTransaction();
    } finally {
      for (const runner of [first, second]) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        await runner.release();
      }
    }
    expect(await project.history()).toEqual([
      { value: 'spam', source: 'feedback', current: false, contradicts_prediction: false },
      { value: 'ham', source: 'feedback', current: true, contradicts_prediction: false },
    ]);
  });

  it('keeps both of two racing human labels, the later current', async () => {
    const project = await claimedTask();
    const runner = await transaction();
    let answer: ReturnType<typeof project.answer> | undefined;
    try {
      await app.app.get(LabelsService).recordHumanLabel(runner.manager, project.id, {
        predictionId: project.predictionId,
        value: 'spam',
        source: 'review',
        agreement: 1,
        taskId: project.taskId,
      });
      answer = project.answer('ham');
      await waiting(1);
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    expect((await answer).status).toBe(201);
    expect(await project.history()).toEqual([
      { value: 'spam', source: 'review', current: false, contradicts_prediction: true },
      { value: 'ham', source: 'consensus', current: true, contradicts_prediction: false },
    ]);
  });

  it('marks a Dawid-Skene relabel that disagrees with the model as contradicting it, like every other label', async () => {
    const project = await claimedTask();
    expect((await project.answer('ham')).status).toBe(201);
    const [consensus] = await app.sql(`SELECT id, contradicts_prediction FROM labels WHERE prediction_id = $1`, [project.predictionId]);
    expect(consensus.contradicts_prediction).toBe(false);
    await app.app
      .get(DataSource)
      .transaction((manager) =>
        app.app.get(QualityRepository).relabel(manager, project.id, 'label', [{ labelId: String(consensus.id), value: 'spam', agreement: 0.8 }]),
      );
    expect(
      await app.sql(`SELECT value, rule, task_id, contradicts_prediction, superseded_at IS NULL AS current FROM labels WHERE prediction_id = $1 ORDER BY id`, [
        project.predictionId,
      ]),
    ).toEqual([
      { value: 'ham', rule: null, task_id: project.taskId, contradicts_prediction: false, current: false },
      { value: 'spam', rule: 'dawid_skene', task_id: project.taskId, contradicts_prediction: true, current: true },
    ]);
  });

  // last: it takes the columns away and back on this file's database
  it('fills the prediction facts of labels written before labels kept them (the migration down and up on a populated database)', async () => {
    const project = await claimedTask();
    expect((await project.answer('spam')).status).toBe(201);
    expect((await project.feedback('report_spam')).status).toBeLessThan(300);
    const migration = new LabelsPredictionFacts1764570000000();
    const runner = app.app.get(DataSource).createQueryRunner();
    try {
      await migration.down(runner);
      expect(
        await app.sql(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'labels' AND column_name = 'predicted_label'`),
      ).toEqual([{ n: 0 }]);
      await migration.up(runner);
      await applyDefinitions(runner, pino({ level: 'silent' }), { afterMigrations: true });
    } finally {
      await runner.release();
    }
    const facts = await app.sql(
      `SELECT (l.prediction_occurred_on, l.prediction_occurred_at, l.predicted_label, l.prediction_confidence, l.prediction_model_version, l.prediction_slice)
                = (p.occurred_on, p.occurred_at, p.predicted_label, p.confidence, p.model_version, p.slice) AS same
         FROM labels l JOIN predictions p ON p.project_id = l.project_id AND p.id = l.prediction_id
        WHERE l.project_id = $1`,
      [project.id],
    );
    expect(facts.length).toBeGreaterThanOrEqual(2);
    expect(facts.every((f) => f.same === true)).toBe(true);
    // the monitoring page reads them (its statement names every new column)
    expect((await app.request('GET', `/api/v1/projects/${project.slug}/monitoring`, { token: admin })).status).toBe(200);
  });
});

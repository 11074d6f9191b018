import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDatabase, withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';
import { call, createProject, createRater, incompleteVisibleVersions, must, prediction, Prediction, Rater, sleep, until } from './harness';

const KILLS = Number(process.env.FAULT_KILLS ?? 10);
const BATCH = 100;
const RATERS = 4;
const LEASE_SECONDS = 10;

interface Claim {
  taskId: string;
  rater: string;
  answeredAt: number; // when the claim's reply reached the rater
  expiresAt: number;
}
interface Submit {
  rater: Rater;
  taskId: string;
  id: string;
  label: string;
}

/**
 * DESIGN.md's invariants under repeated crashes: the built server is killed with SIGKILL ten
 * times at random moments while predictions and feedback stream in, raters claim and answer,
 * and exports run. After each kill no partial span is visible; at the end everything that was
 * acknowledged is stored, retrying every request stores nothing twice, no task was leased to
 * two raters at once, and every label is in exactly one span.
 */
describe(`kill -9, ${KILLS} times, under ingestion, labeling and export`, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-faults-'));
  let server: ServerProcess | undefined;
  // the load loops run until this is set (by the test, or after it when it failed)
  let stopping = false;
  afterAll(async () => {
    stopping = true; // a failed test leaves no load running: Jest could not exit
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('loses nothing acknowledged, doubles nothing, leases no task twice and shows no partial span', async () => {
    const database = await createDatabase({ empty: true });
    const start = async () => {
      server = await spawnServer({ DATABASE_URL: database.url, EXPORT_ROOT: root, LOG_LEVEL: 'warn' });
      await server.waitReady();
      return server.url;
    };
    try {
      let url = await start();
      const admin = await loginAt(url);
      const { slug, key } = await createProject(url, admin, 'faults', {
        overlap: 1,
        labeling: { leaseSeconds: LEASE_SECONDS, goldRate: 0 },
        feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
        export: { formats: ['tfrecord', 'jsonl'] },
      });
      const raters = await Promise.all(Array.from({ length: RATERS }, (_, i) => createRater(url, admin, slug, `fault-rater-${i}`)));

      const sentBatches: Prediction[][] = [];
      const sentFeedback: Array<Array<{ id: string; predictionId: string; type: string }>> = [];
      const acknowledged = { predictions: new Set<string>(), feedback: new Set<string>(), annotations: new Set<string>() };
      const claims: Claim[] = [];
      const submits: Submit[] = [];
      const downtime = { refused: 0 };
      const lateRefused: Array<{ taskId: string; rater: string }> = [];
      // while the server is down a request fails to connect (0); anything else but success is a finding
      const surprises: string[] = [];
      const unexpected = (what: string, answer: { status: number; body: unknown }) => {
        if (answer.status !== 0 && (answer.status < 200 || answer.status >= 300))
          surprises.push(`${what}: ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 200)}`);
      };
      let n = 0;

      const ingest = async () => {
        while (!stopping) {
          const batch = Array.from({ length: BATCH }, () => prediction(n++));
          sentBatches.push(batch);
          const stored = await call(url, key, 'POST', `/api/v1/projects/${slug}/predictions/batch`, batch);
          if (stored.status === 200) batch.forEach((p) => acknowledged.predictions.add(p.id));
          else if (stored.status === 0) downtime.refused++;
          unexpected('batch', stored);
          // a click on every other prediction, right after it (some land before their prediction is stored)
          const feedback = batch.filter((_, i) => i % 2 === 0).map((p) => ({ id: `click-${p.id}`, predictionId: p.id, type: 'click' }));
          sentFeedback.push(feedback);
          const answered = await call(url, key, 'POST', `/api/v1/projects/${slug}/feedback`, feedback);
          if (answered.status === 201 || answered.status === 200) feedback.forEach((f) => acknowledged.feedback.add(f.id));
          unexpected('feedback', answered);
          await sleep(stored.status === 0 ? 100 : 20);
        }
      };
      const label = async (rater: Rater) => {
        while (!stopping) {
          const claimed = await call(url, rater.token, 'POST', `/api/v1/projects/${slug}/tasks/claim`, {});
          unexpected('claim', claimed);
          const answeredAt = Date.now();
          const task = claimed.status === 200 ? claimed.body.task : undefined;
          if (!task) {
            await sleep(claimed.status === 0 ? 100 : 200);
            continue;
          }
          claims.push({ taskId: task.id, rater: rater.id, answeredAt, expiresAt: Date.parse(task.leaseExpiresAt) });
          await sleep(Math.random() * 150);
          const submit: Submit = { rater, taskId: task.id, id: randomUUID(), label: Math.random() < 0.7 ? 'spam' : 'ham' };
          submits.push(submit);
          const answered = await call(url, rater.token, 'POST', `/api/v1/projects/${slug}/tasks/${task.id}/annotations`, {
            id: submit.id,
            label: submit.label,
          });
          if (answered.status === 200 || answered.status === 201) acknowledged.annotations.add(submit.id);
          // a late answer, after the lease ran out (the server was down) and another rater answered: refused, as the labeling rules say
          else if (answered.body?.code === 'labeling/task_complete') lateRefused.push({ taskId: task.id, rater: rater.id });
          else unexpected('answer', answered);
        }
      };
      const exportEvery = async () => {
        while (!stopping) {
          await call(url, admin, 'POST', `/api/v1/projects/${slug}/exports`, {});
          await sleep(1_500);
        }
      };
      const load = [ingest(), ingest(), ...raters.map(label), exportEvery()];

      const partialSpans: string[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        await sleep(1_000 + Math.random() * 2_500);
        await server!.kill9();
        // what ExampleGen would see right now
        partialSpans.push(...incompleteVisibleVersions(root, slug).map((p) => `after kill ${kill + 1}: ${p}`));
        url = await start();
      }
      await sleep(2_000);
      stopping = true;
      await Promise.all(load);
      expect(partialSpans).toEqual([]);
      expect(surprises).toEqual([]);

      // 1. everything acknowledged is stored
      const stored = await withClient(database.url, async (client) => ({
        predictions: new Set((await client.query(`SELECT id FROM predictions`)).rows.map((r) => r.id as string)),
        feedback: new Set((await client.query(`SELECT id FROM feedback_events`)).rows.map((r) => r.id as string)),
        annotations: new Set((await client.query(`SELECT id FROM annotations`)).rows.map((r) => r.id as string)),
      }));
      expect([...acknowledged.predictions].filter((id) => !stored.predictions.has(id))).toEqual([]);
      expect([...acknowledged.feedback].filter((id) => !stored.feedback.has(id))).toEqual([]);
      expect([...acknowledged.annotations].filter((id) => !stored.annotations.has(id))).toEqual([]);
      expect(acknowledged.predictions.size).toBeGreaterThan(0);
      expect(acknowledged.annotations.size).toBeGreaterThan(0);

      // 2. a client that retries everything it ever sent stores each item once
      let accepted = 0;
      let duplicates = 0;
      for (const batch of sentBatches) {
        const reply = await must(url, key, 'POST', `/api/v1/projects/${slug}/predictions/batch`, batch);
        accepted += reply.accepted;
        duplicates += reply.duplicates;
      }
      expect(duplicates).toBe(stored.predictions.size);
      expect(accepted + duplicates).toBe(n);
      for (const feedback of sentFeedback) await must(url, key, 'POST', `/api/v1/projects/${slug}/feedback`, feedback);
      for (const submit of submits) {
        const answered = await call(url, submit.rater.token, 'POST', `/api/v1/projects/${slug}/tasks/${submit.taskId}/annotations`, {
          id: submit.id,
          label: submit.label,
        });
        // an answer stored before is answered as a duplicate, whether or not its first reply arrived;
        // one that was not stored may be refused now (its lease is gone, another rater answered)
        if (stored.annotations.has(submit.id)) expect({ id: submit.id, duplicate: answered.body?.duplicate }).toEqual({ id: submit.id, duplicate: true });
        else expect({ id: submit.id, status: answered.status >= 200 && answered.status < 500 }).toEqual({ id: submit.id, status: true });
      }
      await withClient(database.url, async (client) => {
        const counts = (
          await client.query(`SELECT (SELECT count(*)::int FROM predictions) AS predictions, (SELECT count(DISTINCT id)::int FROM predictions) AS distinct_predictions,
                 (SELECT count(*)::int FROM feedback_events) AS feedback, (SELECT count(DISTINCT id)::int FROM feedback_events) AS distinct_feedback,
                 (SELECT count(*)::int FROM tasks) AS tasks, (SELECT count(DISTINCT prediction_id)::int FROM tasks) AS tasked_predictions`)
        ).rows[0];
        expect(counts.predictions).toBe(n);
        expect(counts.distinct_predictions).toBe(n);
        expect(counts.feedback).toBe(sentFeedback.flat().length);
        expect(counts.distinct_feedback).toBe(counts.feedback);
        expect(counts.tasks).toBe(counts.tasked_predictions);
        // one answer per task at most (overlap 1), one per rater and task
        expect((await client.query(`SELECT task_id FROM annotations GROUP BY task_id HAVING count(*) > 1`)).rows).toEqual([]);
        expect(
          (await client.query(`SELECT count(*)::int AS n FROM labels WHERE superseded_at IS NULL GROUP BY project_id, prediction_id HAVING count(*) > 1`)).rows,
        ).toEqual([]);
      });

      // 3. no task was leased to two raters at once: another rater got a task only after the lease before it ran out
      const byTask = new Map<string, Claim[]>();
      for (const claim of claims) byTask.set(claim.taskId, [...(byTask.get(claim.taskId) ?? []), claim]);
      const doubleLeases: string[] = [];
      for (const [taskId, taskClaims] of byTask) {
        const ordered = taskClaims.sort((a, b) => a.answeredAt - b.answeredAt);
        for (let j = 1; j < ordered.length; j++) {
          for (let i = 0; i < j; i++) {
            // a lease's expiry is printed to the millisecond: allow the rounding
            if (ordered[i].rater !== ordered[j].rater && ordered[j].answeredAt + 2 < ordered[i].expiresAt)
              doubleLeases.push(
                `${taskId}: ${ordered[i].rater} until ${new Date(ordered[i].expiresAt).toISOString()}, ${ordered[j].rater} at ${new Date(ordered[j].answeredAt).toISOString()}`,
              );
          }
        }
      }
      expect(doubleLeases).toEqual([]);
      // a late answer was refused only because another rater had taken the task since
      expect(lateRefused.filter((late) => !(byTask.get(late.taskId) ?? []).some((claim) => claim.rater !== late.rater))).toEqual([]);

      // 4. a last export takes what is left; every current label is then in exactly one span, and every visible span is whole
      await until(
        'the exports in flight to finish',
        async () => {
          const writing = await withClient(
            database.url,
            async (client) => (await client.query(`SELECT count(*)::int AS n FROM export_versions WHERE state = 'writing'`)).rows[0].n as number,
          );
          return writing === 0;
        },
        120_000,
        250,
      );
      const last = await call(url, admin, 'POST', `/api/v1/projects/${slug}/exports`, {});
      if (last.status === 202) {
        await until(
          'the last export',
          async () => (await call(url, admin, 'GET', `/api/v1/projects/${slug}/exports/${last.body.job.id}`)).body?.state === 'completed',
          120_000,
          250,
        );
      }
      expect(incompleteVisibleVersions(root, slug)).toEqual([]);
      await withClient(database.url, async (client) => {
        const labels = (await client.query(`SELECT count(*)::int AS n FROM labels WHERE superseded_at IS NULL`)).rows[0].n as number;
        const unexported = (
          await client.query(
            `SELECT count(*)::int AS n FROM labels l WHERE superseded_at IS NULL AND NOT EXISTS (SELECT 1 FROM span_labels s WHERE s.label_id = l.id)`,
          )
        ).rows[0].n as number;
        expect(labels).toBeGreaterThan(0);
        expect(unexported).toBe(0);
        // each span's rows are its labels, and each of its completed versions wrote them all
        const spans = (
          await client.query(`
          SELECT s.span, s.rows, (SELECT count(*)::int FROM span_labels sl WHERE sl.span_id = s.id) AS labels,
                 array_agg(v.rows_written ORDER BY v.version) FILTER (WHERE v.state = 'completed') AS written
          FROM export_spans s LEFT JOIN export_versions v ON v.span_id = s.id GROUP BY s.id`)
        ).rows as Array<{ span: number; rows: number; labels: number; written: number[] | null }>;
        expect(spans.length).toBeGreaterThan(1);
        if (process.env.FAULT_DEBUG)
          console.log(
            JSON.stringify(spans),
            JSON.stringify(
              (await client.query(`SELECT v.*, s.span FROM export_versions v JOIN export_spans s ON s.id = v.span_id`)).rows.map((r) => ({
                span: r.span,
                version: r.version,
                state: r.state,
                error: r.error,
                rows: r.rows_written,
              })),
            ),
          );
        for (const span of spans) {
          expect(span.labels).toBe(span.rows);
          expect(span.written?.every((rows) => rows === span.rows)).toBe(true);
        }
      });
      process.stdout.write(
        `faults: ${KILLS} kills; acknowledged ${acknowledged.predictions.size}/${n} predictions, ${acknowledged.feedback.size} feedback events, ${acknowledged.annotations.size}/${submits.length} answers; ` +
          `${claims.length} claims on ${byTask.size} tasks, ${lateRefused.length} late answers refused; ${downtime.refused} batches refused while down\n`,
      );
    } finally {
      if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
      await database.drop();
    }
  }, 900_000);
});

import { Injectable } from '@nestjs/common';
import type { TaskReason, TaskState } from '@backflow/contracts';
import type { Pool } from 'pg';
import { EntityManager } from 'typeorm';

export interface NewTask {
  predictionId: string;
  reason: TaskReason;
  priority: number;
  inclusionProbability: number;
  uncertainty: number | null;
}

export interface ImportedTask {
  predictionId: string;
  state: 'completed' | 'review';
  answers: Array<{ id: string; raterId: string; label: string; timeSpentMs: number | null; createdAt: Date }>;
}

export interface CreatedTask {
  id: string;
  predictionId: string;
  reason: TaskReason;
  priority: number;
}

export interface LockedTask {
  id: string;
  projectId: string;
  /** null for a gold task */
  predictionId: string | null;
  goldItemId: string | null;
  state: TaskState;
  requiredAnnotations: number;
  annotationsCount: number;
}

export interface TaskView {
  id: string;
  input: Record<string, unknown>;
  /** the model's scores; a gold item has them only when it was given them */
  scores: Record<string, number> | null;
  predictedLabel: string | null;
}

export type LeasedView = TaskView & { leaseExpiresAt: Date };

interface LeasedRow {
  id: string;
  expires_at: Date;
  input: Record<string, unknown>;
  predicted_label: string | null;
  scores: Record<string, number> | null;
}

function toLeasedView(r: LeasedRow): LeasedView {
  return { id: r.id, input: r.input, predictedLabel: r.predicted_label, scores: r.scores, leaseExpiresAt: r.expires_at };
}

export interface SubmitOutcome {
  outcome: 'not_found' | 'gold' | 'duplicate' | 'id_taken' | 'already_answered' | 'complete' | 'not_claimed' | 'stored' | 'agreed' | 'escalated' | 'review';
  taskState: TaskState;
  late: boolean | null;
  /** the stored (or, for a duplicate, the earlier) label; for agreed, the final label */
  label: string | null;
  predictionId: string | null;
  agreement: number | null;
}

export interface StoredAnnotation {
  id: string;
  taskId: string;
  raterId: string;
  label: string;
  late: boolean;
}

// tasks that still want answers
const OPEN = `('queued', 'escalated')`;

/**
 * Tasks, leases and annotations in SQL: the hot paths (claim, submit) are a few indexed
 * statements each, and every change to a task happens under its row lock.
 */
@Injectable()
export class LabelingRepository {
  /** Creates tasks; a prediction that already has one keeps it (the statement skips it). */
  async insertTasks(manager: EntityManager, projectId: string, requiredAnnotations: number, tasks: NewTask[]): Promise<CreatedTask[]> {
    if (tasks.length === 0) return [];
    const rows: Array<{ id: string; prediction_id: string; reason: TaskReason; priority: number }> = await manager.query(
      `INSERT INTO tasks (project_id, prediction_id, reason, priority, inclusion_probability, uncertainty, required_annotations)
       SELECT $1, t.prediction_id, t.reason, t.priority, t.inclusion_probability, t.uncertainty, $2
         FROM unnest($3::uuid[], $4::text[], $5::float8[], $6::float8[], $7::float8[]) AS t(prediction_id, reason, priority, inclusion_probability, uncertainty)
       ON CONFLICT (project_id, prediction_id) DO NOTHING
       RETURNING id, prediction_id, reason, priority`,
      [
        projectId,
        requiredAnnotations,
        tasks.map((t) => t.predictionId),
        tasks.map((t) => t.reason),
        tasks.map((t) => t.priority),
        tasks.map((t) => t.inclusionProbability),
        tasks.map((t) => t.uncertainty),
      ],
    );
    return rows.map((r) => ({ id: r.id, predictionId: r.prediction_id, reason: r.reason, priority: r.priority }));
  }

  /**
   * Tasks answered in another labeling tool, with their answers: a prediction's task (the one
   * routing made, or a new one of reason `imported`) takes the answers, none twice, and the
   * state given (`completed`, or `review` when the answers did not agree). Returns the task id by prediction.
   */
  async importAnswered(manager: EntityManager, projectId: string, tasks: ImportedTask[]): Promise<{ taskOf: Map<string, string>; answersStored: number }> {
    if (tasks.length === 0) return { taskOf: new Map(), answersStored: 0 };
    const predictionIds = tasks.map((t) => t.predictionId);
    await manager.query(
      `INSERT INTO tasks (project_id, prediction_id, reason, priority, inclusion_probability, required_annotations)
       SELECT $1, prediction_id, 'imported', 0, 1, greatest(answers, 1) FROM unnest($2::uuid[], $3::int[]) AS t(prediction_id, answers)
       ON CONFLICT (project_id, prediction_id) DO NOTHING`,
      [projectId, predictionIds, tasks.map((t) => t.answers.length)],
    );
    const rows: Array<{ id: string; prediction_id: string }> = await manager.query(
      `SELECT id, prediction_id FROM tasks WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [projectId, predictionIds],
    );
    const taskOf = new Map(rows.map((r) => [r.prediction_id, r.id]));
    const answers = tasks.flatMap((t) => t.answers.map((a) => ({ ...a, taskId: taskOf.get(t.predictionId)! })));
    let answersStored = 0;
    if (answers.length) {
      const stored: unknown[] = await manager.query(
        `INSERT INTO annotations (id, project_id, task_id, rater_id, label, time_spent_ms, created_at)
         SELECT id, $1, task_id, rater_id, label, time_spent_ms, created_at FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::int[], $7::timestamptz[])
           AS a(id, task_id, rater_id, label, time_spent_ms, created_at)
         ON CONFLICT DO NOTHING RETURNING id`,
        [
          projectId,
          answers.map((a) => a.id),
          answers.map((a) => a.taskId),
          answers.map((a) => a.raterId),
          answers.map((a) => a.label),
          answers.map((a) => a.timeSpentMs),
          answers.map((a) => a.createdAt.toISOString()),
        ],
      );
      answersStored = stored.length;
    }
    // an open task takes the imported state; one already decided here keeps its own
    await manager.query(
      `UPDATE tasks t SET annotations_count = (SELECT count(*) FROM annotations a WHERE a.task_id = t.id),
              required_annotations = greatest(t.required_annotations, (SELECT count(*) FROM annotations a WHERE a.task_id = t.id)),
              state = CASE WHEN t.state IN ('queued', 'leased', 'escalated') THEN s.state ELSE t.state END,
              completed_at = CASE WHEN t.state IN ('queued', 'leased', 'escalated') AND s.state = 'completed' THEN now() ELSE t.completed_at END
         FROM unnest($2::uuid[], $3::text[]) AS s(prediction_id, state)
        WHERE t.project_id = $1 AND t.prediction_id = s.prediction_id`,
      [projectId, predictionIds, tasks.map((t) => t.state)],
    );
    await manager.query(`DELETE FROM task_leases WHERE task_id = ANY($1::uuid[])`, [[...taskOf.values()]]);
    return { taskOf, answersStored };
  }

  /** Raises the priority of the open tasks these predictions already have; returns the predictions that have a task (open or not). */
  async raisePriority(manager: EntityManager, projectId: string, raises: Array<{ predictionId: string; priority: number }>): Promise<Set<string>> {
    if (raises.length === 0) return new Set();
    const rows: Array<{ prediction_id: string }> = await manager.query(
      `WITH wanted AS (SELECT * FROM unnest($2::uuid[], $3::float8[]) AS w(prediction_id, priority)),
       raised AS (
         UPDATE tasks t SET priority = GREATEST(t.priority, w.priority)
           FROM wanted w WHERE t.project_id = $1 AND t.prediction_id = w.prediction_id AND t.state IN ('queued', 'leased', 'escalated'))
       SELECT t.prediction_id FROM tasks t JOIN wanted w USING (prediction_id) WHERE t.project_id = $1`,
      [projectId, raises.map((r) => r.predictionId), raises.map((r) => r.priority)],
    );
    return new Set(rows.map((r) => r.prediction_id));
  }

  /**
   * Leases the next task to a rater in one call (see `backflow_claim_task` in
   * labeling.functions.sql) and returns what they are shown, or that they are paused. A statement of its own
   * (its own transaction), prepared once per connection.
   */
  async claim(
    pool: Pool,
    request: { projectId: string; raterId: string; ttlSeconds: number; maxHeld: number; review: boolean; gold: boolean },
  ): Promise<{ paused: boolean; task?: LeasedView }> {
    const { rows } = await pool.query<LeasedRow & { paused: boolean }>({
      name: 'backflow-claim',
      text: `WITH lease AS (SELECT * FROM backflow_claim_task($1, $2, $3, $4, $5, $6))
       SELECT lease.paused, lease.task_id AS id, lease.expires_at, coalesce(p.input, g.input) AS input, p.predicted_label, coalesce(p.scores, g.scores) AS scores
         FROM lease
         LEFT JOIN tasks t ON t.id = lease.task_id
         LEFT JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id
         LEFT JOIN gold_items g ON g.id = t.gold_item_id`,
      values: [request.projectId, request.raterId, request.ttlSeconds, request.maxHeld, request.review, request.gold],
    });
    const row = rows[0];
    return { paused: row?.paused ?? false, task: row?.id ? toLeasedView(row) : undefined };
  }

  /**
   * Stores an answer in one call (see `backflow_submit_annotation` in labeling.functions.sql):
   * the answer, its lease ended, and when it is the last one
   * wanted, the consensus and its consequence. Returns the outcome; only the storing outcomes changed anything.
   */
  async submit(
    pool: Pool,
    request: {
      projectId: string;
      taskId: string;
      raterId: string;
      annotationId: string;
      label: string;
      timeSpentMs: number | null;
      agreementThreshold: number;
      maxAnnotations: number;
    },
  ): Promise<SubmitOutcome> {
    const { rows } = await pool.query<{
      outcome: SubmitOutcome['outcome'];
      task_state: TaskState;
      late: boolean | null;
      label: string | null;
      prediction_id: string | null;
      agreement: number | null;
    }>({
      name: 'backflow-submit',
      text: `SELECT * FROM backflow_submit_annotation($1, $2, $3, $4, $5, $6, $7, $8)`,
      values: [
        request.projectId,
        request.taskId,
        request.raterId,
        request.annotationId,
        request.label,
        request.timeSpentMs,
        request.agreementThreshold,
        request.maxAnnotations,
      ],
    });
    const r = rows[0];
    return { outcome: r.outcome, taskState: r.task_state, late: r.late, label: r.label, predictionId: r.prediction_id, agreement: r.agreement };
  }

  async lockTask(manager: EntityManager, projectId: string, taskId: string): Promise<LockedTask | undefined> {
    const rows: Array<{
      id: string;
      project_id: string;
      prediction_id: string | null;
      gold_item_id: string | null;
      state: TaskState;
      required_annotations: number;
      annotations_count: number;
    }> = await manager.query(
      `SELECT id, project_id, prediction_id, gold_item_id, state, required_annotations, annotations_count FROM tasks WHERE project_id = $1 AND id = $2 FOR UPDATE`,
      [projectId, taskId],
    );
    const r = rows[0];
    return (
      r && {
        id: r.id,
        projectId: r.project_id,
        predictionId: r.prediction_id,
        goldItemId: r.gold_item_id,
        state: r.state,
        requiredAnnotations: r.required_annotations,
        annotationsCount: r.annotations_count,
      }
    );
  }

  /**
   * What a submit must know, read after the task's lock is held (so it sees every answer
   * committed before): an earlier annotation with this id, whether the rater answered this
   * task already, and their lease on it.
   */
  async submitContext(
    manager: EntityManager,
    taskId: string,
    raterId: string,
    annotationId: string,
  ): Promise<{ previous?: StoredAnnotation; answered: boolean; lease: 'none' | 'live' | 'expired' }> {
    const [row]: Array<{
      previous: { id: string; task_id: string; rater_id: string; label: string; late: boolean } | null;
      answered: boolean;
      live: boolean | null;
    }> = await manager.query(
      `SELECT (SELECT row_to_json(a) FROM (SELECT id, task_id, rater_id, label, late FROM annotations WHERE id = $3) a) AS previous,
              EXISTS (SELECT 1 FROM annotations WHERE task_id = $1 AND rater_id = $2) AS answered,
              (SELECT expires_at > now() FROM task_leases WHERE task_id = $1 AND rater_id = $2) AS live`,
      [taskId, raterId, annotationId],
    );
    const p = row.previous;
    return {
      previous: p ? { id: p.id, taskId: p.task_id, raterId: p.rater_id, label: p.label, late: p.late } : undefined,
      answered: row.answered,
      lease: row.live === null ? 'none' : row.live ? 'live' : 'expired',
    };
  }

  /** The rater's lease on a task: absent, live, or expired. */
  async lease(manager: EntityManager, taskId: string, raterId: string): Promise<'none' | 'live' | 'expired'> {
    const rows: Array<{ live: boolean }> = await manager.query(`SELECT expires_at > now() AS live FROM task_leases WHERE task_id = $1 AND rater_id = $2`, [
      taskId,
      raterId,
    ]);
    return rows.length === 0 ? 'none' : rows[0].live ? 'live' : 'expired';
  }

  /**
   * Takes back a rater's answer to a task that has not settled: the answer goes, the task counts
   * one fewer, and the rater leases it again. Above the lease cap, the rater's most recently
   * claimed other lease (the task held ahead) is given back. Returns what the rater is shown and
   * the task given back, if any.
   */
  async undo(
    manager: EntityManager,
    task: LockedTask,
    raterId: string,
    annotationId: string,
    ttlSeconds: number,
    maxHeld: number,
  ): Promise<{ task: LeasedView; released: string | null }> {
    await manager.query(
      `WITH removed AS (DELETE FROM annotations WHERE id = $1 AND task_id = $2 AND rater_id = $3 RETURNING 1)
       UPDATE tasks SET annotations_count = annotations_count - (SELECT count(*) FROM removed) WHERE id = $2`,
      [annotationId, task.id, raterId],
    );
    const [lease]: Array<{ expires_at: Date }> = await manager.query(
      `INSERT INTO task_leases AS l (task_id, rater_id, project_id, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       ON CONFLICT (task_id, rater_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, claimed_at = now()
       RETURNING l.expires_at`,
      [task.id, raterId, task.projectId, ttlSeconds],
    );
    // TypeORM answers a DELETE … RETURNING with [rows, count]
    const [released]: [Array<{ task_id: string }>, number] = await manager.query(
      `DELETE FROM task_leases WHERE (task_id, rater_id) IN (
         SELECT task_id, rater_id FROM task_leases
          WHERE project_id = $1 AND rater_id = $2 AND task_id <> $3 AND expires_at > now()
          ORDER BY claimed_at DESC
          LIMIT greatest(0, (SELECT count(*) FROM task_leases WHERE project_id = $1 AND rater_id = $2 AND expires_at > now()) - $4))
       RETURNING task_id`,
      [task.projectId, raterId, task.id, maxHeld],
    );
    const [row]: LeasedRow[] = await manager.query(
      `SELECT t.id, $2::timestamptz AS expires_at, p.input, p.predicted_label, p.scores
         FROM tasks t JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id WHERE t.id = $1`,
      [task.id, lease.expires_at],
    );
    return { task: toLeasedView(row), released: released[0]?.task_id ?? null };
  }

  /** How the raters answered a task, and what they reported, for its reviewer. */
  async reviewContext(manager: EntityManager, taskId: string): Promise<{ answers: Array<{ label: string; count: number }>; reports: string[] }> {
    const [row]: Array<{ answers: Array<{ label: string; count: number }> | null; reports: string[] | null }> = await manager.query(
      `SELECT (SELECT json_agg(json_build_object('label', a.label, 'count', a.n) ORDER BY a.n DESC, a.label)
                 FROM (SELECT label, count(*)::int AS n FROM annotations WHERE task_id = $1 GROUP BY label) a) AS answers,
              (SELECT array_agg(reason ORDER BY created_at) FROM task_skips WHERE task_id = $1 AND reason LIKE 'problem%') AS reports`,
      [taskId],
    );
    return { answers: row.answers ?? [], reports: row.reports ?? [] };
  }

  async annotationOf(manager: EntityManager, annotationId: string): Promise<{ taskId: string; raterId: string } | undefined> {
    const [row]: Array<{ task_id: string; rater_id: string }> = await manager.query(`SELECT task_id, rater_id FROM annotations WHERE id = $1`, [annotationId]);
    return row && { taskId: row.task_id, raterId: row.rater_id };
  }

  async setState(manager: EntityManager, taskId: string, state: TaskState, requiredAnnotations?: number): Promise<void> {
    await manager.query(
      `UPDATE tasks SET state = $2, required_annotations = COALESCE($3, required_annotations), completed_at = CASE WHEN $2 = 'completed' THEN now() END WHERE id = $1`,
      [taskId, state, requiredAnnotations ?? null],
    );
  }

  async skip(manager: EntityManager, taskId: string, raterId: string, reason: string): Promise<void> {
    await manager.query(`INSERT INTO task_skips (task_id, rater_id, reason) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [taskId, raterId, reason]);
    await manager.query(`DELETE FROM task_leases WHERE task_id = $1 AND rater_id = $2`, [taskId, raterId]);
  }

  /** Extends a live lease; an expired one is not revived (its slot may be someone else's now). */
  async extendLease(manager: EntityManager, taskId: string, raterId: string, ttlSeconds: number): Promise<Date | undefined> {
    // TypeORM answers an UPDATE with [rows, count]
    const [rows]: [Array<{ expires_at: Date }>, number] = await manager.query(
      `UPDATE task_leases SET expires_at = now() + make_interval(secs => $3) WHERE task_id = $1 AND rater_id = $2 AND expires_at > now() RETURNING expires_at`,
      [taskId, raterId, ttlSeconds],
    );
    return rows[0]?.expires_at;
  }

  /** A task with its final label: completed, and its remaining leases (raters who will not be needed) ended. */
  async complete(manager: EntityManager, taskId: string): Promise<void> {
    await manager.query(
      `WITH freed AS (DELETE FROM task_leases WHERE task_id = $1)
       UPDATE tasks SET state = 'completed', completed_at = now() WHERE id = $1`,
      [taskId],
    );
  }

  async queueStats(manager: EntityManager, projectId: string): Promise<{ depth: number; review: number; doneToday: number }> {
    const [row] = await manager.query(
      `SELECT (SELECT count(*)::int FROM tasks WHERE project_id = $1 AND state IN ${OPEN} AND gold_item_id IS NULL) AS depth,
              (SELECT count(*)::int FROM tasks WHERE project_id = $1 AND state = 'review') AS review,
              (SELECT count(*)::int FROM annotations WHERE project_id = $1 AND created_at >= date_trunc('day', now(), 'UTC')) AS done_today`,
      [projectId],
    );
    return { depth: row.depth, review: row.review, doneToday: row.done_today };
  }

  /** Per minute over the last `minutes`: tasks made and done, tasks open, answers, raters answering, leases run out unanswered. */
  async operations(
    manager: EntityManager,
    projectId: string,
    minutes: number,
  ): Promise<{
    points: Array<{ at: Date; created: number; done: number; open: number; answers: number; raters: number; expired: number }>;
    activeRaters: number;
  }> {
    const points: Array<{ at: Date; created: number; done: number; open: number; answers: number; raters: number; expired: number }> = await manager.query(
      `WITH bounds AS (SELECT date_trunc('minute', now()) - make_interval(mins => $2 - 1) AS start),
       buckets AS (SELECT generate_series((SELECT start FROM bounds), date_trunc('minute', now()), interval '1 minute') AS at),
       made AS (SELECT date_trunc('minute', created_at) AS at, count(*)::int AS n FROM tasks WHERE project_id = $1 AND gold_item_id IS NULL AND created_at >= (SELECT start FROM bounds) GROUP BY 1),
       finished AS (SELECT date_trunc('minute', completed_at) AS at, count(*)::int AS n FROM tasks WHERE project_id = $1 AND gold_item_id IS NULL AND completed_at >= (SELECT start FROM bounds) GROUP BY 1),
       answered AS (SELECT date_trunc('minute', created_at) AS at, count(*)::int AS n, count(DISTINCT rater_id)::int AS raters FROM annotations WHERE project_id = $1 AND created_at >= (SELECT start FROM bounds) GROUP BY 1),
       lapsed AS (SELECT date_trunc('minute', expires_at) AS at, count(*)::int AS n FROM task_leases WHERE project_id = $1 AND expires_at >= (SELECT start FROM bounds) AND expires_at <= now() GROUP BY 1),
       before AS (
         SELECT count(*)::int AS n FROM tasks
          WHERE project_id = $1 AND gold_item_id IS NULL AND created_at < (SELECT start FROM bounds)
            AND (completed_at IS NULL OR completed_at >= (SELECT start FROM bounds)) AND state <> 'cancelled')
       SELECT b.at, coalesce(m.n, 0) AS created, coalesce(f.n, 0) AS done,
              ((SELECT n FROM before) + sum(coalesce(m.n, 0) - coalesce(f.n, 0)) OVER (ORDER BY b.at))::int AS open,
              coalesce(a.n, 0) AS answers, coalesce(a.raters, 0) AS raters, coalesce(l.n, 0) AS expired
         FROM buckets b
         LEFT JOIN made m USING (at) LEFT JOIN finished f USING (at) LEFT JOIN answered a USING (at) LEFT JOIN lapsed l USING (at)
        ORDER BY b.at`,
      [projectId, minutes],
    );
    const [{ active }]: Array<{ active: number }> = await manager.query(
      `SELECT count(DISTINCT rater_id)::int AS active FROM task_leases WHERE project_id = $1 AND expires_at > now()`,
      [projectId],
    );
    return { points, activeRaters: active };
  }

  async answers(manager: EntityManager, taskId: string): Promise<string[]> {
    const rows: Array<{ label: string }> = await manager.query(`SELECT label FROM annotations WHERE task_id = $1`, [taskId]);
    return rows.map((r) => r.label);
  }

  async recordReview(manager: EntityManager, task: LockedTask, reviewerId: string, label: string): Promise<void> {
    await manager.query(`INSERT INTO task_reviews (task_id, project_id, reviewer_id, label) VALUES ($1, $2, $3, $4)`, [
      task.id,
      task.projectId,
      reviewerId,
      label,
    ]);
  }

  /** Stores an answer to a gold task and scores the rater; returns whether they were right and their record. */
  async answerGold(
    manager: EntityManager,
    task: LockedTask,
    annotation: StoredAnnotation & { timeSpentMs: number | null },
  ): Promise<{ correct: boolean; goldAnswers: number; goldCorrect: number; paused: boolean }> {
    await manager.query(`INSERT INTO annotations (id, project_id, task_id, rater_id, label, time_spent_ms, late) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      annotation.id,
      task.projectId,
      task.id,
      annotation.raterId,
      annotation.label,
      annotation.timeSpentMs,
      annotation.late,
    ]);
    await manager.query(`DELETE FROM task_leases WHERE task_id = $1 AND rater_id = $2`, [task.id, annotation.raterId]);
    const rows: Array<{ correct: boolean; gold_answers: number; gold_correct: number; paused: boolean }> = await manager.query(
      `WITH truth AS (SELECT label = $4 AS correct FROM gold_items WHERE id = $3)
       INSERT INTO rater_quality AS q (project_id, rater_id, gold_answers, gold_correct)
       SELECT $1, $2, 1, CASE WHEN truth.correct THEN 1 ELSE 0 END FROM truth
       ON CONFLICT (project_id, rater_id) DO UPDATE SET gold_answers = q.gold_answers + 1, gold_correct = q.gold_correct + EXCLUDED.gold_correct
       RETURNING (SELECT correct FROM truth) AS correct, gold_answers, gold_correct, paused_at IS NOT NULL AS paused`,
      [task.projectId, annotation.raterId, task.goldItemId, annotation.label],
    );
    const r = rows[0];
    return { correct: r.correct, goldAnswers: r.gold_answers, goldCorrect: r.gold_correct, paused: r.paused };
  }

  /**
   * Ends the live leases a rater may no longer hold (optionally only in one project, or only
   * these tasks): all of them when disabled or left with no live session; else those in
   * projects they are no longer a member of (admins are members of every project), and review
   * tasks in projects where they are no longer a reviewer. Returns what was released.
   */
  async releaseForfeited(
    manager: EntityManager,
    raterId: string,
    scope: { projectId?: string; taskIds?: string[] } = {},
  ): Promise<Array<{ projectId: string; taskId: string }>> {
    const [rows]: [Array<{ project_id: string; task_id: string }>, number] = await manager.query(
      `DELETE FROM task_leases l USING tasks t, users_read u
        WHERE l.rater_id = $1 AND l.expires_at > now() AND t.id = l.task_id AND u.id = l.rater_id
          AND ($2::uuid IS NULL OR l.project_id = $2) AND ($3::uuid[] IS NULL OR l.task_id = ANY($3::uuid[]))
          AND (u.disabled_at IS NOT NULL
               OR NOT EXISTS (SELECT 1 FROM sessions_read s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now())
               OR (u.role <> 'admin' AND NOT EXISTS (
                     SELECT 1 FROM memberships_read m WHERE m.user_id = u.id AND m.project_id = l.project_id AND (t.state <> 'review' OR m.role = 'reviewer'))))
       RETURNING l.project_id, l.task_id`,
      [raterId, scope.projectId ?? null, scope.taskIds ?? null],
    );
    return rows.map((r) => ({ projectId: r.project_id, taskId: r.task_id }));
  }

  async pause(manager: EntityManager, projectId: string, raterId: string): Promise<void> {
    await manager.query(`UPDATE rater_quality SET paused_at = now() WHERE project_id = $1 AND rater_id = $2 AND paused_at IS NULL`, [projectId, raterId]);
    await manager.query(`DELETE FROM task_leases WHERE project_id = $1 AND rater_id = $2`, [projectId, raterId]);
  }

  /** Lifts a pause and starts the rater's gold record afresh; false when they were not paused. */
  async resume(manager: EntityManager, projectId: string, raterId: string): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE rater_quality SET paused_at = NULL, gold_answers = 0, gold_correct = 0 WHERE project_id = $1 AND rater_id = $2 AND paused_at IS NOT NULL`,
      [projectId, raterId],
    );
    return count > 0;
  }

  /** Creates gold items with one gold task each; items promoted from a prediction already gold are skipped. */
  async insertGold(
    manager: EntityManager,
    projectId: string,
    createdBy: string,
    items: Array<{ input: unknown; label: string; scores: Record<string, number> | null; sourcePredictionId: string | null }>,
  ): Promise<number> {
    if (items.length === 0) return 0;
    const rows: Array<{ id: string }> = await manager.query(
      `WITH added AS (
         INSERT INTO gold_items (project_id, input, label, scores, source_prediction_id, created_by)
         SELECT $1, i.input, i.label, i.scores, i.source, $2 FROM unnest($3::jsonb[], $4::text[], $5::jsonb[], $6::uuid[]) AS i(input, label, scores, source)
         ON CONFLICT (project_id, source_prediction_id) WHERE source_prediction_id IS NOT NULL DO NOTHING
         RETURNING id)
       INSERT INTO tasks (project_id, gold_item_id, reason, priority, inclusion_probability, required_annotations)
       SELECT $1, id, 'gold', 0, 1, 1 FROM added
       RETURNING id`,
      [
        projectId,
        createdBy,
        items.map((i) => JSON.stringify(i.input)),
        items.map((i) => i.label),
        items.map((i) => (i.scores ? JSON.stringify(i.scores) : null)),
        items.map((i) => i.sourcePredictionId),
      ],
    );
    return rows.length;
  }

  /** Final human labels of these predictions, with what a gold item needs. */
  async finishedLabels(
    manager: EntityManager,
    projectId: string,
    predictionIds: string[],
  ): Promise<Array<{ predictionId: string; input: unknown; scores: Record<string, number>; label: string }>> {
    const rows: Array<{ id: string; input: unknown; scores: Record<string, number>; value: string }> = await manager.query(
      `SELECT p.id, p.input, p.scores, l.value FROM predictions_read p
         JOIN labels_read l ON l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL AND l.source IN ('consensus', 'review', 'gold')
        WHERE p.project_id = $1 AND p.id = ANY($2::uuid[])`,
      [projectId, predictionIds],
    );
    return rows.map((r) => ({ predictionId: r.id, input: r.input, scores: r.scores, label: r.value }));
  }

  async raterQuality(
    manager: EntityManager,
    projectId: string,
  ): Promise<
    Array<{
      raterId: string;
      email: string;
      annotations: number;
      goldAnswers: number;
      goldCorrect: number;
      medianTimeMs: number | null;
      agreement: number | null;
      pausedAt: Date | null;
    }>
  > {
    const rows: Array<{
      id: string;
      email: string;
      annotations: number;
      gold_answers: number | null;
      gold_correct: number | null;
      median_ms: number | null;
      agreement: number | null;
      paused_at: Date | null;
    }> = await manager.query(
      `SELECT u.id, u.email, coalesce(a.n, 0) AS annotations, a.median_ms, a.agreement, q.gold_answers, q.gold_correct, q.paused_at
           FROM memberships_read m JOIN users_read u ON u.id = m.user_id
           LEFT JOIN rater_quality q ON q.project_id = m.project_id AND q.rater_id = u.id
           LEFT JOIN LATERAL (
             SELECT count(*)::int AS n,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY an.time_spent_ms)::float8 AS median_ms,
                    -- gold answers are scored on gold, not against final labels (gold tasks have none)
                    (avg(CASE WHEN l.value IS NULL THEN NULL WHEN l.value = an.label THEN 1.0 ELSE 0.0 END))::float8 AS agreement
               FROM annotations an
               LEFT JOIN labels_read l ON l.task_id = an.task_id AND l.superseded_at IS NULL
              WHERE an.project_id = m.project_id AND an.rater_id = u.id) a ON true
          WHERE m.project_id = $1
          ORDER BY u.email`,
      [projectId],
    );
    return rows.map((r) => ({
      raterId: r.id,
      email: r.email,
      annotations: r.annotations,
      goldAnswers: r.gold_answers ?? 0,
      goldCorrect: r.gold_correct ?? 0,
      medianTimeMs: r.median_ms,
      agreement: r.agreement,
      pausedAt: r.paused_at,
    }));
  }
}

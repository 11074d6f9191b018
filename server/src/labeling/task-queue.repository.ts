import { Injectable } from '@nestjs/common';
import type { TaskState } from '@backflow/contracts';
import type { Pool } from 'pg';
import { EntityManager } from 'typeorm';

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
  /** the model's output by question, as stored with the prediction */
  suggestions: Record<string, unknown> | null;
  predictedLabel: string | null;
  /** a machine's label of the prediction, when one is its current label: the label model's or the nearest human-labelled neighbours' */
  machineLabel?: { source: 'weak' | 'propagated'; label: string; confidence: number } | null;
}

export type LeasedView = TaskView & { leaseExpiresAt: Date };

interface LeasedRow {
  id: string;
  expires_at: Date;
  input: Record<string, unknown>;
  predicted_label: string | null;
  scores: Record<string, number> | null;
  suggestions: Record<string, unknown> | null;
  machine_source?: 'weak' | 'propagated' | null;
  machine_value?: string | null;
  machine_weight?: number | null;
}

function toLeasedView(r: LeasedRow): LeasedView {
  return {
    id: r.id,
    input: r.input,
    predictedLabel: r.predicted_label,
    scores: r.scores,
    suggestions: r.suggestions,
    machineLabel: r.machine_source && r.machine_value ? { source: r.machine_source, label: r.machine_value, confidence: r.machine_weight ?? 0 } : null,
    leaseExpiresAt: r.expires_at,
  };
}

// a prediction's current machine label (one index lookup by the current-label key), for the rater to see as a suggestion
const MACHINE_LABEL_JOIN = `LEFT JOIN labels_read ml ON ml.project_id = t.project_id AND ml.prediction_id = t.prediction_id AND ml.superseded_at IS NULL
                          AND ml.source IN ('weak', 'propagated')`;
const MACHINE_LABEL_COLUMNS = `ml.source AS machine_source, ml.value AS machine_value, ml.weight AS machine_weight`;

export interface SubmitOutcome {
  outcome:
    | 'not_found'
    | 'gold'
    | 'duplicate'
    | 'id_taken'
    | 'already_answered'
    | 'complete'
    | 'not_claimed'
    | 'span_out_of_range'
    | 'items_mismatch'
    | 'stored'
    | 'agreed'
    | 'escalated'
    | 'review';
  taskState: TaskState;
  late: boolean | null;
  /** the stored (or, for a duplicate, the earlier) label; for agreed, the final label */
  label: string | null;
  predictionId: string | null;
  agreement: number | null;
  /** the stored (or earlier) answers; for agreed, the decided ones */
  answers: Record<string, unknown> | null;
}

export interface SubmitRequest {
  projectId: string;
  taskId: string;
  raterId: string;
  annotationId: string;
  label: string;
  answers: Record<string, unknown>;
  /** what the answer decides if it is the task's only one; null: a project of one label question (plain majority over labels) */
  alone: AloneDecision | null;
  routingQuestion: string;
  spanEnds: Record<string, number> | null;
  /** per ranking question, the items graded in id order: the database checks them against the list */
  rankedItems: Record<string, string[]> | null;
  timeSpentMs: number | null;
  agreementThreshold: number;
  maxAnnotations: number;
}

interface SubmitRow {
  outcome: SubmitOutcome['outcome'];
  task_state: TaskState;
  late: boolean | null;
  label: string | null;
  prediction_id: string | null;
  agreement: number | null;
  answers: Record<string, unknown> | null;
}

// the outcomes after which the rater goes on to the next task: the answer stored, now or before (a gold task takes its own path)
const CLAIMING_OUTCOMES = ['duplicate', 'stored', 'agreed', 'escalated', 'review'].map((o) => `'${o}'`).join(', ');

const submitValues = (request: SubmitRequest) => [
  request.projectId,
  request.taskId,
  request.raterId,
  request.annotationId,
  request.label,
  request.timeSpentMs,
  request.agreementThreshold,
  request.maxAnnotations,
  JSON.stringify(request.answers),
  request.alone === null ? null : JSON.stringify(request.alone),
  request.routingQuestion,
  request.spanEnds === null ? null : JSON.stringify(request.spanEnds),
  request.rankedItems === null ? null : JSON.stringify(request.rankedItems),
];

const toSubmitOutcome = (r: SubmitRow): SubmitOutcome => ({
  outcome: r.outcome,
  taskState: r.task_state,
  late: r.late,
  label: r.label,
  predictionId: r.prediction_id,
  agreement: r.agreement,
  answers: r.answers,
});

/** A decision of one answer, as `backflow_submit_annotation` takes it (`p_alone`). */
export interface AloneDecision {
  kind: 'agreed' | 'escalate' | 'review';
  agreement: number;
  /** agreed: the decided answers, and the routing question's as text */
  answers: Record<string, unknown> | null;
  label: string | null;
}

export interface StoredAnnotation {
  id: string;
  taskId: string;
  raterId: string;
  label: string;
  answers: Record<string, unknown>;
  late: boolean;
}

/**
 * Tasks, leases and annotations in SQL: the hot paths (claim, submit) are a few indexed
 * statements each, and every change to a task happens under its row lock.
 */
@Injectable()
export class TaskQueueRepository {
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
       SELECT lease.paused, lease.task_id AS id, lease.expires_at, coalesce(p.input, g.input) AS input, p.predicted_label, coalesce(p.scores, g.scores) AS scores,
              p.suggestions, ${MACHINE_LABEL_COLUMNS}
         FROM lease
         LEFT JOIN tasks t ON t.id = lease.task_id
         LEFT JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id
         LEFT JOIN gold_items g ON g.id = t.gold_item_id
         ${MACHINE_LABEL_JOIN}`,
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
  async submit(pool: Pool, request: SubmitRequest): Promise<SubmitOutcome> {
    const { rows } = await pool.query<SubmitRow>({
      name: 'backflow-submit',
      text: `SELECT * FROM backflow_submit_annotation($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      values: submitValues(request),
    });
    return toSubmitOutcome(rows[0]);
  }

  /**
   * A submit, and when it stored the answer (or found it stored before), the claim of the
   * rater's next task, in one statement: one round trip and one commit for the rater UI's
   * "answer, and the next one". `claimed` is absent when the claim did not run (the answer was
   * refused, or the task is gold and takes its own path).
   */
  async submitAndClaim(
    pool: Pool,
    request: SubmitRequest,
    next: { ttlSeconds: number; maxHeld: number; gold: boolean },
  ): Promise<{ submitted: SubmitOutcome; claimed?: { paused: boolean; task?: LeasedView } }> {
    const { rows } = await pool.query<SubmitRow & LeasedRow & { paused: boolean | null; claimed: boolean }>({
      name: 'backflow-submit-claim',
      // the claim is lateral to the submit's row: it runs after the submit, and only for an answer stored (or stored before)
      text: `WITH s AS MATERIALIZED (SELECT * FROM backflow_submit_annotation($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)),
       lease AS MATERIALIZED (
         SELECT c.* FROM s CROSS JOIN LATERAL (
           SELECT * FROM backflow_claim_task($1, $3, $14, $15, false, $16) WHERE s.outcome IN (${CLAIMING_OUTCOMES})) c)
       SELECT s.*, s.outcome IN (${CLAIMING_OUTCOMES}) AS claimed, lease.paused, lease.task_id AS id, lease.expires_at,
              coalesce(p.input, g.input) AS input, p.predicted_label, coalesce(p.scores, g.scores) AS scores, p.suggestions, ${MACHINE_LABEL_COLUMNS}
         FROM s
         LEFT JOIN lease ON true
         LEFT JOIN tasks t ON t.id = lease.task_id
         LEFT JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id
         LEFT JOIN gold_items g ON g.id = t.gold_item_id
         ${MACHINE_LABEL_JOIN}`,
      values: [...submitValues(request), next.ttlSeconds, next.maxHeld, next.gold],
    });
    const row = rows[0];
    return {
      submitted: toSubmitOutcome(row),
      ...(row.claimed && { claimed: { paused: row.paused ?? false, task: row.id ? toLeasedView(row) : undefined } }),
    };
  }

  /**
   * The open tasks a rater holds a live lease on in a project (not review tasks: those are the
   * review screen's), oldest lease first: the task on screen, then the one leased ahead.
   */
  async held(manager: EntityManager, projectId: string, raterId: string): Promise<LeasedView[]> {
    const rows: LeasedRow[] = await manager.query(
      `SELECT l.task_id AS id, l.expires_at, coalesce(p.input, g.input) AS input, p.predicted_label, coalesce(p.scores, g.scores) AS scores,
              p.suggestions, ${MACHINE_LABEL_COLUMNS}
         FROM task_leases l
         JOIN tasks t ON t.id = l.task_id
         LEFT JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id
         LEFT JOIN gold_items g ON g.id = t.gold_item_id
         ${MACHINE_LABEL_JOIN}
        WHERE l.rater_id = $2 AND l.project_id = $1 AND l.expires_at > now() AND t.state IN ('queued', 'escalated')
        ORDER BY l.claimed_at, l.task_id`,
      [projectId, raterId],
    );
    return rows.map(toLeasedView);
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
      previous: { id: string; task_id: string; rater_id: string; label: string; answers: Record<string, unknown>; late: boolean } | null;
      answered: boolean;
      live: boolean | null;
    }> = await manager.query(
      `SELECT (SELECT row_to_json(a) FROM (SELECT id, task_id, rater_id, label, answers, late FROM annotations WHERE id = $3) a) AS previous,
              EXISTS (SELECT 1 FROM annotations WHERE task_id = $1 AND rater_id = $2) AS answered,
              (SELECT expires_at > now() FROM task_leases WHERE task_id = $1 AND rater_id = $2) AS live`,
      [taskId, raterId, annotationId],
    );
    const p = row.previous;
    return {
      previous: p ? { id: p.id, taskId: p.task_id, raterId: p.rater_id, label: p.label, answers: p.answers, late: p.late } : undefined,
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
      `SELECT t.id, $2::timestamptz AS expires_at, p.input, p.predicted_label, p.scores, ${MACHINE_LABEL_COLUMNS}
         FROM tasks t JOIN predictions_read p ON p.project_id = t.project_id AND p.id = t.prediction_id
         ${MACHINE_LABEL_JOIN}
        WHERE t.id = $1`,
      [task.id, lease.expires_at],
    );
    return { task: toLeasedView(row), released: released[0]?.task_id ?? null };
  }

  /** How the raters answered a task, and what they reported, for its reviewer. */
  async reviewContext(
    manager: EntityManager,
    taskId: string,
  ): Promise<{ answers: Array<{ label: string; count: number }>; reports: string[]; annotations: Array<{ answers: Record<string, unknown> }> }> {
    const [row]: Array<{
      answers: Array<{ label: string; count: number }> | null;
      reports: string[] | null;
      annotations: Array<{ answers: Record<string, unknown> }> | null;
    }> = await manager.query(
      `SELECT (SELECT json_agg(json_build_object('label', a.label, 'count', a.n) ORDER BY a.n DESC, a.label)
                 FROM (SELECT label, count(*)::int AS n FROM annotations WHERE task_id = $1 GROUP BY label) a) AS answers,
              (SELECT array_agg(reason ORDER BY created_at) FROM task_skips WHERE task_id = $1 AND reason LIKE 'problem%') AS reports,
              (SELECT json_agg(json_build_object('answers', a.answers) ORDER BY a.created_at, a.id) FROM annotations a WHERE a.task_id = $1) AS annotations`,
      [taskId],
    );
    return { answers: row.answers ?? [], reports: row.reports ?? [], annotations: row.annotations ?? [] };
  }

  /** The input of a task's prediction (what span answers point into) and the model's outputs (a ranking's list). */
  async itemOf(manager: EntityManager, task: LockedTask): Promise<{ input: Record<string, unknown>; suggestions: Record<string, unknown> | null } | undefined> {
    const [row]: Array<{ input: Record<string, unknown>; suggestions: Record<string, unknown> | null }> = await manager.query(
      `SELECT input, suggestions FROM predictions_read WHERE project_id = $1 AND id = $2`,
      [task.projectId, task.predictionId],
    );
    return row;
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

  async answers(manager: EntityManager, taskId: string): Promise<string[]> {
    const rows: Array<{ label: string }> = await manager.query(`SELECT label FROM annotations WHERE task_id = $1`, [taskId]);
    return rows.map((r) => r.label);
  }

  async recordReview(manager: EntityManager, task: LockedTask, reviewerId: string, label: string, answers: Record<string, unknown>): Promise<void> {
    await manager.query(`INSERT INTO task_reviews (task_id, project_id, reviewer_id, label, answers) VALUES ($1, $2, $3, $4, $5)`, [
      task.id,
      task.projectId,
      reviewerId,
      label,
      JSON.stringify(answers),
    ]);
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
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Votable } from '@backflow/weak';

export interface ExaminedPrediction extends Votable {
  id: string;
  /** the current human label (consensus, review, gold), if any */
  humanLabel: string | undefined;
  /** what each feedback rule labelled it (`rules[0]`, `absence`, …), current or superseded by a human label since */
  feedback: Map<string, string>;
}

/** Weak supervision's reads: the newest predictions of a project with their human and feedback labels, through the read models. */
@Injectable()
export class WeakRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async newest(projectId: string, limit: number): Promise<ExaminedPrediction[]> {
    const predictions: Array<{ id: string; input: unknown; slice: Record<string, string> | null; scores: Record<string, number> | null }> =
      await this.dataSource.query(`SELECT id, input, slice, scores FROM predictions_read WHERE project_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2`, [
        projectId,
        limit,
      ]);
    if (predictions.length === 0) return [];
    const labels: Array<{ prediction_id: string; value: string; source: string; rule: string | null; current: boolean }> = await this.dataSource.query(
      `SELECT prediction_id, value, source, rule, superseded_at IS NULL AS current FROM labels_read
        WHERE project_id = $1 AND prediction_id = ANY($2::uuid[]) AND (superseded_at IS NULL OR source = 'feedback')
        ORDER BY created_at`,
      [projectId, predictions.map((p) => p.id)],
    );
    const byId = new Map<string, ExaminedPrediction>(
      predictions.map((p) => [p.id, { id: p.id, input: p.input, slice: p.slice, scores: p.scores, humanLabel: undefined, feedback: new Map() }]),
    );
    for (const label of labels) {
      const prediction = byId.get(label.prediction_id)!;
      if (label.source === 'feedback') prediction.feedback.set(label.rule ?? 'feedback', label.value);
      else if (label.current && label.source !== 'weak') prediction.humanLabel = label.value;
    }
    return [...byId.values()];
  }

  /** Projects whose functions write weak labels. */
  async labellingProjects(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM projects_read
        WHERE ((jsonb_typeof(weak_supervision -> 'weakLabels') = 'object' OR weak_supervision ? 'routeBelow')
               AND jsonb_array_length(coalesce(weak_supervision -> 'functions', '[]')) > 0)
           OR jsonb_typeof(weak_supervision -> 'propagation') = 'object'`,
    );
    return rows.map((r) => r.id);
  }

  /** Where the pass over new predictions has got to (locked for the caller's transaction, so two passes of a project take turns). */
  /** (times as text to the microsecond, PostgreSQL's precision: a cursor rounded to milliseconds would read rows of its own instant again) */
  async lockState(manager: EntityManager, projectId: string): Promise<{ receivedAt: string | null; predictionId: string | null }> {
    await manager.query(`INSERT INTO weak_label_state (project_id) VALUES ($1) ON CONFLICT DO NOTHING`, [projectId]);
    const [row]: Array<{ received_at: string | null; prediction_id: string | null }> = await manager.query(
      `SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at, prediction_id FROM weak_label_state WHERE project_id = $1 FOR UPDATE`,
      [projectId],
    );
    return { receivedAt: row.received_at, predictionId: row.prediction_id };
  }

  /** The predictions received after the cursor, oldest first, with whether they have a current label. */
  async after(
    manager: EntityManager,
    projectId: string,
    cursor: { receivedAt: string | null; predictionId: string | null },
    limit: number,
    settleMs: number,
  ): Promise<Array<Votable & { id: string; receivedAt: string; labelled: boolean; embedding: number[] | null }>> {
    const rows: Array<{
      id: string;
      input: unknown;
      slice: Record<string, string> | null;
      scores: Record<string, number> | null;
      received_at: string;
      labelled: boolean;
      embedding: number[] | null;
    }> = await manager.query(
      `SELECT p.id, p.input, p.slice, p.scores, to_char(p.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at, p.embedding,
                EXISTS (SELECT 1 FROM labels_read l WHERE l.project_id = p.project_id AND l.prediction_id = p.id AND l.superseded_at IS NULL) AS labelled
           FROM predictions_read p
          WHERE p.project_id = $1 AND ($2::timestamptz IS NULL OR (p.received_at, p.id) > ($2::timestamptz, $3::uuid)) AND p.received_at < now() - make_interval(secs => $5::float8 / 1000)
          ORDER BY p.received_at, p.id
          LIMIT $4`,
      [projectId, cursor.receivedAt, cursor.predictionId, limit, settleMs],
    );
    return rows.map((r) => ({
      id: r.id,
      input: r.input,
      slice: r.slice,
      scores: r.scores,
      receivedAt: r.received_at,
      labelled: r.labelled,
      embedding: r.embedding,
    }));
  }

  /** The newest human labels (consensus, review, gold) of predictions with an embedding: what propagation spreads. */
  async labelledEmbeddings(manager: EntityManager, projectId: string, limit: number): Promise<Array<{ label: string; embedding: number[] }>> {
    const rows: Array<{ value: string; embedding: number[] }> = await manager.query(
      `SELECT l.value, p.embedding FROM labels_read l JOIN predictions_read p ON p.project_id = l.project_id AND p.id = l.prediction_id
        WHERE l.project_id = $1 AND l.superseded_at IS NULL AND l.source IN ('consensus', 'review', 'gold') AND p.embedding IS NOT NULL
        ORDER BY l.created_at DESC LIMIT $2`,
      [projectId, limit],
    );
    return rows.map((r) => ({ label: r.value, embedding: r.embedding }));
  }

  async saveState(
    manager: EntityManager,
    projectId: string,
    state: { receivedAt: string | null; predictionId: string | null; labelled: number; model?: Record<string, unknown> },
  ): Promise<void> {
    await manager.query(
      `UPDATE weak_label_state SET received_at = $2::timestamptz, prediction_id = $3, labelled = labelled + $4,
              model = coalesce($5::jsonb, model), fitted_at = CASE WHEN $5::jsonb IS NULL THEN fitted_at ELSE now() END
        WHERE project_id = $1`,
      [projectId, state.receivedAt, state.predictionId, state.labelled, state.model ? JSON.stringify(state.model) : null],
    );
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { hourFloor, quoteIdent } from '../common/database/time-partitions';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// an hour is first rolled this long after it ends (predictions of it that arrive later make it rolled again)
export const ROLLUP_GRACE_MS = HOUR_MS;

/**
 * Hourly rollups of a project's predictions (issue 22), kept for the project's life so that
 * monitoring still has an hour's figures after retention removed its raw rows. Two steps, one
 * writer (this class): `roll` stores what the predictions themselves say (count, confidence,
 * predicted labels, feature histograms) once the hour is an hour old, and again when more of
 * its predictions arrive before it is settled; `settle` adds what came
 * after (labels by source, feedback by type) when retention is about to remove the hour's raw
 * rows, under retention's lock on the partition, and marks the hour settled. Both aggregate
 * with the database functions of predictions.functions.sql, which monitoring also calls for the
 * hours not rolled yet, so a stored hour and a computed one are the same figures.
 */
@Injectable()
export class PredictionRollups {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Rolls every hour of the project that ended at least `ROLLUP_GRACE_MS` before `now` and is
   * not rolled yet, a day per transaction (the project's state row is locked: one roller at a
   * time), after rolling again the hours late predictions arrived for. A project rolls from its
   * oldest partition the first time. Returns the hours rolled.
   */
  async roll(projectId: string, now = new Date()): Promise<number> {
    const until = hourFloor(new Date(now.getTime() - ROLLUP_GRACE_MS));
    let hours = await this.rollLate(projectId);
    await this.analyzeUnread(projectId, until);
    for (;;) {
      const step = await this.dataSource.transaction(async (manager) => {
        await manager.query(
          `INSERT INTO prediction_rollup_state (project_id, rolled_through)
           SELECT $1, least($2::timestamptz, coalesce((SELECT min(from_on) FROM prediction_partitions WHERE project_id = $1)::timestamp AT TIME ZONE 'UTC', $2::timestamptz))
           ON CONFLICT (project_id) DO NOTHING`,
          [projectId, until],
        );
        const [{ rolled_through: from }]: Array<{ rolled_through: Date }> = await manager.query(
          `SELECT rolled_through FROM prediction_rollup_state WHERE project_id = $1 FOR UPDATE`,
          [projectId],
        );
        if (from >= until) return 0;
        const to = new Date(Math.min(from.getTime() + DAY_MS, until.getTime()));
        await manager.query(`SELECT count(*) FROM backflow_prediction_rollup_edges($1, $2, $3)`, [projectId, from, to]);
        await manager.query(
          `INSERT INTO prediction_rollups (project_id, hour, model_version, slice, predictions, confidence, predicted, features)
           SELECT $1, r.* FROM backflow_prediction_rollup($1, $2, $3) r
           ON CONFLICT (project_id, hour, model_version, slice) DO NOTHING`,
          [projectId, from, to],
        );
        await manager.query(`UPDATE prediction_rollup_state SET rolled_through = $2 WHERE project_id = $1`, [projectId, to]);
        return (to.getTime() - from.getTime()) / HOUR_MS;
      });
      if (step === 0) return hours;
      hours += step;
    }
  }

  /**
   * Gathers statistics on the project's partitions that have none and hold hours not rolled
   * yet. A partition filled faster than autovacuum looks (a backfill, an import, a burst) has
   * none, and the planner then reads an hour of it through the primary key, a row at a time:
   * 5.7 s where a scan takes 0.4 s for a day of 667,000.
   */
  private async analyzeUnread(projectId: string, until: Date): Promise<void> {
    const partitions: Array<{ name: string }> = await this.dataSource.query(
      `SELECT pp.name FROM prediction_partitions pp
         JOIN pg_stat_user_tables s ON s.relid = to_regclass(quote_ident(pp.name))
        WHERE pp.project_id = $1 AND s.last_analyze IS NULL AND s.last_autoanalyze IS NULL
          AND pp.from_on < ($2::timestamptz AT TIME ZONE 'UTC')::date + 1
          AND pp.to_on > coalesce((SELECT (rolled_through AT TIME ZONE 'UTC')::date FROM prediction_rollup_state WHERE project_id = $1), '-infinity')`,
      [projectId, until],
    );
    for (const { name } of partitions) await this.dataSource.query(`ANALYZE ${quoteIdent(name)}`);
  }

  /**
   * Rolls again the hours already rolled (and not settled) that predictions arrived for since the
   * last roll began: a model server that sent yesterday's traffic today, a replay, a restore.
   * Found by arrival (the arrival index). A transaction stamps its rows' arrival when it begins,
   * so one that began before the last roll and committed after it stamped them earlier than the
   * roll: `rolled_at` is the start of the oldest transaction open when the roll began (or the
   * roll's own start), and every row the roll could not see arrived at or after it. Returns the
   * hours rolled again.
   */
  private async rollLate(projectId: string): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [state]: Array<{ rolled_through: Date; rolled_at: Date; began: Date }> = await manager.query(
        `SELECT rolled_through, rolled_at,
                least(statement_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND xact_start IS NOT NULL)) AS began
           FROM prediction_rollup_state WHERE project_id = $1 FOR UPDATE`,
        [projectId],
      );
      if (!state) return 0;
      const late: Array<{ hour: Date }> = await manager.query(
        `SELECT DISTINCT date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour FROM predictions
          WHERE project_id = $1 AND received_at >= $2 AND occurred_at < $3
            AND occurred_on <= ($3::timestamptz AT TIME ZONE 'UTC')::date
            AND NOT EXISTS (SELECT 1 FROM prediction_rollups r WHERE r.project_id = $1 AND r.hour = date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND r.settled_at IS NOT NULL)`,
        [projectId, state.rolled_at, state.rolled_through],
      );
      // consecutive hours are rolled again in one statement: one read of their partition, not one per hour
      for (const { from, to } of consecutiveHours(late.map((l) => l.hour))) {
        await manager.query(`DELETE FROM prediction_rollups WHERE project_id = $1 AND hour >= $2 AND hour < $3`, [projectId, from, to]);
        await manager.query(
          `INSERT INTO prediction_rollups (project_id, hour, model_version, slice, predictions, confidence, predicted, features)
           SELECT $1, r.* FROM backflow_prediction_rollup($1, $2, $3) r`,
          [projectId, from, to],
        );
      }
      await manager.query(`UPDATE prediction_rollup_state SET rolled_at = $2 WHERE project_id = $1`, [projectId, state.began]);
      return late.length;
    });
  }

  /**
   * Settles the rolled hours of [from, to): their labels by source and feedback by type (and a
   * ranking's clicks by position, `ranking` naming its question) are stored on them, once (an
   * hour settled stays as it was). Called under a lock that keeps the hours' predictions from
   * changing, just before they go.
   */
  async settle(manager: EntityManager, projectId: string, from: Date, to: Date, ranking: string | null = null): Promise<void> {
    await manager.query(
      `UPDATE prediction_rollups r SET labels = o.labels, feedback = o.feedback, clicks = o.clicks, settled_at = now()
         FROM backflow_prediction_outcomes($1, $2, $3, $4) o
        WHERE r.project_id = $1 AND r.hour = o.hour AND r.model_version = o.model_version AND r.slice = o.slice AND r.settled_at IS NULL`,
      [projectId, from, to, ranking],
    );
    // groups no prediction is left of (none, unless rows were removed another way) settle with nothing after them
    await manager.query(
      `UPDATE prediction_rollups SET labels = '{}', feedback = '{}', settled_at = now()
        WHERE project_id = $1 AND hour >= $2 AND hour < $3 AND settled_at IS NULL`,
      [projectId, from, to],
    );
  }
}

/** Hours (each the start of one) as the fewest ranges [from, to) that hold exactly them, each within one UTC day. */
export function consecutiveHours(hours: Date[]): Array<{ from: Date; to: Date }> {
  const ranges: Array<{ from: Date; to: Date }> = [];
  for (const hour of [...hours].sort((a, b) => a.getTime() - b.getTime())) {
    const last = ranges.at(-1);
    const sameDay = last && Math.floor(last.from.getTime() / DAY_MS) === Math.floor(hour.getTime() / DAY_MS);
    if (last && sameDay && last.to.getTime() === hour.getTime()) last.to = new Date(hour.getTime() + HOUR_MS);
    else ranges.push({ from: hour, to: new Date(hour.getTime() + HOUR_MS) });
  }
  return ranges;
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hourly rollups of predictions (issue 22): per project, hour (of the prediction's timestamp),
 * model version and slice, the count, the confidence histogram, the predicted labels, the
 * per input feature a histogram over the project's fixed edges (numeric) or the value counts
 * (categorical): rolled an hour after the hour ends (`prediction_rollup_state.rolled_through`), and
 * again when predictions of that hour arrive later (until the hour is settled).
 * What comes later (labels by source, feedback by type) is added when retention settles the hour,
 * just before its raw rows go (`settled_at`). The rollups outlive the raw rows: monitoring reads
 * them for settled hours. A numeric feature's edges are fixed the first time it is rolled, so
 * hours stay comparable for the project's life.
 */
export class PredictionRollups1764360000000 implements MigrationInterface {
  name = 'PredictionRollups1764360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE prediction_rollups (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        hour timestamptz NOT NULL CHECK (date_trunc('hour', hour AT TIME ZONE 'UTC') = hour AT TIME ZONE 'UTC'),
        model_version text NOT NULL,
        slice jsonb NOT NULL,
        predictions integer NOT NULL CHECK (predictions > 0),
        confidence jsonb NOT NULL,
        predicted jsonb NOT NULL,
        features jsonb NOT NULL,
        labels jsonb,
        feedback jsonb,
        settled_at timestamptz,
        PRIMARY KEY (project_id, hour, model_version, slice)
      )`);
    await q.query(`
      CREATE TABLE prediction_rollup_edges (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        feature text NOT NULL,
        edges double precision[] NOT NULL,
        PRIMARY KEY (project_id, feature)
      )`);
    await q.query(`
      CREATE TABLE prediction_rollup_state (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        rolled_through timestamptz NOT NULL CHECK (date_trunc('hour', rolled_through AT TIME ZONE 'UTC') = rolled_through AT TIME ZONE 'UTC'),
        -- when the last roll began: predictions received since then for hours already rolled are rolled again
        rolled_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS backflow_prediction_rollup(uuid, timestamptz, timestamptz)`);
    await q.query(`DROP FUNCTION IF EXISTS backflow_prediction_rollup_edges(uuid, timestamptz, timestamptz)`);
    await q.query(`DROP VIEW IF EXISTS prediction_rollups_read`);
    await q.query(`DROP TABLE prediction_rollup_state`);
    await q.query(`DROP TABLE prediction_rollup_edges`);
    await q.query(`DROP TABLE prediction_rollups`);
  }
}

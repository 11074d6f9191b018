import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budgets over a window of predictions (issue 24): a project's count of predictions received,
 * and the tasks made in the window of the next one. One row per project, locked while routing
 * only when the project's budget has `perPredictions`.
 */
export class RoutingPredictionWindows1764450000000 implements MigrationInterface {
  name = 'RoutingPredictionWindows1764450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE routing_prediction_windows (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        received bigint NOT NULL DEFAULT 0 CHECK (received >= 0),
        window_size integer NOT NULL CHECK (window_size > 0),
        window_index bigint NOT NULL DEFAULT 0,
        used integer NOT NULL DEFAULT 0 CHECK (used >= 0)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing_prediction_windows`);
  }
}

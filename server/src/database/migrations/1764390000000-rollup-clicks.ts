import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A ranking project's clicks kept in its hourly rollups: per position, the candidates shown and
 * how many of them users engaged with, by the set of event types that engaged each (stored when
 * the hour is settled, just before its predictions go). `backflow_prediction_outcomes` takes the
 * ranking question and returns them: its old signature is dropped, the definitions make the new.
 */
export class RollupClicks1764390000000 implements MigrationInterface {
  name = 'RollupClicks1764390000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE prediction_rollups ADD COLUMN IF NOT EXISTS clicks jsonb`);
    await q.query(`DROP FUNCTION IF EXISTS backflow_prediction_outcomes(uuid, timestamptz, timestamptz)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS backflow_prediction_outcomes(uuid, timestamptz, timestamptz, text)`);
    await q.query(`DROP VIEW IF EXISTS prediction_rollups_read`);
    await q.query(`ALTER TABLE prediction_rollups DROP COLUMN IF EXISTS clicks`);
  }
}

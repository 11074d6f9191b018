import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Training–serving skew (issue 23): alerts of kind `skew` (schema, distribution and feature skew),
 * and the last feature skew report (uploaded training examples against the predictions of the same
 * ids) kept beside the project's schema and statistics.
 */
export class TrainingServingSkew1764440000000 implements MigrationInterface {
  name = 'TrainingServingSkew1764440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE monitoring_alerts DROP CONSTRAINT monitoring_alerts_kind_check`);
    await q.query(`ALTER TABLE monitoring_alerts ADD CONSTRAINT monitoring_alerts_kind_check CHECK (kind IN ('accuracy', 'drift', 'anomaly', 'ctr', 'skew'))`);
    await q.query(`ALTER TABLE feature_schemas ADD COLUMN feature_skew jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feature_schemas DROP COLUMN feature_skew`);
    await q.query(`DELETE FROM monitoring_alerts WHERE kind = 'skew'`);
    await q.query(`ALTER TABLE monitoring_alerts DROP CONSTRAINT monitoring_alerts_kind_check`);
    await q.query(`ALTER TABLE monitoring_alerts ADD CONSTRAINT monitoring_alerts_kind_check CHECK (kind IN ('accuracy', 'drift', 'anomaly', 'ctr'))`);
  }
}

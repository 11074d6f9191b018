import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Query-by-committee (issue 24): a prediction may carry other models' class scores for the same
 * input (a challenger's, a shadow's), which routing's vote_entropy and kl_divergence read.
 */
export class PredictionCommittee1764480000000 implements MigrationInterface {
  name = 'PredictionCommittee1764480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions ADD COLUMN committee jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS predictions_read`);
    await q.query(`ALTER TABLE predictions DROP COLUMN committee`);
  }
}

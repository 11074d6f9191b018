import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Diversity and propagation (issue 24): a prediction may carry its input's embedding, kept as
 * real[] (float32, 4 bytes a dimension, TOASTed and compressed past a couple of kilobytes; models
 * emit float32, so nothing a model sent is lost but the digits JSON adds).
 */
export class PredictionEmbedding1764490000000 implements MigrationInterface {
  name = 'PredictionEmbedding1764490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions ADD COLUMN embedding real[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS predictions_read`);
    await q.query(`ALTER TABLE predictions DROP COLUMN embedding`);
  }
}

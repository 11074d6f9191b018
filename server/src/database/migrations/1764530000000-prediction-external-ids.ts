import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A prediction may come with the caller's own id (a model server's request id), keyed by its
 * UUID version 5 in the project (ADR 0043); the text as sent is kept beside the key to be
 * answered and exported as it came. Null for every row stored before, and for UUID ids: adding
 * a nullable column with no default changes only the catalog, on the partitioned table and every
 * partition at once, so a populated database is not rewritten.
 */
export class PredictionExternalIds1764530000000 implements MigrationInterface {
  name = 'PredictionExternalIds1764530000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions ADD COLUMN external_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS predictions_read`);
    await q.query(`ALTER TABLE predictions DROP COLUMN external_id`);
  }
}

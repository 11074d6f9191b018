import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A project's TFDV artifacts as its pipeline wrote them (issue 23): the uploaded schema.pbtxt as a
 * tensorflow_metadata Schema, and the uploaded statistics' dataset as a DatasetFeatureStatistics,
 * both in the messages' JSON (int64 as decimal text), beside the monitoring schema and baseline
 * Backflow derives from them. The exports keep the schema's settings; drift and skew read its
 * comparators and the statistics.
 */
export class TfdvArtifacts1764420000000 implements MigrationInterface {
  name = 'TfdvArtifacts1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feature_schemas ADD COLUMN tfdv_schema jsonb, ADD COLUMN tfdv_statistics jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feature_schemas DROP COLUMN IF EXISTS tfdv_schema, DROP COLUMN IF EXISTS tfdv_statistics`);
  }
}

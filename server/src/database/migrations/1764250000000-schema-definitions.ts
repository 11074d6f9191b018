import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The content hash of each database definition file (functions and read-model views kept in
 * `.sql` files beside their module) as last applied: boot re-applies a file whose hash changed.
 */
export class SchemaDefinitions1764250000000 implements MigrationInterface {
  name = 'SchemaDefinitions1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE schema_definitions (
        name text PRIMARY KEY,
        sha256 text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS schema_definitions`);
  }
}

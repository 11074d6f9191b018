import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Masked fields in exports: each project's own key for hashing them (made with the project,
 * never mapped to its entity, so no API returns it), and the masked fields each export version
 * was opened with (a re-run writes the same bytes after the project's list changed).
 */
export class ExportMasking1764230000000 implements MigrationInterface {
  name = 'ExportMasking1764230000000';

  async up(q: QueryRunner): Promise<void> {
    // 32 bytes (244 random) from PostgreSQL's strong random source, with no extension; a volatile default gives each existing project its own
    await q.query(
      `ALTER TABLE projects ADD COLUMN export_hash_key bytea NOT NULL DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) CHECK (length(export_hash_key) >= 32)`,
    );
    await q.query(`ALTER TABLE export_versions ADD COLUMN masked_fields jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(masked_fields) = 'array')`);
    // the default policy written into the settings of the projects made before it existed
    await q.query(`UPDATE projects SET export_settings = export_settings || '{"maskedFields": "drop"}' WHERE NOT export_settings ? 'maskedFields'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE projects SET export_settings = export_settings - 'maskedFields'`);
    await q.query(`ALTER TABLE export_versions DROP COLUMN IF EXISTS masked_fields`);
    await q.query(`ALTER TABLE projects DROP COLUMN IF EXISTS export_hash_key`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An API key scope for orchestrators (issue 23): `export:write` starts a project's exports and
 * follows their jobs, so a pipeline (an Airflow sensor, a Kubeflow component, a shell step) needs
 * no admin's session. `export:read` still lists spans and downloads files.
 */
export class ExportWriteScope1764430000000 implements MigrationInterface {
  name = 'ExportWriteScope1764430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check`);
    await q.query(
      `ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'export:read', 'export:write'])`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE api_keys SET scopes = array_remove(scopes, 'export:write')`);
    await q.query(`DELETE FROM api_keys WHERE cardinality(scopes) = 0`);
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check`);
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'export:read'])`);
  }
}

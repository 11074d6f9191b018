import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Predictions partitioned (issue 22, ADR 0032): by project (LIST), then by the UTC day of their
 * timestamp (RANGE over `occurred_on`), so that retention drops or rewrites whole partitions
 * and reads of a time window touch its partitions only. A prediction is now identified by its
 * id and that day (the primary key must hold the partition keys). The rows of a populated
 * database are copied into monthly partitions (no project has retention yet); new partitions are
 * made by `backflow_prediction_partitions` (predictions.functions.sql) as traffic needs them.
 * Tables that pointed at a prediction by foreign key (tasks, labels, feedback windows) keep
 * their columns; the rule that nothing removes a prediction they need is retention's, tested.
 */
// the columns of predictions as they were before this migration, in both of its forms
const COLUMNS = `project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        model_name text NOT NULL,
        model_version text NOT NULL,
        input jsonb NOT NULL,
        scores jsonb NOT NULL,
        predicted_label text NOT NULL,
        confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        slice jsonb NOT NULL DEFAULT '{}',
        metadata jsonb,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        uncertainty double precision CHECK (uncertainty BETWEEN 0 AND 1),
        suggestions jsonb,`;

export class PartitionedPredictions1764340000000 implements MigrationInterface {
  name = 'PartitionedPredictions1764340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint WHERE confrelid = 'predictions'::regclass AND contype = 'f' LOOP
          EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
        END LOOP;
      END $$`);
    await q.query(`ALTER TABLE projects ADD COLUMN retention_settings jsonb`);
    // deleting a project still removes its tasks, labels and windows (their cascade went through predictions)
    for (const table of ['labels', 'tasks', 'feedback_windows'])
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_project_fkey FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE`);
    await q.query(`DROP VIEW IF EXISTS predictions_read`);
    await q.query(`ALTER TABLE predictions RENAME TO predictions_unpartitioned`);
    await q.query(`ALTER INDEX predictions_pkey RENAME TO predictions_unpartitioned_pkey`);
    await q.query(`ALTER INDEX predictions_project_received_idx RENAME TO predictions_unpartitioned_received_idx`);
    await q.query(`
      CREATE TABLE predictions (
        ${COLUMNS}
        occurred_on date NOT NULL CHECK (occurred_on = (occurred_at AT TIME ZONE 'UTC')::date),
        PRIMARY KEY (project_id, id, occurred_on)
      ) PARTITION BY LIST (project_id)`);
    await q.query(`CREATE INDEX predictions_project_received_idx ON predictions (project_id, received_at)`);
    await q.query(`
      CREATE TABLE prediction_partitions (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        from_on date NOT NULL,
        to_on date NOT NULL CHECK (to_on > from_on),
        name text NOT NULL UNIQUE,
        PRIMARY KEY (project_id, from_on)
      )`);
    // the existing rows, a month a partition, each project a partitioned table of its own
    await q.query(`
      DO $$ DECLARE p record; m record; parent text; leaf text; BEGIN
        FOR p IN SELECT DISTINCT project_id FROM predictions_unpartitioned LOOP
          parent := 'predictions_' || replace(p.project_id::text, '-', '');
          EXECUTE format('CREATE TABLE %I (LIKE predictions INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_on)', parent);
          EXECUTE format('ALTER TABLE predictions ATTACH PARTITION %I FOR VALUES IN (%L)', parent, p.project_id);
          FOR m IN SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS from_on
                     FROM predictions_unpartitioned WHERE project_id = p.project_id LOOP
            leaf := parent || '_' || to_char(m.from_on, 'YYYYMMDD');
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', leaf, parent, m.from_on, (m.from_on + interval '1 month')::date);
            INSERT INTO prediction_partitions (project_id, from_on, to_on, name) VALUES (p.project_id, m.from_on, (m.from_on + interval '1 month')::date, leaf);
          END LOOP;
        END LOOP;
      END $$`);
    await q.query(`
      INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata,
                               occurred_at, received_at, uncertainty, suggestions, occurred_on)
      SELECT project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata,
             occurred_at, received_at, uncertainty, suggestions, (occurred_at AT TIME ZONE 'UTC')::date
        FROM predictions_unpartitioned`);
    await q.query(`DROP TABLE predictions_unpartitioned`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS predictions_read`);
    await q.query(`ALTER TABLE predictions RENAME TO predictions_partitioned`);
    await q.query(`ALTER INDEX predictions_pkey RENAME TO predictions_partitioned_pkey`);
    await q.query(`ALTER INDEX predictions_project_received_idx RENAME TO predictions_partitioned_received_idx`);
    await q.query(`
      CREATE TABLE predictions (
        ${COLUMNS}
        PRIMARY KEY (project_id, id)
      )`);
    await q.query(`CREATE INDEX predictions_project_received_idx ON predictions (project_id, received_at)`);
    // a prediction id seen on two days (a retry without a timestamp across midnight and a day) keeps its first
    await q.query(`
      INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata,
                               occurred_at, received_at, uncertainty, suggestions)
      SELECT project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata,
             occurred_at, received_at, uncertainty, suggestions
        FROM predictions_partitioned ORDER BY occurred_on
      ON CONFLICT (project_id, id) DO NOTHING`);
    await q.query(`DROP TABLE predictions_partitioned CASCADE`);
    await q.query(`DROP TABLE prediction_partitions`);
    await q.query(`ALTER TABLE projects DROP COLUMN retention_settings`);
    for (const table of ['labels', 'tasks', 'feedback_windows']) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${table}_project_fkey`);
      await q.query(`ALTER TABLE ${table} ADD FOREIGN KEY (project_id, prediction_id) REFERENCES predictions (project_id, id) ON DELETE CASCADE NOT VALID`);
    }
  }
}

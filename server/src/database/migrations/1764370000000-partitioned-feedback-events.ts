import { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS = `
  project_id uuid NOT NULL,
  id text NOT NULL,
  prediction_id uuid NOT NULL,
  type text NOT NULL,
  value jsonb,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  applied_at timestamptz,
  item text,
  edit_distance double precision CHECK (edit_distance BETWEEN 0 AND 1),`;

const COPIED = 'project_id, id, prediction_id, type, value, occurred_at, received_at, applied_at, item, edit_distance';

/**
 * Feedback events partitioned as predictions are (issue 22): by project, then by the UTC day of
 * the event's timestamp (a day a partition with retention, a month without), so that retention
 * drops them whole once the predictions they follow are rolled up and gone. An event is its id
 * and that day. The existing rows move into monthly partitions; the project's deletion drops its
 * table whole instead of cascading row by row.
 */
export class PartitionedFeedbackEvents1764370000000 implements MigrationInterface {
  name = 'PartitionedFeedbackEvents1764370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS feedback_events_read`);
    await q.query(`ALTER TABLE feedback_events RENAME TO feedback_events_unpartitioned`);
    for (const index of ['feedback_events_pkey', 'feedback_events_prediction_idx', 'feedback_events_unapplied_idx', 'feedback_events_waiting_idx'])
      await q.query(`ALTER INDEX IF EXISTS ${index} RENAME TO ${index.replace('feedback_events', 'feedback_events_unpartitioned')}`);
    await q.query(`
      CREATE TABLE feedback_events (
        ${COLUMNS}
        occurred_on date NOT NULL CHECK (occurred_on = (occurred_at AT TIME ZONE 'UTC')::date),
        PRIMARY KEY (project_id, id, occurred_on)
      ) PARTITION BY LIST (project_id)`);
    await q.query(`CREATE INDEX feedback_events_prediction_idx ON feedback_events (project_id, prediction_id)`);
    // events waiting for their prediction (it may arrive later, from another service)
    await q.query(`CREATE INDEX feedback_events_unapplied_idx ON feedback_events (received_at) WHERE applied_at IS NULL`);
    await q.query(`CREATE INDEX feedback_events_waiting_idx ON feedback_events (project_id) WHERE applied_at IS NULL`);
    await q.query(`
      CREATE TABLE feedback_partitions (
        project_id uuid NOT NULL,
        from_on date NOT NULL,
        to_on date NOT NULL CHECK (to_on > from_on),
        name text NOT NULL UNIQUE,
        PRIMARY KEY (project_id, from_on)
      )`);
    // the existing rows, a month a partition, each project a partitioned table of its own
    await q.query(`
      DO $$ DECLARE p record; m record; parent text; leaf text; BEGIN
        FOR p IN SELECT DISTINCT project_id FROM feedback_events_unpartitioned LOOP
          parent := 'feedback_events_' || replace(p.project_id::text, '-', '');
          EXECUTE format('CREATE TABLE %I (LIKE feedback_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_on)', parent);
          EXECUTE format('ALTER TABLE feedback_events ATTACH PARTITION %I FOR VALUES IN (%L)', parent, p.project_id);
          FOR m IN SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS from_on
                     FROM feedback_events_unpartitioned WHERE project_id = p.project_id LOOP
            leaf := parent || '_' || to_char(m.from_on, 'YYYYMMDD');
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', leaf, parent, m.from_on, (m.from_on + interval '1 month')::date);
            INSERT INTO feedback_partitions (project_id, from_on, to_on, name) VALUES (p.project_id, m.from_on, (m.from_on + interval '1 month')::date, leaf);
          END LOOP;
        END LOOP;
      END $$`);
    await q.query(`
      INSERT INTO feedback_events (${COPIED}, occurred_on)
      SELECT ${COPIED}, (occurred_at AT TIME ZONE 'UTC')::date FROM feedback_events_unpartitioned`);
    await q.query(`DROP TABLE feedback_events_unpartitioned`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS feedback_events_read`);
    await q.query(`ALTER TABLE feedback_events RENAME TO feedback_events_partitioned`);
    for (const index of ['feedback_events_pkey', 'feedback_events_prediction_idx', 'feedback_events_unapplied_idx', 'feedback_events_waiting_idx'])
      await q.query(`ALTER INDEX IF EXISTS ${index} RENAME TO ${index.replace('feedback_events', 'feedback_events_partitioned')}`);
    await q.query(`
      CREATE TABLE feedback_events (
        ${COLUMNS}
        PRIMARY KEY (project_id, id),
        FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX feedback_events_prediction_idx ON feedback_events (project_id, prediction_id)`);
    await q.query(`CREATE INDEX feedback_events_unapplied_idx ON feedback_events (received_at) WHERE applied_at IS NULL`);
    await q.query(`CREATE INDEX feedback_events_waiting_idx ON feedback_events (project_id) WHERE applied_at IS NULL`);
    // an event id seen on two days (a retry without a timestamp across midnight and a day) keeps its first
    await q.query(`
      INSERT INTO feedback_events (${COPIED})
      SELECT ${COPIED} FROM feedback_events_partitioned WHERE project_id IN (SELECT id FROM projects) ORDER BY occurred_on
      ON CONFLICT (project_id, id) DO NOTHING`);
    await q.query(`DROP TABLE feedback_events_partitioned CASCADE`);
    await q.query(`DROP TABLE feedback_partitions`);
  }
}

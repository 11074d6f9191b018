import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * span_labels keeps its tie to export_spans, checked once per statement instead of once per row.
 * The foreign key ran a lookup (and a key-share lock) for each label a span claimed: 3.3 s of the
 * 9.2 s that claiming a 1,000,000-label span spent inserting (pg_stat_statements). Two statement
 * triggers do what it did, set-wise: an insert names only spans that exist (locked against removal
 * as the key locked them), and a removed span takes its labels with it (a deleted project's spans
 * go by its cascade, and their labels in one statement each, not one row at a time).
 */
export class SpanLabelsCheckedByStatement1764400000000 implements MigrationInterface {
  name = 'SpanLabelsCheckedByStatement1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION backflow_span_labels_span_exists() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM 1 FROM export_spans s WHERE s.id IN (SELECT DISTINCT a.span_id FROM added a) FOR KEY SHARE OF s;
        IF EXISTS (SELECT 1 FROM added a WHERE NOT EXISTS (SELECT 1 FROM export_spans s WHERE s.id = a.span_id)) THEN
          RAISE EXCEPTION 'span_labels: no export span %', (SELECT a.span_id FROM added a WHERE NOT EXISTS (SELECT 1 FROM export_spans s WHERE s.id = a.span_id) LIMIT 1)
            USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION backflow_export_spans_remove_labels() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        DELETE FROM span_labels sl USING removed r WHERE sl.span_id = r.id;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      DO $$ DECLARE c record; BEGIN
        FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'span_labels'::regclass AND contype = 'f' LOOP
          EXECUTE format('ALTER TABLE span_labels DROP CONSTRAINT %I', c.conname);
        END LOOP;
      END $$`);
    await q.query(`
      CREATE TRIGGER span_labels_span_exists AFTER INSERT ON span_labels
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION backflow_span_labels_span_exists()`);
    await q.query(`
      CREATE TRIGGER export_spans_remove_labels AFTER DELETE ON export_spans
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION backflow_export_spans_remove_labels()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS export_spans_remove_labels ON export_spans`);
    await q.query(`DROP TRIGGER IF EXISTS span_labels_span_exists ON span_labels`);
    await q.query(`DROP FUNCTION IF EXISTS backflow_export_spans_remove_labels()`);
    await q.query(`DROP FUNCTION IF EXISTS backflow_span_labels_span_exists()`);
    await q.query(`ALTER TABLE span_labels ADD FOREIGN KEY (span_id) REFERENCES export_spans (id) ON DELETE CASCADE NOT VALID`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A label keeps the facts of its prediction that monitoring reads: its timestamp, predicted label,
 * confidence, model version and slice (ADR 0045). The window's human labels are then read from
 * labels alone: at 667,000 predictions a day, looking each labelled prediction up in its day's
 * partition was 0.74–0.83 s of a 2 s monitoring page (53,334 lookups, 80,000 pages read at
 * random). A prediction's facts never change once captured, so the copies cannot go stale. The
 * labels writer sets them from the prediction it already reads; a label inserted another way (a
 * test's or a benchmark's SQL) gets them, with its prediction's day, from its prediction.
 */
export class LabelsPredictionFacts1764570000000 implements MigrationInterface {
  name = 'LabelsPredictionFacts1764570000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE labels ADD COLUMN prediction_occurred_at timestamptz, ADD COLUMN predicted_label text, ADD COLUMN prediction_confidence double precision,
                         ADD COLUMN prediction_model_version text, ADD COLUMN prediction_slice jsonb`);
    await q.query(`
      UPDATE labels l SET prediction_occurred_on = p.occurred_on, prediction_occurred_at = p.occurred_at, predicted_label = p.predicted_label,
                          prediction_confidence = p.confidence, prediction_model_version = p.model_version, prediction_slice = p.slice
        FROM predictions p WHERE p.project_id = l.project_id AND p.id = l.prediction_id`);
    await q.query(`DROP TRIGGER labels_prediction_day ON labels`);
    await q.query(`DROP FUNCTION backflow_label_prediction_day()`);
    await q.query(`
      CREATE FUNCTION backflow_label_prediction_facts() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        SELECT p.occurred_on, p.occurred_at, p.predicted_label, p.confidence, p.model_version, p.slice
          INTO NEW.prediction_occurred_on, NEW.prediction_occurred_at, NEW.predicted_label, NEW.prediction_confidence, NEW.prediction_model_version, NEW.prediction_slice
          FROM predictions p WHERE p.project_id = NEW.project_id AND p.id = NEW.prediction_id LIMIT 1;
        RETURN NEW;
      END
      $fn$`);
    await q.query(`
      CREATE TRIGGER labels_prediction_facts BEFORE INSERT ON labels
        FOR EACH ROW WHEN (NEW.prediction_occurred_at IS NULL) EXECUTE FUNCTION backflow_label_prediction_facts()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER labels_prediction_facts ON labels`);
    await q.query(`DROP FUNCTION backflow_label_prediction_facts()`);
    await q.query(`
      CREATE FUNCTION backflow_label_prediction_day() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        SELECT p.occurred_on INTO NEW.prediction_occurred_on FROM predictions p WHERE p.project_id = NEW.project_id AND p.id = NEW.prediction_id LIMIT 1;
        RETURN NEW;
      END
      $fn$`);
    await q.query(`
      CREATE TRIGGER labels_prediction_day BEFORE INSERT ON labels
        FOR EACH ROW WHEN (NEW.prediction_occurred_on IS NULL) EXECUTE FUNCTION backflow_label_prediction_day()`);
    await q.query(`DROP VIEW IF EXISTS labels_read`);
    await q.query(`
      ALTER TABLE labels DROP COLUMN prediction_occurred_at, DROP COLUMN predicted_label, DROP COLUMN prediction_confidence,
                         DROP COLUMN prediction_model_version, DROP COLUMN prediction_slice`);
  }
}

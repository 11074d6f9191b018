import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A label keeps the day of its prediction's timestamp (`prediction_occurred_on`), the predictions'
 * partition key: monitoring finds a window's labelled predictions from their labels, each looked up
 * in its one day's partition, instead of reading every prediction of the window (issue 22: 10.7 s of
 * a monitoring page at 1.6 million predictions). The labels writer sets it; a label inserted
 * another way (a test's or a benchmark's SQL) gets it from its prediction.
 */
export class LabelsPredictionDay1764550000000 implements MigrationInterface {
  name = 'LabelsPredictionDay1764550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE labels ADD COLUMN prediction_occurred_on date`);
    await q.query(`UPDATE labels l SET prediction_occurred_on = p.occurred_on FROM predictions p WHERE p.project_id = l.project_id AND p.id = l.prediction_id`);
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER labels_prediction_day ON labels`);
    await q.query(`DROP FUNCTION backflow_label_prediction_day()`);
    await q.query(`DROP VIEW IF EXISTS labels_read`);
    await q.query(`ALTER TABLE labels DROP COLUMN prediction_occurred_on`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An edit event's normalized edit distance to the response it edits (issue 21): how far the
 * user moved the model's text, 0 (unchanged) to 1 (nothing kept). Written once, when the event
 * meets its prediction.
 */
export class FeedbackEditDistance1764330000000 implements MigrationInterface {
  name = 'FeedbackEditDistance1764330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feedback_events ADD COLUMN edit_distance double precision CHECK (edit_distance BETWEEN 0 AND 1)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS feedback_events_read`);
    await q.query(`ALTER TABLE feedback_events DROP COLUMN edit_distance`);
  }
}

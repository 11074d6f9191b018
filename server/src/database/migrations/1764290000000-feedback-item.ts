import { MigrationInterface, QueryRunner } from 'typeorm';

/** A feedback event on a ranked list names the candidate it is about (issue 20): a click, a completion, a skip. */
export class FeedbackItem1764290000000 implements MigrationInterface {
  name = 'FeedbackItem1764290000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feedback_events ADD COLUMN item text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feedback_events DROP COLUMN item`);
  }
}

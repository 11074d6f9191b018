import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When retention last left a partition holding only predictions a task or a label keeps (which
 * nothing removes): later runs pass it by until a prediction is stored in it again. Retention
 * looked at every old partition on every hourly run, each look a pass over the project's tasks
 * and labels: 0.28 s a partition at the 20-million month's end (200,000 labels), so a year of
 * days would have taken a run longer than the hour. NULL (every partition at first) is looked at.
 */
export class RetiredPartitions1764590000000 implements MigrationInterface {
  name = 'RetiredPartitions1764590000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE prediction_partitions ADD COLUMN retired_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE prediction_partitions DROP COLUMN retired_at`);
  }
}

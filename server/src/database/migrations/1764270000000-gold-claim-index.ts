import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rater's gold claim (a share `goldRate` of claims) looked for the project's queued gold
 * tasks among all of its tasks. The claim now runs with sequential scans off (see
 * labeling.functions.sql): the gold tasks get an index of their own, so that claim reads only them.
 */
export class GoldClaimIndex1764270000000 implements MigrationInterface {
  name = 'GoldClaimIndex1764270000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX tasks_gold_idx ON tasks (project_id) WHERE gold_item_id IS NOT NULL AND state = 'queued'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS tasks_gold_idx`);
  }
}

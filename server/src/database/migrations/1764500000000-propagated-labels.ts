import { MigrationInterface, QueryRunner } from 'typeorm';

/** Label propagation (issue 24): labels with source `propagated`, from the nearest human-labelled embeddings, weighted by their confidence. */
export class PropagatedLabels1764500000000 implements MigrationInterface {
  name = 'PropagatedLabels1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE labels DROP CONSTRAINT labels_source_check`);
    await q.query(`ALTER TABLE labels ADD CONSTRAINT labels_source_check CHECK (source IN ('feedback', 'consensus', 'review', 'gold', 'weak', 'propagated'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM labels WHERE source = 'propagated'`);
    await q.query(`ALTER TABLE labels DROP CONSTRAINT labels_source_check`);
    await q.query(`ALTER TABLE labels ADD CONSTRAINT labels_source_check CHECK (source IN ('feedback', 'consensus', 'review', 'gold', 'weak'))`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The examination probability per position a ranking project's clicks last gave (issue 20),
 * kept by monitoring each time its click model runs, and the estimate an export version weights
 * its clicks by, recorded when the version is opened so that writing it again gives the same bytes.
 */
export class ClickExamination1764310000000 implements MigrationInterface {
  name = 'ClickExamination1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE click_examination (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        question text NOT NULL,
        position int NOT NULL CHECK (position >= 1),
        value double precision NOT NULL CHECK (value > 0 AND value <= 1),
        low double precision NOT NULL,
        high double precision NOT NULL,
        impressions int NOT NULL,
        method text NOT NULL,
        estimated_at timestamptz NOT NULL,
        PRIMARY KEY (project_id, question, position)
      )`);
    await q.query(`ALTER TABLE export_versions ADD COLUMN examination jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export_versions DROP COLUMN examination`);
    await q.query(`DROP VIEW IF EXISTS click_examination_read`);
    await q.query(`DROP TABLE click_examination`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/** A ranking project is alerted when a slice's click-through falls, suddenly or slowly (issue 20): alerts of kind `ctr`. */
export class ClickAlerts1764300000000 implements MigrationInterface {
  name = 'ClickAlerts1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE monitoring_alerts DROP CONSTRAINT monitoring_alerts_kind_check`);
    await q.query(`ALTER TABLE monitoring_alerts ADD CONSTRAINT monitoring_alerts_kind_check CHECK (kind IN ('accuracy', 'drift', 'anomaly', 'ctr'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM monitoring_alerts WHERE kind = 'ctr'`);
    await q.query(`ALTER TABLE monitoring_alerts DROP CONSTRAINT monitoring_alerts_kind_check`);
    await q.query(`ALTER TABLE monitoring_alerts ADD CONSTRAINT monitoring_alerts_kind_check CHECK (kind IN ('accuracy', 'drift', 'anomaly'))`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed sign-ins, counted in the database so that the limit per account holds whatever address
 * the guesses come from and however many server processes they are spread over. Rows leave the
 * table once they fall out of the window.
 */
export class LoginFailures1764240000000 implements MigrationInterface {
  name = 'LoginFailures1764240000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE login_failures (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account text NOT NULL,
        address text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX login_failures_account_idx ON login_failures (account, failed_at)`);
    await q.query(`CREATE INDEX login_failures_address_idx ON login_failures (address, failed_at)`);
    await q.query(`CREATE INDEX login_failures_age_idx ON login_failures (failed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS login_failures`);
  }
}

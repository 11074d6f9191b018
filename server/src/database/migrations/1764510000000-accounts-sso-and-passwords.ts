import { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts (issue 25): the identity a user is linked to at the OpenID provider, and when their password last changed. */
export class AccountsSsoAndPasswords1764510000000 implements MigrationInterface {
  name = 'AccountsSsoAndPasswords1764510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN sso_issuer text, ADD COLUMN sso_subject text, ADD COLUMN password_changed_at timestamptz`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_sso_identity CHECK ((sso_issuer IS NULL) = (sso_subject IS NULL))`);
    // one account per identity at a provider
    await q.query(`CREATE UNIQUE INDEX users_sso_identity_key ON users (sso_issuer, sso_subject) WHERE sso_subject IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_sso_identity_key`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_sso_identity`);
    await q.query(`ALTER TABLE users DROP COLUMN sso_issuer, DROP COLUMN sso_subject, DROP COLUMN password_changed_at`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The data explorer (issue 25): a project's saved views (filters under a name, shared by its admins
 * and reviewers), and the relabels made from an example's page (who, when, from what to what, why).
 */
export class Explorer1764540000000 implements MigrationInterface {
  name = 'Explorer1764540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE explorer_views (
        id bigserial PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        filters jsonb NOT NULL,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX explorer_views_name_key ON explorer_views (project_id, lower(name))`);
    await q.query(`
      CREATE TABLE relabels (
        id bigserial PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        prediction_id uuid NOT NULL,
        actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        previous text,
        label text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX relabels_prediction_idx ON relabels (project_id, prediction_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relabels`);
    await q.query(`DROP TABLE explorer_views`);
  }
}

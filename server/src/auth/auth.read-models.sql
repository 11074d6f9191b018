-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: explorer, interop, labeling, quality
CREATE OR REPLACE VIEW users_read AS
  SELECT id, email, role, created_at, disabled_at FROM users;

-- published to: labeling, projects, quality
CREATE OR REPLACE VIEW memberships_read AS
  SELECT user_id, project_id, role, created_at FROM memberships;

-- published to: labeling
CREATE OR REPLACE VIEW sessions_read AS
  SELECT id, user_id, created_at, expires_at, last_seen_at, revoked_at FROM sessions;

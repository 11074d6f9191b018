-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: exports
CREATE OR REPLACE VIEW click_examination_read AS
  SELECT project_id, question, position, value, low, high, impressions, method, estimated_at FROM click_examination;

-- published to: exports
CREATE OR REPLACE VIEW tfdv_schemas_read AS
  SELECT project_id, tfdv_schema FROM feature_schemas WHERE tfdv_schema IS NOT NULL;

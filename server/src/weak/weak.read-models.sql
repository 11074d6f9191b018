-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: routing
CREATE OR REPLACE VIEW weak_label_models_read AS
  SELECT project_id, fitted_at, model
    FROM weak_label_state;

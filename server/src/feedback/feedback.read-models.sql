-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: explorer, monitoring, predictions
CREATE OR REPLACE VIEW feedback_events_read AS
  SELECT project_id, id, prediction_id, type, value, occurred_at, received_at, applied_at, item, edit_distance, occurred_on FROM feedback_events;

-- published to: predictions
CREATE OR REPLACE VIEW feedback_windows_read AS
  SELECT project_id, prediction_id, closes_at FROM feedback_windows;

-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: exports, explorer, feedback, interop, labeling, labels, monitoring, routing, weak
CREATE OR REPLACE VIEW predictions_read AS
  SELECT project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at, received_at, uncertainty, suggestions,
         occurred_on, committee, embedding, external_id
    FROM predictions;

-- published to: monitoring
CREATE OR REPLACE VIEW prediction_rollups_read AS
  SELECT project_id, hour, model_version, slice, predictions, confidence, predicted, features, labels, feedback, settled_at, clicks
    FROM prediction_rollups;

-- published to: monitoring
CREATE OR REPLACE VIEW prediction_rollup_state_read AS
  SELECT project_id, rolled_through FROM prediction_rollup_state;

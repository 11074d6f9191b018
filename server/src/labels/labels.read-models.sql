-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: explorer, exports, interop, labeling, monitoring, predictions, quality, routing, weak
CREATE OR REPLACE VIEW labels_read AS
  SELECT id, project_id, prediction_id, value, source, rule, feedback_event_id, agreement, weight, contradicts_prediction, created_at, superseded_at, task_id, answers,
         prediction_occurred_on, prediction_occurred_at, predicted_label, prediction_confidence, prediction_model_version, prediction_slice
    FROM labels;

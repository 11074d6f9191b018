-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: explorer, exports, interop, labels, monitoring, predictions, quality, routing
CREATE OR REPLACE VIEW tasks_read AS
  SELECT id, project_id, prediction_id, reason, priority, inclusion_probability, uncertainty, required_annotations, state, created_at, gold_item_id,
         annotations_count, completed_at
    FROM tasks;

-- published to: explorer, interop, quality
CREATE OR REPLACE VIEW annotations_read AS
  SELECT id, project_id, task_id, rater_id, label, time_spent_ms, late, created_at, answers FROM annotations;

-- published to: quality
CREATE OR REPLACE VIEW rater_quality_read AS
  SELECT project_id, rater_id, gold_answers, gold_correct, paused_at FROM rater_quality;

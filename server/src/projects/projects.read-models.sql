-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: auth, exports, feedback, labeling, monitoring, predictions, quality, weak
CREATE OR REPLACE VIEW projects_read AS
  SELECT id, slug, name, task_type, labels, instructions, overlap, masked_fields, routing, feedback_rules, export_settings, created_at, updated_at,
         labeling_settings, monitoring_settings, integration_settings, export_hash_key, questions, routing_question, retention_settings,
         weak_supervision
    FROM projects;

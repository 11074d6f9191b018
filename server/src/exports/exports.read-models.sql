-- Read models: what other modules may read of this module's tables, keeping the tables' column names.
-- Each view names the modules it is published to; the ownership guard (database/table-ownership.spec.ts) holds readers to it.
-- Applied at boot, after the dated migrations, whenever this file changes. A view that loses or renames a column needs
-- DROP VIEW first (CREATE OR REPLACE VIEW only appends columns).

-- published to: explorer, quality
CREATE OR REPLACE VIEW span_labels_read AS
  SELECT label_id, span_id FROM span_labels;

-- published to: explorer
CREATE OR REPLACE VIEW export_spans_read AS
  SELECT id, project_id, span, rows, created_at FROM export_spans;

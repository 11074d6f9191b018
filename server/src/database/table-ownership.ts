/**
 * Every table and its owning module (a folder under server/src; `common/<part>` inside common):
 * the owner is its only writer. Other modules read it only through a view the owner publishes
 * (a `CREATE VIEW` in one of the owner's `.sql` files, under a `-- published to:` line).
 * The ownership guard (`table-ownership.spec.ts`) and docs/architecture.md read this table.
 */
export const TABLE_OWNERS: Readonly<Record<string, string>> = {
  users: 'auth',
  sessions: 'auth',
  api_keys: 'auth',
  memberships: 'auth',
  login_failures: 'auth',
  projects: 'projects',
  audit_log: 'common/audit',
  predictions: 'predictions',
  prediction_partitions: 'predictions',
  prediction_rollups: 'predictions',
  prediction_rollup_edges: 'predictions',
  prediction_rollup_state: 'predictions',
  feedback_events: 'feedback',
  feedback_windows: 'feedback',
  feedback_partitions: 'feedback',
  routing_thresholds: 'routing',
  routing_budget_usage: 'routing',
  routing_prediction_windows: 'routing',
  routing_fingerprints: 'routing',
  routing_boosts: 'routing',
  tasks: 'labeling',
  task_leases: 'labeling',
  task_skips: 'labeling',
  task_reviews: 'labeling',
  annotations: 'labeling',
  gold_items: 'labeling',
  rater_quality: 'labeling',
  labels: 'labels',
  export_spans: 'exports',
  export_versions: 'exports',
  export_schedules: 'exports',
  span_labels: 'exports',
  quality_reestimates: 'quality',
  weak_label_state: 'weak',
  explorer_views: 'explorer',
  relabels: 'explorer',
  feature_schemas: 'monitoring',
  monitoring_alerts: 'monitoring',
  click_examination: 'monitoring',
  kserve_events: 'interop',
  integration_counters: 'interop',
  socket_io_attachments: 'realtime',
  'pgboss.*': 'common/jobs',
  migrations: 'database',
  schema_definitions: 'database',
};

/** The owner of a table, `schema.*` entries included; undefined when nobody owns it. */
export function ownerOf(table: string): string | undefined {
  if (TABLE_OWNERS[table]) return TABLE_OWNERS[table];
  const dot = table.indexOf('.');
  return dot > 0 ? TABLE_OWNERS[`${table.slice(0, dot)}.*`] : undefined;
}

/** The ownership table as docs/architecture.md shows it: one row per owner, in the order of TABLE_OWNERS. */
export function ownershipMarkdown(): string {
  const byOwner = new Map<string, string[]>();
  for (const [table, owner] of Object.entries(TABLE_OWNERS)) byOwner.set(owner, [...(byOwner.get(owner) ?? []), table]);
  const rows = [...byOwner].map(([owner, tables]) => `| ${owner} | ${tables.map((t) => `\`${t}\``).join(', ')} |`);
  return ['| owner (only writer) | tables |', '| --- | --- |', ...rows].join('\n');
}

/**
 * A timestamp another tool wrote (a CloudEvent's time, a Label Studio created_at) as ISO 8601,
 * or undefined when it is none, or outside years 1 to 9999 (which PostgreSQL and the ingestion
 * API would refuse): the caller then stamps the record itself.
 */
export function timestampOf(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const year = new Date(at).getUTCFullYear();
  return year >= 1 && year <= 9999 ? new Date(at).toISOString() : undefined;
}

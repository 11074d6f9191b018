import type * as protobuf from 'protobufjs';
import { messageType } from './definitions';
import { escapeBytes, parseTextFormat, printTextFormat, TextFormatError } from './text-format';

export { TFMD, messageType } from './definitions';
export { parseTextFormat, printTextFormat, TextFormatError } from './text-format';

/** A string as the text format quotes it (C escapes, non-ASCII bytes in octal). */
export const quotedText = (text: string): string => `"${escapeBytes(new TextEncoder().encode(text))}"`;

const StatisticsList = messageType('DatasetFeatureStatisticsList');
const Schema = messageType('Schema');
const Anomalies = messageType('Anomalies');

// plain objects out: int64 as numbers while they are safe (counts always are), enums by name, absent fields absent
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false, arrays: false, objects: false };

/** Scalars at their proto3 default are not written (as protobuf's C++ and Python writers do not). */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === 0 || v === '' || v === false) continue;
    out[key] = withoutDefaults(v);
  }
  return out;
}

/** A DatasetFeatureStatisticsList's bytes, as StatisticsGen writes FeatureStats.pb. */
export function encodeStatistics(list: { datasets: readonly object[] }): Uint8Array {
  const object = withoutDefaults(list) as Record<string, unknown>;
  const problem = StatisticsList.verify(StatisticsList.fromObject(object));
  if (problem) throw new Error(`statistics do not fit DatasetFeatureStatisticsList: ${problem}`);
  return StatisticsList.encode(StatisticsList.fromObject(object)).finish();
}

/** A DatasetFeatureStatisticsList in text format (as `tfdv.write_stats_text` writes it). */
export function printStatistics(list: { datasets: readonly object[] }): string {
  return printTextFormat(StatisticsList, StatisticsList.fromObject(withoutDefaults(list) as Record<string, unknown>));
}

export class ArtifactError extends Error {}

/**
 * A DatasetFeatureStatisticsList from a file as a pipeline wrote it: binary (FeatureStats.pb,
 * or TFDV's `write_stats_text` output in text format). Throws an ArtifactError naming what is wrong.
 */
export function decodeStatistics(data: Uint8Array): { statistics: Record<string, unknown>; skipped: string[] } {
  const text = asText(data);
  if (text !== undefined && looksLikeText(text)) {
    const parsed = parseOrExplain(text, StatisticsList, 'DatasetFeatureStatisticsList');
    return { statistics: StatisticsList.toObject(StatisticsList.fromObject(parsed.object), TO_OBJECT), skipped: parsed.skipped };
  }
  try {
    return { statistics: StatisticsList.toObject(StatisticsList.decode(data), TO_OBJECT), skipped: [] };
  } catch (error) {
    throw new ArtifactError(`not a DatasetFeatureStatisticsList (binary or text format): ${(error as Error).message}`);
  }
}

/** A schema.pbtxt (text format), as SchemaGen and `tfdv.write_schema_text` write it; int64 fields as decimal strings. */
export function parseSchemaText(text: string): { schema: Record<string, unknown>; skipped: string[] } {
  const parsed = parseOrExplain(text, Schema, 'Schema');
  // int64 as decimal text: a domain's bounds may be past 2^53
  return { schema: Schema.toObject(Schema.fromObject(parsed.object), { ...TO_OBJECT, longs: String }), skipped: parsed.skipped };
}

/** A Schema message in text format (schema.pbtxt). */
export function printSchema(schema: object): string {
  return printTextFormat(Schema, Schema.fromObject(schema));
}

export function encodeAnomalies(anomalies: object): Uint8Array {
  return Anomalies.encode(Anomalies.fromObject(anomalies)).finish();
}

export function printAnomalies(anomalies: object): string {
  return printTextFormat(Anomalies, Anomalies.fromObject(anomalies));
}

function parseOrExplain(text: string, type: protobuf.Type, name: string) {
  try {
    return parseTextFormat(text, type);
  } catch (error) {
    if (error instanceof TextFormatError) throw new ArtifactError(`not a ${name} in text format: ${error.message}`);
    throw error;
  }
}

/** The bytes as UTF-8 text, or undefined when they are not. */
function asText(data: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

/** Text format starts with a field name or a comment; a binary message starts with a tag byte. */
const looksLikeText = (text: string) => /^\s*(#|[A-Za-z_][A-Za-z0-9_]*\s*[:{<])/.test(text);

import type { ObjectStore } from '../common/storage/object-store';
import { DEFAULT_MASKED_FIELD_POLICY, type ExportSettings, type MaskedFieldPolicy } from '@backflow/contracts';
import type { FeatureStatistics } from '@backflow/drift';
import type { FeatureSpec } from './example-row';
import { HASH_DESCRIPTION, type Masking } from './masking';
import type { ManifestRanking } from './ranked-lists';
import type { Split } from './split';

/** What a version holds, written beside its files as manifest.json (and sent with its webhook). */
export interface Manifest {
  project: string;
  span: number;
  version: number;
  formats: string[];
  rows: number;
  splits: Record<Split, number>;
  labels: Record<string, number>;
  sources: Record<string, number>;
  agreement: { labelsWithAgreement: number; mean: number | null; min: number | null };
  labelTimeRange: { from: string | null; to: string | null };
  features: ManifestFeature[];
  /** how the types were found when the project declares none: from the first rows, widened by any later row they did not fit */
  inference?: { sampleRows: number; widenedPastSample: string[] };
  /** what this version did with the project's masked fields, and the default policy */
  maskedFields: { policy: MaskedFieldPolicy; default: MaskedFieldPolicy; fields: string[]; hash?: string };
  /** stored values not written as they are (also counted per feature); the admin sees them in the export's job */
  warnings: string[];
  /** per exported feature: presence, numeric moments or categorical frequencies (TFDV's statistics, in JSON) */
  statistics: FeatureStatistics[];
  settings: ExportSettings;
  /** a ranking's list formats: the examination estimate clicks were weighted by, candidates and item features */
  ranking?: ManifestRanking;
  /** per split, each feature's TFDV anomaly types against the span's schema (anomalies/Split-<split>/SchemaDiff.pb) */
  anomalies?: Record<Split, Record<string, string[]>>;
  files: ManifestFile[];
}

export interface ManifestFile {
  path: string;
  format: string;
  split: Split;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface ManifestFeature extends FeatureSpec {
  /** declared in the project's export settings, or inferred from every value of the span */
  typeFrom: 'declared' | 'inferred';
  /** the feature is, or holds, a masked field: what was done with it */
  masked?: MaskedFieldPolicy;
  /** values not written: not of the declared type exactly (never rounded), or a null inside a list */
  leftOut: { notFitting: number; nullInList: number };
  /** a float feature's values whose float32 (TFRecord's float_list) differs from the stored double; JSONL, CSV and Parquet keep the double */
  float32Inexact?: number;
}

/** The version a manifest describes. */
export interface ManifestHeader {
  project: string;
  span: number;
  version: number;
  rows: number;
  labelFrom: Date | null;
  labelTo: Date | null;
  settings: ExportSettings;
}

/** What a span's rows added up to, as the manifest tells it. */
export interface SpanCounts {
  splits: Record<Split, number>;
  labels: Record<string, number>;
  sources: Record<string, number>;
  agreement: Manifest['agreement'];
  features: ManifestFeature[];
  statistics: FeatureStatistics[];
}

const byKey = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));

/** A version's manifest (its keys in this order: manifest.json is the same bytes for the same span and settings). */
export function buildManifest(
  header: ManifestHeader,
  counts: SpanCounts,
  masking: Masking,
  inference: Manifest['inference'],
  files: ManifestFile[],
  ranking?: ManifestRanking,
  anomalies?: Manifest['anomalies'],
): Manifest {
  return {
    project: header.project,
    span: header.span,
    version: header.version,
    formats: header.settings.formats,
    rows: header.rows,
    splits: counts.splits,
    labels: byKey(counts.labels),
    sources: byKey(counts.sources),
    agreement: counts.agreement,
    labelTimeRange: { from: header.labelFrom?.toISOString() ?? null, to: header.labelTo?.toISOString() ?? null },
    features: counts.features,
    ...(inference && { inference }),
    maskedFields: {
      policy: masking.policy,
      default: DEFAULT_MASKED_FIELD_POLICY,
      fields: [...masking.fields],
      ...(masking.policy === 'hash' && { hash: HASH_DESCRIPTION }),
    },
    warnings: [...counts.features.flatMap(warningsOf), ...(ranking?.warnings ?? [])],
    statistics: counts.statistics,
    settings: header.settings,
    ...(ranking && { ranking }),
    ...(anomalies && { anomalies }),
    files,
  };
}

/** What the admin is told of a feature's values left out. */
function warningsOf(feature: ManifestFeature): string[] {
  const warnings: string[] = [];
  const { notFitting, nullInList } = feature.leftOut;
  const a = { int: 'an int', float: 'a float', bytes: 'bytes' }[feature.type];
  if (notFitting)
    warnings.push(`feature "${feature.name}": ${notFitting} value${notFitting === 1 ? '' : 's'} left out, not ${a} exactly (its ${feature.typeFrom} type)`);
  if (nullInList)
    warnings.push(`feature "${feature.name}": ${nullInList} null${nullInList === 1 ? '' : 's'} inside a list left out (a tf.Example list holds none)`);
  return warnings;
}

/** The manifest of a version written to `directory`. */
/** A published version's manifest, read from its store (`key`: the version's folder). */
export async function readManifest(store: ObjectStore, key: string): Promise<Manifest> {
  const text = await store.readText(`${key}/manifest.json`);
  if (text === undefined) throw new Error(`${store.location(key)} has no manifest.json`);
  return JSON.parse(text) as Manifest;
}

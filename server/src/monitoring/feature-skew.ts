import { gunzipSync } from 'node:zlib';
import { CorruptRecordError, decodeExample, unframeRecords, type ExampleFeatures } from '@backflow/tfrecord';
import type { FeatureSkewReport, MonitoringSettings } from '@backflow/contracts';
import { DomainError } from '../common/errors';
import { parseExactJson } from '../common/json/exact-json';
import type { NewAlert } from './monitoring.repository';

/*
 * Feature skew, as TFDV's feature skew detector finds it (tensorflow_data_validation/skew): the
 * training examples joined with serving by an identifier (here the prediction's id), each feature
 * of a pair compared — match, mismatch, or present on one side only — and counted per feature
 * (TFDV's FeatureSkew fields), with a sample of skewed pairs (its SkewPair). The serving side is the
 * prediction's input as a Backflow export writes it: a feature named like an export column is
 * `input_<name>`, and each value is taken in the kind of the training example's feature (a number
 * in a float_list is compared as the float32 the list holds). Slices are the prediction's.
 */

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A training feature's values, canonical: the kind and each value as text (float32 as its shortest text). */
interface Canonical {
  kind: 'int64' | 'float' | 'bytes' | 'json';
  values: string[];
  shown: unknown;
}

// a GZIP body inflates to at most this (a small body must not inflate to gigabytes)
const MAX_INFLATED_BYTES = 128 * 1024 * 1024;

/** A training example: its features by name (a Map: a feature may be named `__proto__` or `constructor`). */
export type TrainingExample = ReadonlyMap<string, Canonical>;

/** The training examples of an upload: TFRecord of tf.Example (GZIP or not), or JSON Lines of objects. */
export function readTrainingExamples(body: Buffer, maxInflatedBytes = MAX_INFLATED_BYTES): TrainingExample[] {
  const bytes = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b ? gunzipOrRefuse(body, maxInflatedBytes) : body;
  const first = bytes.subarray(0, 64).toString('utf8').trimStart();
  if (first.startsWith('{')) return jsonLines(bytes);
  let records: Buffer[];
  try {
    const { records: read, rest } = unframeRecords(bytes);
    if (rest.length) throw new CorruptRecordError(`${rest.length} bytes of an incomplete record at the end`, bytes.length - rest.length);
    records = read;
  } catch (error) {
    if (error instanceof CorruptRecordError) throw refuse(`not a TFRecord file of tf.Example (or JSON Lines): ${error.message}`);
    throw error;
  }
  return records.map((record, i) => {
    let example: ExampleFeatures;
    try {
      example = decodeExample(record);
    } catch (error) {
      throw refuse(`record ${i + 1} is not a tf.Example: ${(error as Error).message}`);
    }
    const out = new Map<string, Canonical>();
    for (const [name, f] of Object.entries(example)) {
      if (f.kind === 'int64')
        out.set(name, {
          kind: 'int64',
          values: f.values.map(String),
          shown: f.values.map((v) => (typeof v === 'bigint' && v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : String(v))),
        });
      else if (f.kind === 'float') out.set(name, { kind: 'float', values: f.values.map(String), shown: f.values });
      else {
        const texts = f.values.map((v) => (typeof v === 'string' ? v : utf8.decode(v)));
        out.set(name, { kind: 'bytes', values: texts, shown: texts });
      }
    }
    return out;
  });
}

function gunzipOrRefuse(body: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError) throw refuse(`inflates past ${maxBytes} bytes: send a sample of the training examples`);
    throw refuse(`a GZIP body that does not inflate: ${(error as Error).message}`);
  }
}

function jsonLines(bytes: Buffer): TrainingExample[] {
  const out: TrainingExample[] = [];
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    const end = bytes.indexOf(0x0a, start);
    const text = bytes.toString('utf8', start, end === -1 ? bytes.length : end);
    start = end === -1 ? bytes.length : end + 1;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      // integers past 2^53 kept exact, as the serving side reads them
      value = parseExactJson(text);
    } catch (error) {
      throw refuse(`line ${line} is not JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse(`line ${line} is not a JSON object`);
    const example = new Map<string, Canonical>();
    for (const [name, v] of Object.entries(value)) if (v !== null) example.set(name, { kind: 'json', values: [canonicalJson(v)], shown: v });
    out.push(example);
  }
  return out;
}

/** JSON text with object keys sorted (PostgreSQL's jsonb orders keys its own way) and a bigint as its digits: two equal values, one text. */
function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const refuse = (message: string) => new DomainError('monitoring/invalid_training_examples', `body: ${message}`, 400, 'body');

/** A training example's identifier: its one value, as text (a UUID in lower case, as it is keyed; any other id as it is); undefined when it has none or several. */
export function identifierOf(example: TrainingExample, identifier: string): string | undefined {
  const f = example.get(identifier);
  if (!f) return undefined;
  let id: string | undefined;
  if (f.kind === 'json') {
    const v = f.shown;
    const one: unknown = Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
    id = typeof one === 'string' ? one : typeof one === 'number' || typeof one === 'bigint' ? one.toString() : undefined;
  } else id = f.values.length === 1 ? f.values[0] : undefined;
  return id !== undefined && UUID.test(id) ? id.toLowerCase() : id;
}

const round = (x: number, digits: number | undefined) => (digits === undefined ? x : Number(x.toFixed(digits)));

/** A serving value in the kind of the training feature it is compared with; undefined when it is absent. */
function servingCanonical(value: unknown, kind: Canonical['kind'], digits: number | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (kind === 'json') return [canonicalJson(value)];
  const items = (Array.isArray(value) ? (value as unknown[]) : [value]).filter((v) => v !== null);
  return items.map((v) => {
    // an integer past 2^53 reads back from JSONB as a bigint
    const text = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
    if (kind === 'bytes') return text;
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    // a value the training kind cannot hold never equals a training value
    if (kind === 'int64') return (typeof n === 'number' && Number.isSafeInteger(n)) || typeof n === 'bigint' ? String(n) : `\u0000${text}`;
    return typeof n === 'number' ? String(round(Math.fround(n), digits)) : `\u0000${text}`;
  });
}

interface Tally {
  trainingCount: number;
  servingCount: number;
  matchCount: number;
  trainingOnly: number;
  servingOnly: number;
  mismatchCount: number;
  /** per slice value, the pairs in which the feature differs */
  differs: Map<string, number>;
}

const MAX_SAMPLES = 10;
const MAX_SLICES = 20;

/**
 * The feature skew of training examples against the predictions of their ids: `reserved` are the
 * columns a Backflow export adds (not compared, and the names an input feature is renamed from).
 */
export function featureSkew(
  examples: readonly TrainingExample[],
  predictions: ReadonlyMap<string, { input: Record<string, unknown>; slice: Record<string, string> }>,
  options: { identifier: string; ignore: readonly string[]; reserved: readonly string[]; floatRoundDigits?: number; at: Date },
): FeatureSkewReport {
  const counts = new Map<string, number>();
  let withoutIdentifier = 0;
  for (const e of examples) {
    const id = identifierOf(e, options.identifier);
    if (id === undefined) withoutIdentifier++;
    else counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const reserved = new Set(options.reserved);
  const ignored = new Set([options.identifier, ...options.reserved, ...options.ignore]);
  const tallies = new Map<string, Tally>();
  const tally = (name: string) => {
    let t = tallies.get(name);
    if (!t)
      tallies.set(name, (t = { trainingCount: 0, servingCount: 0, matchCount: 0, trainingOnly: 0, servingOnly: 0, mismatchCount: 0, differs: new Map() }));
    return t;
  };
  // every slice value's pairs: a slice's rate is of its pairs, as the overall rate is of all pairs
  const slicePairs = new Map<string, number>();
  const samples: FeatureSkewReport['samples'] = [];
  let pairs = 0;
  for (const training of examples) {
    const id = identifierOf(training, options.identifier);
    if (id === undefined || counts.get(id) !== 1) continue;
    const prediction = predictions.get(id);
    if (!prediction) continue;
    pairs++;
    const slices = Object.entries(prediction.slice).map(([k, v]) => `${k}=${v}`);
    for (const slice of slices) slicePairs.set(slice, (slicePairs.get(slice) ?? 0) + 1);
    const serving = new Map<string, unknown>();
    for (const [name, value] of Object.entries(prediction.input)) if (value !== null) serving.set(reserved.has(name) ? `input_${name}` : name, value);
    const names = new Set([...training.keys(), ...serving.keys()]);
    const skewed = { mismatched: [] as string[], trainingOnly: [] as string[], servingOnly: [] as string[] };
    for (const name of [...names].sort()) {
      if (ignored.has(name)) continue;
      const t = tally(name);
      const train = training.get(name);
      const serve = serving.get(name);
      let differs = true;
      if (train && serve !== undefined) {
        t.trainingCount++;
        t.servingCount++;
        const values = servingCanonical(serve, train.kind, options.floatRoundDigits);
        const trained = train.kind === 'float' ? train.values.map((v) => String(round(Number(v), options.floatRoundDigits))) : train.values;
        if (values && values.length === trained.length && values.every((v, i) => v === trained[i])) {
          t.matchCount++;
          differs = false;
        } else {
          t.mismatchCount++;
          skewed.mismatched.push(name);
        }
      } else if (train) {
        t.trainingCount++;
        t.trainingOnly++;
        skewed.trainingOnly.push(name);
      } else {
        t.servingCount++;
        t.servingOnly++;
        skewed.servingOnly.push(name);
      }
      if (differs) for (const slice of slices) t.differs.set(slice, (t.differs.get(slice) ?? 0) + 1);
    }
    const differing = [...skewed.mismatched, ...skewed.trainingOnly, ...skewed.servingOnly];
    if (differing.length && samples.length < MAX_SAMPLES)
      samples.push({
        id,
        slice: prediction.slice,
        ...skewed,
        training: Object.fromEntries(differing.flatMap((n) => (training.has(n) ? [[n, training.get(n)!.shown]] : []))),
        serving: Object.fromEntries(differing.flatMap((n) => (serving.has(n) ? [[n, serving.get(n)]] : []))),
      });
  }
  const features = [...tallies].map(([feature, t]) => {
    const diffCount = t.trainingOnly + t.servingOnly + t.mismatchCount;
    return {
      feature,
      trainingCount: t.trainingCount,
      servingCount: t.servingCount,
      matchCount: t.matchCount,
      trainingOnly: t.trainingOnly,
      servingOnly: t.servingOnly,
      mismatchCount: t.mismatchCount,
      diffCount,
      diffRate: pairs ? diffCount / pairs : 0,
      slices: [...slicePairs]
        .map(([slice, n]) => ({ slice, pairs: n, diffCount: t.differs.get(slice) ?? 0, diffRate: (t.differs.get(slice) ?? 0) / n }))
        .sort((a, b) => b.diffRate - a.diffRate || b.pairs - a.pairs || (a.slice < b.slice ? -1 : 1))
        .slice(0, MAX_SLICES),
    };
  });
  features.sort((a, b) => b.diffRate - a.diffRate || (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0));
  return {
    measuredAt: options.at.toISOString(),
    identifier: options.identifier,
    ignored: [...ignored].filter((n) => n !== options.identifier).sort(),
    floatRoundDigits: options.floatRoundDigits ?? null,
    trainingExamples: examples.length,
    withoutIdentifier,
    duplicateIdentifiers: [...counts.values()].filter((n) => n > 1).length,
    pairs,
    features,
    samples,
  };
}

/** Alerts of the features (and the slices of a feature) that differ in more than the settings' share of their pairs. */
export function featureSkewAlerts(report: FeatureSkewReport | undefined, settings: MonitoringSettings): NewAlert[] {
  if (!report) return [];
  const { featureDiffRate, minPairs } = settings.skew;
  const alerts: NewAlert[] = [];
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  for (const f of report.features) {
    if (report.pairs >= minPairs && f.diffRate > featureDiffRate)
      alerts.push({
        kind: 'skew',
        subject: `skew:feature:${f.feature}`,
        slice: null,
        feature: f.feature,
        message: `${f.feature}: training and serving differ in ${f.diffCount} of ${report.pairs} examples found in both (${percent(f.diffRate)}: ${f.mismatchCount} mismatched, ${f.trainingOnly} training only, ${f.servingOnly} serving only)`,
        value: f.diffRate,
        baseline: null,
        threshold: featureDiffRate,
        details: { skew: 'feature', pairs: report.pairs, mismatchCount: f.mismatchCount, trainingOnly: f.trainingOnly, servingOnly: f.servingOnly },
      });
    for (const s of f.slices)
      if (s.pairs >= minPairs && s.diffRate > featureDiffRate)
        alerts.push({
          kind: 'skew',
          subject: `skew:feature:${f.feature}:${s.slice}`,
          slice: s.slice,
          feature: f.feature,
          message: `${f.feature} on ${s.slice}: training and serving differ in ${s.diffCount} of ${s.pairs} examples found in both (${percent(s.diffRate)})`,
          value: s.diffRate,
          baseline: null,
          threshold: featureDiffRate,
          details: { skew: 'feature', pairs: s.pairs },
        });
  }
  return alerts;
}

/** What a reviewer may see of a report: a masked feature's values left out of the samples. */
export function maskedFeatureSkew(report: FeatureSkewReport, masked: ReadonlySet<string>): FeatureSkewReport {
  if (masked.size === 0) return report;
  const hidden = (name: string) => masked.has(name) || (name.startsWith('input_') && masked.has(name.slice(6)));
  const strip = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).filter(([name]) => !hidden(name)));
  return { ...report, samples: report.samples.map((s) => ({ ...s, training: strip(s.training), serving: strip(s.serving) })) };
}

import { FEATURE_LIMITS, isStorableInstant, PREDICTION_ID_PATTERN, PredictionInput } from '@backflow/contracts';
import { z } from 'zod';

// zod's own patterns for `z.guid()` and the contract's `z.iso.datetime({ offset: true })` (a test checks the latter is the schema's)
export const UUID_PATTERN = z.regexes.guid;
export const TIMESTAMP_PATTERN = z.regexes.datetime({ offset: true, local: false, precision: null });

const TOP_LEVEL_KEYS = new Set(['id', 'model', 'input', 'scores', 'predictedLabel', 'slice', 'timestamp', 'metadata']);
const MODEL_FIELD_LENGTH = 200;
const LABEL_LENGTH = 64;

/** An object as JSON.parse makes it; anything more exotic goes to zod. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function isFeatureScalar(value: unknown): boolean {
  return (
    (typeof value === 'string' && value.length <= FEATURE_LIMITS.stringLength) ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean'
  );
}

function isFeatureValue(value: unknown): boolean {
  if (isFeatureScalar(value)) return true;
  if (!Array.isArray(value) || value.length > FEATURE_LIMITS.arrayLength) return false;
  for (let i = 0; i < value.length; i++) if (!isFeatureScalar(value[i])) return false;
  return true;
}

function isKey(key: string, maxLength: number): boolean {
  return key.length >= 1 && key.length <= maxLength;
}

function isModelField(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  return trimmed.length >= 1 && trimmed.length <= MODEL_FIELD_LENGTH;
}

function isModel(value: unknown): value is { name: string; version: string } {
  if (!isJsonObject(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== 'name' && key !== 'version') return false;
    keys++;
  }
  return keys === 2 && isModelField(value.name) && isModelField(value.version);
}

function isInput(value: unknown): value is Record<string, PredictionInput['input'][string]> {
  if (!isJsonObject(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (++keys > FEATURE_LIMITS.features || !isKey(key, FEATURE_LIMITS.keyLength) || !isFeatureValue(value[key])) return false;
  }
  return true;
}

function isScores(value: unknown): value is Record<string, number> {
  if (!isJsonObject(value) || Object.hasOwn(value, '__proto__')) return false;
  for (const key in value) {
    const score = value[key];
    if (!isKey(key, LABEL_LENGTH) || typeof score !== 'number' || !Number.isFinite(score)) return false;
  }
  return true;
}

function isSlice(value: unknown): value is Record<string, string> {
  if (!isJsonObject(value)) return false;
  let keys = 0;
  for (const key in value) {
    const sliceValue = value[key];
    if (
      ++keys > FEATURE_LIMITS.sliceKeys ||
      !isKey(key, FEATURE_LIMITS.keyLength) ||
      typeof sliceValue !== 'string' ||
      sliceValue.length > FEATURE_LIMITS.sliceValueLength
    )
      return false;
  }
  return true;
}

/** (the caller has bounded its nesting: serializing it cannot overflow the stack) */
function isMetadata(value: unknown): value is Record<string, unknown> {
  return isJsonObject(value) && !Object.hasOwn(value, '__proto__') && JSON.stringify(value).length <= FEATURE_LIMITS.metadataBytes;
}

/**
 * The contract's reading of a prediction when it is plainly valid, at a fraction of zod's
 * cost; undefined whenever anything is off, and the caller asks `PredictionInput` instead,
 * so every rejection still comes from zod. It accepts only what zod accepts, and returns
 * what zod would (model fields trimmed).
 */
export function parseCommonPrediction(raw: unknown): PredictionInput | undefined {
  if (!isJsonObject(raw)) return undefined;
  for (const key in raw) if (!TOP_LEVEL_KEYS.has(key)) return undefined;
  const { id, model, input, scores, predictedLabel, slice, timestamp, metadata } = raw;
  if (!isModel(model) || !isInput(input) || !isScores(scores)) return undefined;
  if (id !== undefined && (typeof id !== 'string' || !PREDICTION_ID_PATTERN.test(id))) return undefined;
  if (predictedLabel !== undefined && (typeof predictedLabel !== 'string' || !isKey(predictedLabel, LABEL_LENGTH))) return undefined;
  if (slice !== undefined && !isSlice(slice)) return undefined;
  if (timestamp !== undefined && (typeof timestamp !== 'string' || !TIMESTAMP_PATTERN.test(timestamp) || !isStorableInstant(timestamp))) return undefined;
  if (metadata !== undefined && !isMetadata(metadata)) return undefined;
  return {
    id: id,
    model: { name: model.name.trim(), version: model.version.trim() },
    input,
    scores,
    predictedLabel: predictedLabel,
    slice: slice,
    timestamp: timestamp,
    metadata: metadata,
  };
}

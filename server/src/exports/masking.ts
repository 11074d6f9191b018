import { createHmac } from 'node:crypto';
import type { MaskedFieldPolicy } from '@backflow/contracts';
import { jsonText, type FeatureSpec } from './example-row';

/** How a version's rows are masked: the project's masked fields (a name or a dotted path) and its policy. */
export interface Masking {
  policy: MaskedFieldPolicy;
  fields: readonly string[];
  /** the project's own HMAC key (`projects.export_hash_key`) */
  key: Buffer;
}

/** What the manifest says of how the hashes were made. */
export const HASH_DESCRIPTION =
  "HMAC-SHA256 with the project's own key, hex: of a string as it is, of anything else as its JSON text; a list element by element";

/** A masked value's hash (a list's, element by element, so a join on one element still works); null stays null. */
export function hashValue(value: unknown, key: Buffer): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((element) => hashValue(element, key));
  return createHmac('sha256', key)
    .update(typeof value === 'string' ? value : jsonText(value))
    .digest('hex');
}

/** A masking's paths, split once; none when the policy keeps the fields. */
export function maskedPaths(masking: Masking): string[][] {
  if (masking.policy === 'keep') return [];
  // a field is the input's own key, dots included (an input is flat: `user.phone` is a key of it), or a path into a nested value
  return masking.fields.flatMap((field) => (field.includes('.') ? [[field], field.split('.')] : [[field]]));
}

/** Drops or hashes the masked fields of an input, in place (each row's input is the export's own copy). */
export function maskInput(input: Record<string, unknown>, paths: readonly string[][], masking: Masking): void {
  for (const path of paths) {
    let node: unknown = input;
    for (let i = 0; i < path.length - 1 && node !== null && typeof node === 'object'; i++) node = (node as Record<string, unknown>)[path[i]];
    const last = path[path.length - 1];
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, last)) continue;
    const parent = node as Record<string, unknown>;
    if (masking.policy === 'drop') delete parent[last];
    else parent[last] = hashValue(parent[last], masking.key);
  }
}

/** Features (declared, or typed from stored values) as the masking leaves them: a dropped masked field is not exported, a hashed one is bytes. */
export function maskedFeatures(features: readonly FeatureSpec[], masking: Masking): FeatureSpec[] {
  if (masking.policy === 'keep') return [...features];
  const masked = new Set(masking.fields);
  if (masking.policy === 'drop') return features.filter((f) => !masked.has(f.name));
  return features.map((f) => (masked.has(f.name) ? { name: f.name, type: 'bytes' } : f));
}

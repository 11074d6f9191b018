import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';

// a document deeper than this is no record of features (and would cost a deep recursion)
export const MAX_NESTING = 16;

const isScalar = (value: unknown) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Whether a list holds lists or objects nested deeper than `levels`, read no deeper than that. */
function deeperThan(value: unknown, levels: number): boolean {
  if (!Array.isArray(value) && !isObject(value)) return false;
  if (levels === 0) return true;
  return (Array.isArray(value) ? value : Object.values(value)).some((item) => deeperThan(item, levels - 1));
}

/**
 * Another tool's record (a Label Studio task's `data`, a dict instance of a model server) as
 * Backflow features, which are scalars or lists of scalars: a nested object's fields become
 * features named by their dotted path (`meta.user.age`), typed as they are; a list holding
 * objects or lists becomes its JSON text, which is what the exports write for such a value.
 * Two paths to one name (`"a.b"` beside `{"a": {"b": …}}`) are refused, never merged.
 */
export function flattenFeatures(record: Record<string, unknown>, field: string): Record<string, unknown> {
  const features = new Map<string, unknown>();
  const visit = (object: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (isObject(value)) {
        if (depth + 1 >= MAX_NESTING) throw InteropErrors.invalidPayload(`${field}.${name}`, `nested more than ${MAX_NESTING} levels`);
        visit(value, name, depth + 1);
        continue;
      }
      if (features.has(name)) throw InteropErrors.featureCollision(`${field}.${name}`, name);
      if (Array.isArray(value) && !value.every(isScalar)) {
        if (deeperThan(value, MAX_NESTING - depth)) throw InteropErrors.invalidPayload(`${field}.${name}`, `nested more than ${MAX_NESTING} levels`);
        features.set(name, JSON.stringify(value));
      } else {
        features.set(name, value);
      }
    }
  };
  visit(record, '', 0);
  // fromEntries: a key such as "__proto__" stays a feature, never the prototype
  return Object.fromEntries(features);
}

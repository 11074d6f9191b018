import { normalCdf } from '@backflow/drift';
import { fail, ok, type Checked } from './kind';

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
export const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** Binary entropy in bits: 0 for a certain label, 1 at p = ½. */
export function binaryEntropy(p: number): number {
  const q = clamp01(p);
  if (q === 0 || q === 1) return 0;
  return -(q * Math.log2(q) + (1 - q) * Math.log2(1 - q));
}

/** A number's model output: its value and, when sent, a standard deviation or a (95%) predictive interval. */
export interface NumberSuggestion {
  value: number;
  std?: number;
  interval?: [number, number];
}

/** Checks `{value, std?, interval?}`; `fits` says whether the value itself is acceptable. */
export function numberSuggestion(raw: unknown, fits: (value: number) => string | undefined): Checked<NumberSuggestion> {
  if (!isObject(raw)) return fail('expected an object: {"value": …, "std"?: …, "interval"?: [low, high]}');
  for (const key of Object.keys(raw)) if (!['value', 'std', 'interval'].includes(key)) return fail(`unknown key "${key}"`, key);
  if (!isFiniteNumber(raw.value)) return fail('a finite number', 'value');
  const wrong = fits(raw.value);
  if (wrong) return fail(wrong, 'value');
  const out: NumberSuggestion = { value: raw.value };
  if (raw.std !== undefined) {
    if (!isFiniteNumber(raw.std) || raw.std < 0) return fail('a finite number, at least 0', 'std');
    out.std = raw.std;
  }
  if (raw.interval !== undefined) {
    const interval = raw.interval;
    if (!Array.isArray(interval) || interval.length !== 2 || !interval.every(isFiniteNumber) || interval[0] > interval[1])
      return fail('[low, high]: two finite numbers, low at most high', 'interval');
    out.interval = [interval[0], interval[1]];
  }
  return ok(out);
}

const Z95 = 1.959963984540054;

/**
 * How unsure a number's model is, in [0, 1]: the larger of the interval's width over `scale`
 * (a 95% interval; a std counts as ±1.96 std) and, near a decision threshold, the chance the
 * true value lies across it (2·Φ(−|value − t| / σ): 1 at the threshold). A model that sends no
 * spread is taken at its word: only a value exactly on a threshold is uncertain.
 */
export function numberUncertainty(s: NumberSuggestion, scale: number, thresholds: readonly number[] = []): number {
  const width = s.interval ? s.interval[1] - s.interval[0] : s.std !== undefined ? 2 * Z95 * s.std : 0;
  const sigma = s.interval ? width / (2 * Z95) : s.std;
  let u = scale > 0 ? width / scale : 0;
  for (const t of thresholds) {
    const near = sigma !== undefined && sigma > 0 ? 2 * normalCdf(-Math.abs(s.value - t) / sigma) : s.value === t ? 1 : 0;
    u = Math.max(u, near);
  }
  return clamp01(u);
}

/** The lower median of numbers (an answer someone gave, never an average of two). */
export function lowerMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The characters (Unicode code points) of a text: span offsets count these. */
export const codePointLength = (text: string) => {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
};

import type { Estimate, KindMetrics } from '@backflow/contracts';

export const percent = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`);
export const figure = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '—' : x.toFixed(digits));
export const interval = (e: Estimate | null) => (e ? `${percent(e.value)} (${percent(e.low, 0)}–${percent(e.high, 0)})` : '—');

const hour = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
export const tick = (iso: string, bucket: 'hour' | 'day') => (bucket === 'hour' ? hour : day).format(new Date(iso));
export const sliceName = (key: string, value: string) => (key === '*' ? 'all traffic' : `${key}=${value}`);

/** A monitoring row: one model version ('*' for every version) and one slice. */
export interface VersionSlice {
  modelVersion: string;
  sliceKey: string;
  sliceValue: string;
}
export const rowKey = (r: VersionSlice) => `${r.modelVersion}|${r.sliceKey}|${r.sliceValue}`;
export const versionName = (version: string) => (version === '*' ? 'every version' : `version ${version}`);

/**
 * The rows worth listing: with one model version in the range, its rows say what the every-version
 * rows say, so only the latter are kept (every slice was listed twice).
 */
export function distinctRows<R extends VersionSlice>(rows: readonly R[]): R[] {
  const versions = new Set(rows.map((r) => r.modelVersion).filter((v) => v !== '*'));
  return versions.size === 1 ? rows.filter((r) => r.modelVersion === '*') : [...rows];
}

/** Below this many effective labels an interval is too wide to read as a figure: it is shown with a warning, never alone. */
export const MIN_EFFECTIVE_LABELS = 30;

export type HeadlineMetric = KindMetrics['headline']['metric'];

/** What a kind's headline figure is called, as alerts name it. */
export const METRIC_NAMES: Record<HeadlineMetric, string> = {
  micro_f1: 'micro F1',
  mae: 'MAE',
  within_one_accuracy: 'within-one accuracy',
  span_f1: 'span F1',
  exact_accuracy: 'exact-match accuracy',
  ndcg: 'NDCG@k',
};

/** An amount in the question's own unit (an error, say): fewer decimals as it grows. */
export const amount = (x: number | null | undefined, unit?: string) => {
  if (x === null || x === undefined) return '—';
  const size = Math.abs(x);
  return `${x.toFixed(size >= 100 ? 0 : size >= 10 ? 1 : 2)}${unit ? ` ${unit}` : ''}`;
};

/** An axis tick: three significant digits, no trailing zeros. */
export const axisTick = (x: number) => String(Number(x.toPrecision(3)));

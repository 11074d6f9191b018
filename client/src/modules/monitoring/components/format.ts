import type { Estimate } from '@backflow/contracts';

export const percent = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`);
export const figure = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '—' : x.toFixed(digits));
export const interval = (e: Estimate | null) => (e ? `${percent(e.value)} (${percent(e.low, 0)}–${percent(e.high, 0)})` : '—');

const hour = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
export const tick = (iso: string, bucket: 'hour' | 'day') => (bucket === 'hour' ? hour : day).format(new Date(iso));
export const sliceName = (key: string, value: string) => (key === '*' ? 'all traffic' : `${key}=${value}`);

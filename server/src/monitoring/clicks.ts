import type { ClickReport, FeedbackRules } from '@backflow/contracts';
import type { Question } from '@backflow/questions';
import { classifyDegradation, estimatePropensitiesEM, type ClickLogRow, type RateBucket } from '@backflow/ranking';
import type { NewAlert } from './monitoring.repository';

/** A ranked list as it was shown: its candidates' items at their positions, when, to which slice, by which model version. */
export interface ShownList {
  id: string;
  at: Date;
  slice: Record<string, string>;
  modelVersion: string;
  candidates: Array<{ item: string; position: number }>;
}

/**
 * The lists of a settled hour, kept in its rollup after their raw rows went (per model version
 * and slice): how many, and per position the candidates shown and how many of them were clicked.
 */
export interface RolledClicks {
  hour: Date;
  slice: Record<string, string>;
  modelVersion: string;
  lists: number;
  positions: Array<{ position: number; impressions: number; clicks: number }>;
}

/** A candidate engaged with: an event of a click type naming a list's item. */
export interface Engagement {
  predictionId: string;
  item: string;
}

const ALL = '*';
const HOUR_MS = 3_600_000;

/** The event types that count as a click: those a rule grades above the scale's lowest grade. */
export function clickTypesOf(question: Extract<Question, { kind: 'ranking' }>, rules: FeedbackRules): string[] {
  const lowest = question.grades[0].value;
  return [...new Set(rules.rules.filter((rule) => rule.grade !== undefined && rule.grade > lowest).map((rule) => rule.eventType))].sort();
}

/** `impressions` more (and `hits` clicks) under `key`. */
function add<K>(counts: Map<K, { impressions: number; clicks: number }>, key: K, impressions: number, hits: number): void {
  const c = counts.get(key);
  if (c) {
    c.impressions += impressions;
    c.clicks += hits;
  } else counts.set(key, { impressions, clicks: hits });
}

const rateOf = (clicks: number, impressions: number) => (impressions > 0 ? clicks / impressions : null);

const Z95 = 1.959963984540054;

/** A click-through rate with its 95% Wilson score interval (null with no impression). */
function rate(clicks: number, impressions: number) {
  if (impressions === 0) return { impressions, clicks, ctr: null, low: null, high: null };
  const p = clicks / impressions;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * impressions)) / (1 + z2 / impressions);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / impressions + z2 / (4 * impressions * impressions))) / (1 + z2 / impressions);
  return { impressions, clicks, ctr: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * What a ranking project's clicks say over a window: click-through per position (raw, and the
 * examination probability per position estimated from the project's own traffic by regression
 * EM), per model version, and per slice over time with the kind of degradation its series shows
 * (a sudden drop by CUSUM, a slow one by its trend). Relevance in the EM is one value per
 * (slice, item): identifiable because an item is shown at different positions across lists.
 */
export function clickReport(
  lists: readonly ShownList[],
  engaged: readonly Engagement[],
  window: { from: Date; to: Date; bucket: 'hour' | 'day' },
  options: { propensity?: boolean; rolled?: readonly RolledClicks[] } = {},
): Omit<ClickReport, 'question' | 'clickTypes'> {
  const withPropensity = options.propensity !== false;
  const clicked = new Set(engaged.map((e) => `${e.predictionId}\u0000${e.item}`));
  const byPosition = new Map<number, { impressions: number; clicks: number }>();
  const byVersion = new Map<string, { impressions: number; clicks: number }>();
  const bucketMs = window.bucket === 'hour' ? HOUR_MS : 24 * HOUR_MS;
  const buckets = Math.max(1, Math.ceil((window.to.getTime() - window.from.getTime()) / bucketMs));
  const bySlice = new Map<string, Array<{ impressions: number; clicks: number }>>();
  const seriesOf = (slice: string) => {
    let series = bySlice.get(slice);
    if (!series) bySlice.set(slice, (series = Array.from({ length: buckets }, () => ({ impressions: 0, clicks: 0 }))));
    return series;
  };
  const rows: ClickLogRow[] = [];
  let impressions = 0;
  let clicks = 0;
  for (const list of lists) {
    const at = Math.min(buckets - 1, Math.max(0, Math.floor((list.at.getTime() - window.from.getTime()) / bucketMs)));
    const slices = [ALL, ...Object.entries(list.slice).map(([key, value]) => `${key}=${value}`)];
    const context = Object.entries(list.slice)
      .map(([key, value]) => `${key}=${value}`)
      .sort()
      .join('&');
    for (const candidate of list.candidates) {
      const hit = clicked.has(`${list.id}\u0000${candidate.item}`) ? 1 : 0;
      impressions++;
      clicks += hit;
      add(byPosition, candidate.position, 1, hit);
      add(byVersion, list.modelVersion, 1, hit);
      for (const slice of slices) {
        const bucket = seriesOf(slice)[at];
        bucket.impressions++;
        bucket.clicks += hit;
      }
      // (the click log only when the EM runs: the scheduled evaluation wants the series alone)
      if (withPropensity) rows.push({ contextId: context, itemId: candidate.item, position: candidate.position, clicked: hit === 1 });
    }
  }
  // hours whose lists are gone count from their rollups alike (the click model learns from the raw lists alone)
  let listCount = lists.length;
  for (const group of options.rolled ?? []) {
    listCount += group.lists;
    const at = Math.min(buckets - 1, Math.max(0, Math.floor((group.hour.getTime() - window.from.getTime()) / bucketMs)));
    const slices = [ALL, ...Object.entries(group.slice).map(([key, value]) => `${key}=${value}`)];
    for (const { position, impressions: shown, clicks: hits } of group.positions) {
      impressions += shown;
      clicks += hits;
      add(byPosition, position, shown, hits);
      add(byVersion, group.modelVersion, shown, hits);
      for (const slice of slices) {
        const bucket = seriesOf(slice)[at];
        bucket.impressions += shown;
        bucket.clicks += hits;
      }
    }
  }
  const fit = rows.length ? estimatePropensitiesEM(rows) : undefined;
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    bucket: window.bucket,
    lists: listCount,
    ...rate(clicks, impressions),
    byPosition: [...byPosition].sort(([a], [b]) => a - b).map(([position, c]) => ({ position, ...rate(c.clicks, c.impressions) })),
    propensity: fit
      ? {
          method: 'regression_em',
          converged: fit.converged,
          iterations: fit.iterations,
          positions: fit.propensities.map((p) => ({ position: p.position, value: p.value, low: p.low, high: p.high, impressions: p.observations })),
        }
      : null,
    byModelVersion: [...byVersion].sort(([a], [b]) => a.localeCompare(b)).map(([modelVersion, c]) => ({ modelVersion, ...rate(c.clicks, c.impressions) })),
    bySlice: [...bySlice]
      .sort(([a], [b]) => (a === ALL ? -1 : b === ALL ? 1 : a.localeCompare(b)))
      .map(([slice, series]) => {
        const totals = series.reduce((t, b) => ({ impressions: t.impressions + b.impressions, clicks: t.clicks + b.clicks }), { impressions: 0, clicks: 0 });
        const rated: RateBucket[] = series.map((b, i) => ({ time: window.bucket === 'hour' ? i / 24 : i, impressions: b.impressions, clicks: b.clicks }));
        const verdict = totals.impressions > 0 && series.length >= 4 ? classifyDegradation(rated) : undefined;
        const timeOf = (time: number | undefined) =>
          time === undefined ? null : new Date(window.from.getTime() + Math.round(window.bucket === 'hour' ? time * 24 : time) * bucketMs).toISOString();
        return {
          slice,
          ...rate(totals.clicks, totals.impressions),
          series: series.map((b, i) => ({
            at: new Date(window.from.getTime() + i * bucketMs).toISOString(),
            impressions: b.impressions,
            clicks: b.clicks,
            ctr: rateOf(b.clicks, b.impressions),
          })),
          degradation: {
            kind: verdict?.kind ?? 'none',
            alarmAt: timeOf(verdict?.cusum?.alarmed ? verdict.cusum.alarmAt : undefined),
            changeAt: timeOf(verdict?.cusum?.alarmed ? verdict.cusum.changeAt : undefined),
            slopePerWeek: verdict?.trend?.slopePerWeek ?? null,
            pValue: verdict?.trend?.pValue ?? null,
          },
        };
      }),
  };
}

/**
 * An alert per slice whose click-through series shows a degradation: sudden (the CUSUM alarmed
 * and a step explains the series) or slow (a significant falling trend). Its value is the last
 * week's click-through, its baseline the first quarter's.
 */
export function clickAlerts(report: Pick<ClickReport, 'bySlice'>, question: string): NewAlert[] {
  const total = (buckets: ClickReport['bySlice'][number]['series']) =>
    buckets.reduce((t, b) => ({ impressions: t.impressions + b.impressions, clicks: t.clicks + b.clicks }), { impressions: 0, clicks: 0 });
  return report.bySlice.flatMap((s) => {
    const d = s.degradation;
    if (d.kind === 'none') return [];
    const recent = total(s.series.slice(-7));
    const first = total(s.series.slice(0, Math.max(1, Math.floor(s.series.length / 4))));
    const value = rateOf(recent.clicks, recent.impressions) ?? 0;
    const baseline = rateOf(first.clicks, first.impressions);
    const where = s.slice === ALL ? 'all traffic' : s.slice;
    const how =
      d.kind === 'sudden'
        ? `fell suddenly${d.changeAt ? ` from ${d.changeAt.slice(0, 10)}` : ''}`
        : `is falling slowly (${((d.slopePerWeek ?? 0) * 100).toFixed(2)} points a week)`;
    return [
      {
        kind: 'ctr' as const,
        subject: `ctr:${s.slice}`,
        slice: s.slice === ALL ? null : s.slice,
        feature: null,
        message: `click-through of "${question}" for ${where} ${how}: ${(value * 100).toFixed(1)}% last week${baseline === null ? '' : ` against ${(baseline * 100).toFixed(1)}% at first`}`,
        value,
        baseline,
        threshold: baseline === null ? 0 : baseline * 0.8,
        details: { degradation: d.kind, changeAt: d.changeAt, alarmAt: d.alarmAt, slopePerWeek: d.slopePerWeek, pValue: d.pValue },
      },
    ];
  });
}

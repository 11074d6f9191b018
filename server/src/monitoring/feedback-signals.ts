import type { FeedbackSignals } from '@backflow/contracts';
import { countProportion, normalQuantile } from '@backflow/drift';

/** The event types listed, the commonest first. */
export const MAX_SIGNAL_TYPES = 12;

export interface SignalCounts {
  predictions: Array<{ modelVersion: string; predictions: number }>;
  events: Array<{
    modelVersion: string;
    type: string;
    predictions: number;
    events: number;
    edits: number;
    meanDistance: number | null;
    sdDistance: number | null;
  }>;
}

/**
 * Implicit feedback per model version: each event type's share of the version's predictions
 * (Wilson interval: every prediction is observed, none sampled), and the mean edit distance of
 * its users' edits with a normal interval (the sample deviation over √n).
 */
export function feedbackSignals(counts: SignalCounts, days: number, from: Date): FeedbackSignals {
  const totals = new Map<string, number>();
  for (const e of counts.events) totals.set(e.type, (totals.get(e.type) ?? 0) + e.events);
  const types = [...totals]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_SIGNAL_TYPES)
    .map(([type]) => type);
  const z = normalQuantile(0.975);
  return {
    days,
    from: from.toISOString(),
    types,
    versions: counts.predictions.map(({ modelVersion, predictions }) => {
      const own = counts.events.filter((e) => e.modelVersion === modelVersion);
      const events = types.flatMap((type) => {
        const row = own.find((e) => e.type === type);
        const rate = countProportion(row?.predictions ?? 0, predictions);
        return rate
          ? [{ type, predictions: row?.predictions ?? 0, events: row?.events ?? 0, rate: { value: rate.value, low: rate.low, high: rate.high } }]
          : [];
      });
      // every type's measured edits together (an edit event, or a type a rule reads as the corrected text)
      const measured = own.filter((e) => e.edits > 0 && e.meanDistance !== null);
      const n = measured.reduce((sum, e) => sum + e.edits, 0);
      let edits: FeedbackSignals['versions'][number]['edits'] = null;
      if (n > 0) {
        const mean = measured.reduce((sum, e) => sum + e.meanDistance! * e.edits, 0) / n;
        // pooled: within-type squares plus the spread of the type means
        const squares = measured.reduce((sum, e) => sum + (e.sdDistance ?? 0) ** 2 * (e.edits - 1) + e.edits * (e.meanDistance! - mean) ** 2, 0);
        const half = n > 1 ? z * Math.sqrt(squares / (n - 1) / n) : 0;
        edits = { events: n, meanDistance: mean, low: Math.max(0, mean - half), high: Math.min(1, mean + half) };
      }
      return { modelVersion, predictions, events, edits };
    }),
  };
}

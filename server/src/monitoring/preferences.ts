import type { PreferenceReport } from '@backflow/contracts';
import type { Question } from '@backflow/questions';
import { bradleyTerry, headToHead, type Comparison } from '@backflow/ranking';

/** A decided preference: the answer, the versions of the first and second responses, when the prediction was made. */
export interface PreferenceRow {
  preferred: string;
  first: string | null;
  second: string | null;
  at: Date;
  /** the prediction's slice keys */
  slice?: Record<string, string>;
}

/** Slices listed with their own fit, the most compared first. */
export const MAX_PREFERENCE_SLICES = 20;

/**
 * The versions' strengths from the preferences between responses of two different versions
 * (`first` against `second`; a tie is half a win each, `both_bad` says nothing of their order),
 * relative to the champion (the version given, else the first seen), and the newest version's
 * direct record against it with its verdict: better or worse when its interval leaves ½.
 */
export function preferenceReport(
  question: Extract<Question, { kind: 'preference' }>,
  rows: readonly PreferenceRow[],
  options: { champion?: string; slice: string | null },
): PreferenceReport {
  const comparisons: Comparison[] = [];
  const sliceOf: Array<Record<string, string> | undefined> = [];
  const firstSeen = new Map<string, number>();
  let bothBad = 0;
  let sameVersion = 0;
  for (const row of rows) {
    for (const version of [row.first, row.second]) if (version !== null && !firstSeen.has(version)) firstSeen.set(version, row.at.getTime());
    if (row.preferred === 'both_bad') {
      bothBad++;
      continue;
    }
    if (row.first === null || row.second === null || row.first === row.second) {
      sameVersion++;
      continue;
    }
    const winner = row.preferred === 'first' ? 'a' : row.preferred === 'second' ? 'b' : 'tie';
    comparisons.push({ a: row.first, b: row.second, winner });
    sliceOf.push(row.slice);
  }
  const compared = new Set(comparisons.flatMap((c) => [c.a, c.b]));
  const bySeen = [...firstSeen].filter(([version]) => compared.has(version)).sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
  const champion = options.champion && compared.has(options.champion) ? options.champion : (bySeen[0]?.[0] ?? null);
  const fit = champion ? bradleyTerry(comparisons, { reference: champion }) : undefined;
  const newest = bySeen.length > 1 ? bySeen.filter(([version]) => version !== champion).at(-1)?.[0] : undefined;
  const record = newest && champion ? headToHead(comparisons, newest, champion) : undefined;
  // per slice (key=value): the newest version's chance of beating the champion from that slice's preferences alone
  const bySlice = new Map<string, Comparison[]>();
  if (options.slice === null && newest && champion)
    comparisons.forEach((comparison, i) => {
      for (const [key, value] of Object.entries(sliceOf[i] ?? {})) {
        const name = `${key}=${value}`;
        const list = bySlice.get(name);
        if (list) list.push(comparison);
        else bySlice.set(name, [comparison]);
      }
    });
  const slices = [...bySlice]
    .sort((x, y) => y[1].length - x[1].length || (x[0] < y[0] ? -1 : 1))
    .slice(0, MAX_PREFERENCE_SLICES)
    .map(([name, within]) => {
      const players = new Set(within.flatMap((c) => [c.a, c.b]));
      const strength =
        players.has(champion) && players.has(newest!) ? bradleyTerry(within, { reference: champion })?.strengths.find((s) => s.player === newest) : undefined;
      return { slice: name, comparisons: within.length, winProbability: strength?.winProbability ?? null };
    });
  return {
    question: question.name,
    of: question.of,
    slice: options.slice,
    labels: rows.length,
    comparisons: comparisons.length,
    bothBad,
    sameVersion,
    champion,
    versions: (fit?.strengths ?? []).map((s) => ({
      modelVersion: s.player,
      logStrength: s.logStrength,
      low: s.low,
      high: s.high,
      winProbability: s.winProbability,
      comparisons: s.comparisons,
      wins: s.wins,
    })),
    slices,
    challenger: newest && record ? { modelVersion: newest, ...record, verdict: record.low > 0.5 ? 'better' : record.high < 0.5 ? 'worse' : 'undecided' } : null,
  };
}

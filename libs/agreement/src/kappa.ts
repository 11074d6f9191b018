/**
 * Cohen's κ for two raters who labelled the same items: (p_o − p_e) / (1 − p_e), where p_o is
 * the share of items they agree on and p_e the agreement expected from each rater's own label
 * frequencies. NaN when there is nothing to measure (no items, or both raters always give the
 * one same label, where p_e = 1).
 */
export function cohenKappa(pairs: ReadonlyArray<readonly [string, string]>): number {
  const n = pairs.length;
  if (n === 0) return NaN;
  const first = new Map<string, number>();
  const second = new Map<string, number>();
  let agreed = 0;
  for (const [a, b] of pairs) {
    if (a === b) agreed++;
    first.set(a, (first.get(a) ?? 0) + 1);
    second.set(b, (second.get(b) ?? 0) + 1);
  }
  let expected = 0;
  for (const [label, count] of first) expected += (count / n) * ((second.get(label) ?? 0) / n);
  if (expected >= 1) return NaN;
  return (agreed / n - expected) / (1 - expected);
}

/**
 * Fleiss' κ from a count table: one row per item, one column per category, each row summing
 * to the same number of raters (at least 2). NaN when there is nothing to measure.
 */
export function fleissKappa(counts: ReadonlyArray<readonly number[]>): number {
  const items = counts.length;
  if (items === 0) return NaN;
  const raters = counts[0].reduce((a, b) => a + b, 0);
  if (raters < 2) return NaN;
  const categories = counts[0].length;
  const columnTotals = new Array<number>(categories).fill(0);
  let meanAgreement = 0;
  for (const row of counts) {
    if (row.length !== categories) throw new RangeError('every row of a Fleiss table has one count per category');
    const total = row.reduce((a, b) => a + b, 0);
    if (total !== raters) throw new RangeError(`every item needs the same number of ratings (${raters}), one has ${total}`);
    let squares = 0;
    for (let j = 0; j < categories; j++) {
      squares += row[j] * row[j];
      columnTotals[j] += row[j];
    }
    meanAgreement += (squares - raters) / (raters * (raters - 1));
  }
  meanAgreement /= items;
  let expected = 0;
  for (const total of columnTotals) expected += (total / (items * raters)) ** 2;
  if (expected >= 1) return NaN;
  return (meanAgreement - expected) / (1 - expected);
}

/** Fleiss' κ over items given as their labels, keeping only items with exactly `raters` labels. */
export function fleissKappaOfLabels(items: ReadonlyArray<readonly string[]>, raters: number): { kappa: number; items: number } {
  const kept = items.filter((labels) => labels.length === raters);
  const categories = [...new Set(kept.flat())];
  const index = new Map(categories.map((c, i) => [c, i]));
  const table = kept.map((labels) => {
    const row = new Array<number>(categories.length).fill(0);
    for (const label of labels) row[index.get(label)!]++;
    return row;
  });
  return { kappa: fleissKappa(table), items: kept.length };
}

/**
 * Krippendorff's α for nominal data, missing answers allowed: each unit lists the values it
 * received (any number of raters; a unit with fewer than two values cannot be paired and is
 * left out). α = 1 − D_o / D_e over the coincidence matrix: 1 is perfect agreement, 0 what
 * chance gives. NaN when fewer than two pairable values, or a single value throughout.
 */
export function krippendorffAlphaNominal(units: ReadonlyArray<readonly string[]>): { alpha: number; pairableValues: number } {
  // o[c][k]: coincidences of values c and k, each pair within a unit weighted 1 / (m_u − 1)
  const coincidences = new Map<string, Map<string, number>>();
  const add = (c: string, k: string, w: number) => {
    let row = coincidences.get(c);
    if (!row) coincidences.set(c, (row = new Map<string, number>()));
    row.set(k, (row.get(k) ?? 0) + w);
  };
  for (const values of units) {
    const m = values.length;
    if (m < 2) continue;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) add(values[i], values[j], 1 / (m - 1));
  }
  const marginals = new Map<string, number>();
  let n = 0;
  let observedDisagreement = 0;
  for (const [c, row] of coincidences) {
    for (const [k, o] of row) {
      marginals.set(c, (marginals.get(c) ?? 0) + o);
      n += o;
      if (c !== k) observedDisagreement += o;
    }
  }
  const pairableValues = Math.round(n);
  if (n < 2) return { alpha: NaN, pairableValues };
  let expectedDisagreement = 0;
  for (const [c, nc] of marginals) for (const [k, nk] of marginals) if (c !== k) expectedDisagreement += nc * nk;
  if (expectedDisagreement === 0) return { alpha: NaN, pairableValues };
  return { alpha: 1 - ((n - 1) * observedDisagreement) / expectedDisagreement, pairableValues };
}

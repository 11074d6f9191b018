/**
 * How raters' labels co-occur on the same items: for every ordered pair of different raters on
 * an item, one count in cell [label of the first][label of the second]. The matrix is
 * symmetric; its diagonal is agreement, its off-diagonal cells the classes raters confuse.
 */
export function interRaterConfusion(items: ReadonlyArray<ReadonlyArray<{ rater: string; label: string }>>, classes: readonly string[]): number[][] {
  const index = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => new Array<number>(classes.length).fill(0));
  for (const answers of items) {
    for (const a of answers) {
      for (const b of answers) {
        if (a.rater === b.rater) continue;
        const i = index.get(a.label);
        const j = index.get(b.label);
        if (i !== undefined && j !== undefined) matrix[i][j]++;
      }
    }
  }
  return matrix;
}

/** A seeded generator, so every run routes the same predictions (the exploration draw hashes their ids). */
export function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
    hex[12] = '4';
    hex[16] = '8';
    return `${hex.slice(0, 8).join('')}-${hex.slice(8, 12).join('')}-${hex.slice(12, 16).join('')}-${hex.slice(16, 20).join('')}-${hex.slice(20).join('')}`;
  };
  return { next, uuid };
}

export const LABELS = ['ham', 'spam', 'promo'];
export const labelBody = (names: string[]) => names.map((name, i) => ({ name, hotkey: String(i + 1) }));

/**
 * A calibrated three-class model: the true label is drawn from the scores, so the model
 * is right with probability equal to its confidence. `sharpness` sets how sure it is.
 */
export function traffic(random: ReturnType<typeof seeded>, n: number, options: { version?: string; sharpness?: number } = {}) {
  return Array.from({ length: n }, (_, i) => {
    const weights = LABELS.map(() => random.next() ** (options.sharpness ?? 3));
    const total = weights.reduce((a, b) => a + b, 0);
    const scores = Object.fromEntries(LABELS.map((label, k) => [label, weights[k] / total]));
    let draw = random.next();
    const truth = LABELS.find((label) => (draw -= scores[label]) < 0) ?? LABELS[LABELS.length - 1];
    return {
      id: random.uuid(),
      model: { name: 'mail', version: options.version ?? '1' },
      input: { n: i, version: options.version ?? '1', seed: random.next() },
      scores,
      slice: { country: ['FR', 'DE', 'US', 'BR'][i % 4] },
      metadata: { truth },
    };
  });
}

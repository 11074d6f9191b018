import { randomUUID } from 'node:crypto';

export const LABELS = [
  { name: 'ham', hotkey: '1' },
  { name: 'spam', hotkey: '2' },
  { name: 'phish', hotkey: '3' },
];

/** A prediction whose input carries its true label (raters read it) and a feature or two to drift. */
export function prediction(i: number, options: { country: string; truth: string; predicted: string; confidence: number; x?: number; y?: string }) {
  const others = LABELS.map((l) => l.name).filter((l) => l !== options.predicted);
  const rest = (1 - options.confidence) / others.length;
  return {
    id: randomUUID(),
    model: { name: 'mail', version: '1' },
    input: { truth: options.truth, k: i % 4, x: options.x ?? (i * 37) % 100, y: options.y ?? ['a', 'b', 'c'][i % 3] },
    scores: Object.fromEntries([[options.predicted, options.confidence], ...others.map((o) => [o, rest])]),
    slice: { country: options.country },
  };
}

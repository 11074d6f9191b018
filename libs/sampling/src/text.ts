/**
 * Signals of doubt for generated text: how far a user's edit moved a response (edit distance), how
 * alike several samples of the same prompt are (self-consistency), and how unsure the model was
 * token by token (mean log-probability, entropy of the top alternatives).
 */

import { distance } from 'fastest-levenshtein';

/** The code points of a text (an emoji is one, as span offsets count them). */
const codePoints = (text: string) => Array.from(text);

/**
 * Levenshtein distance in code points (insertions, deletions, substitutions of one code point).
 * Myers' bit-parallel algorithm (`fastest-levenshtein`) counts UTF-16 code units, so each distinct
 * code point of the pair is first given a code unit of its own: an emoji is one edit, as span
 * offsets count it. Two 10,000-character texts take milliseconds, not the half second of the
 * quadratic table. `limit` caps the result: anything farther reads `limit + 1`.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  const units = new Map<string, string>();
  const recode = (text: string) => {
    const out: string[] = [];
    for (const point of text) {
      let unit = units.get(point);
      if (unit === undefined) {
        unit = String.fromCharCode(units.size);
        units.set(point, unit);
      }
      out.push(unit);
    }
    return out.join('');
  };
  const x = recode(a);
  const y = recode(b);
  // more distinct code points than code units (never in prose): the texts' own units, a surrogate pair two edits
  const exact = units.size <= 0x10000 ? distance(x, y) : distance(a, b);
  return Math.min(exact, limit + 1);
}

/** The edit distance over the longer text's length: 0 for equal texts, 1 for nothing in common (two empty texts: 0). */
export function normalizedEditDistance(a: string, b: string): number {
  const longest = Math.max(codePoints(a).length, codePoints(b).length);
  return longest === 0 ? 0 : editDistance(a, b) / longest;
}

/** A text's words: lower case, letters and digits of any script, each kept as often as it occurs. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * How alike two texts are: the Jaccard similarity of their word multisets (|A ∩ B| / |A ∪ B|,
 * counting repeats), from 0 (no word shared) to 1 (the same words as often). Two texts without
 * words are alike (1).
 */
export function textSimilarity(a: string, b: string): number {
  const count = (list: string[]) => {
    const counts = new Map<string, number>();
    for (const w of list) counts.set(w, (counts.get(w) ?? 0) + 1);
    return counts;
  };
  const x = count(words(a));
  const y = count(words(b));
  let intersection = 0;
  let union = 0;
  for (const [w, n] of x) {
    const m = y.get(w) ?? 0;
    intersection += Math.min(n, m);
    union += Math.max(n, m);
  }
  for (const [w, m] of y) if (!x.has(w)) union += m;
  return union === 0 ? 1 : intersection / union;
}

/**
 * Self-consistency of several samples of one prompt: the mean similarity over every pair of
 * samples, and the least similar pair's. Undefined with fewer than two samples.
 */
export function selfConsistency(samples: readonly string[]): { mean: number; min: number; pairs: number } | undefined {
  if (samples.length < 2) return undefined;
  let sum = 0;
  let min = 1;
  let pairs = 0;
  for (let i = 0; i < samples.length; i++)
    for (let j = i + 1; j < samples.length; j++) {
      const s = textSimilarity(samples[i], samples[j]);
      sum += s;
      min = Math.min(min, s);
      pairs++;
    }
  return { mean: sum / pairs, min, pairs };
}

/**
 * How unsure a generation was, from its tokens' log-probabilities (natural log): the mean
 * log-probability of the chosen tokens, the perplexity exp(−mean), and, when the top alternatives
 * of each token are given, the mean entropy (nats) of each token's distribution over its top
 * alternatives, renormalized. Undefined with no token.
 */
export function tokenUncertainty(
  tokens: ReadonlyArray<{ logprob: number; top?: readonly number[] }>,
): { meanLogprob: number; perplexity: number; meanEntropy: number | null } | undefined {
  if (tokens.length === 0) return undefined;
  let sum = 0;
  let entropySum = 0;
  let withTop = 0;
  for (const token of tokens) {
    sum += token.logprob;
    if (token.top && token.top.length > 0) {
      const probabilities = token.top.map((lp) => Math.exp(lp));
      const total = probabilities.reduce((a, b) => a + b, 0);
      let h = 0;
      for (const p of probabilities) if (p > 0) h -= (p / total) * Math.log(p / total);
      entropySum += h;
      withTop++;
    }
  }
  const meanLogprob = sum / tokens.length;
  return { meanLogprob, perplexity: Math.exp(-meanLogprob), meanEntropy: withTop ? entropySum / withTop : null };
}

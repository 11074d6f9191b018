export interface DiffPart {
  change: 'same' | 'added' | 'removed';
  text: string;
}

// past this many token pairs the table costs more than the picture is worth: the whole text is shown replaced
const MAX_CELLS = 2_000_000;

/** Words and the spaces between them, each a token, so a changed word does not drag its spaces along. */
const tokens = (text: string) => text.match(/\s+|[^\s]+/g) ?? [];

/**
 * What changed from `before` to `after`, word by word: the longest common subsequence of their
 * tokens kept as the same, the rest removed or added, neighbouring parts of one change merged.
 */
export function wordDiff(before: string, after: string): DiffPart[] {
  const a = tokens(before);
  const b = tokens(after);
  const parts: DiffPart[] = [];
  const push = (change: DiffPart['change'], text: string) => {
    const last = parts[parts.length - 1];
    if (last?.change === change) last.text += text;
    else parts.push({ change, text });
  };
  if ((a.length + 1) * (b.length + 1) > MAX_CELLS) {
    if (before) push('removed', before);
    if (after) push('added', after);
    return parts;
  }
  // common[i][j]: the longest common subsequence of a[i..] and b[j..]
  const width = b.length + 1;
  const common = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      common[i * width + j] = a[i] === b[j] ? common[(i + 1) * width + j + 1] + 1 : Math.max(common[(i + 1) * width + j], common[i * width + j + 1]);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push('same', a[i]);
      i++;
      j++;
    } else if (common[(i + 1) * width + j] >= common[i * width + j + 1]) push('removed', a[i++]);
    else push('added', b[j++]);
  }
  while (i < a.length) push('removed', a[i++]);
  while (j < b.length) push('added', b[j++]);
  return parts;
}

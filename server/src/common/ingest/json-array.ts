// Slices are decoded and parsed one at a time because V8 allocates every string over 128 KiB
// in its large-object space, which costs milliseconds per body on small VMs; below this size
// a body is parsed whole as usual.
export const SLICED_JSON_MIN_BYTES = 128 * 1024;
const SLICE_BYTES = 32 * 1024;
// a slice that does not parse is extended to the next candidate cut this many times before
// the whole body is left to the caller (a cut can land in a string or a nested array)
const MAX_EXTENSIONS = 8;

const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isJsonWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * The first comma at or after `from` that looks like it separates two objects (`}`, `,`, `{`
 * with optional whitespace), or `end` when there is none. It may sit inside a string or a
 * nested array: the caller finds out, because then a slice does not parse.
 */
function nextObjectBoundary(body: Buffer, from: number, end: number): number {
  for (let brace = body.indexOf(CLOSE_BRACE, from); brace !== -1 && brace < end; brace = body.indexOf(CLOSE_BRACE, brace + 1)) {
    let comma = brace + 1;
    while (isJsonWhitespace(body[comma])) comma++;
    if (body[comma] !== COMMA) continue;
    let next = comma + 1;
    while (isJsonWhitespace(body[next])) next++;
    if (body[next] === OPEN_BRACE && next < end) return comma;
  }
  return end;
}

/** Bytes `from`..`to` of the body between brackets, decoded once (no concatenated string to flatten). */
function sliceText(body: Buffer, from: number, to: number): string {
  const bracketed = Buffer.allocUnsafe(to - from + 2);
  bracketed[0] = OPEN_BRACKET;
  body.copy(bracketed, 1, from, to);
  bracketed[bracketed.length - 1] = CLOSE_BRACKET;
  return bracketed.toString('utf8');
}

function parseSlice(body: Buffer, from: number, to: number, parseText: (text: string) => unknown): unknown[] | undefined {
  try {
    const slice = parseText(sliceText(body, from, to));
    return Array.isArray(slice) ? slice : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The items of a JSON array of objects, parsed a slice of about 32 KiB at a time; undefined
 * when the body is not an array or a slice will not parse, and the caller parses the body
 * whole (so an invalid body fails exactly as it always did). Each slice starts after
 * the array's `[` or a cut comma and ends at the next cut comma or the closing `]`. A slice
 * parses as the items of an array only if its cut is a comma between items (a cut inside a
 * string or a nested value leaves it unterminated), so when every slice parses, the items
 * in order are those of the whole array. Cuts are at ASCII commas, so slicing never splits a
 * UTF-8 sequence.
 */
export function parseJsonArrayInSlices(body: Buffer, parseText: (text: string) => unknown): unknown[] | undefined {
  let start = 0;
  while (isJsonWhitespace(body[start])) start++;
  let end = body.length;
  while (end > start && isJsonWhitespace(body[end - 1])) end--;
  if (end - start < 2 || body[start] !== OPEN_BRACKET || body[end - 1] !== CLOSE_BRACKET) return undefined;
  const close = end - 1;
  const items: unknown[] = [];
  for (let from = start + 1; from < close;) {
    let cut = nextObjectBoundary(body, Math.min(from + SLICE_BYTES, close), close);
    let slice = parseSlice(body, from, cut, parseText);
    for (let extension = 0; slice === undefined && cut < close && extension < MAX_EXTENSIONS; extension++) {
      cut = nextObjectBoundary(body, cut + 1, close);
      slice = parseSlice(body, from, cut, parseText);
    }
    if (slice === undefined) return undefined;
    for (const item of slice) items.push(item);
    from = cut + 1;
  }
  return items;
}

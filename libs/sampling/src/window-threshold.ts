/**
 * The threshold a target rate routes by: the score above which `rate` of the recent scores lie,
 * exactly, over a sliding window of the last `capacity` scores of one model version. A new
 * version's first scores are few, and a quantile of a handful swings (on a skewed distribution a
 * streaming estimate started from nothing routed 8 to 76 tasks a round for a target of 25). So a
 * new version starts warm: the previous version's window (or the project's recent scores) counts
 * beside its own scores, weighing less as they come in, for as long as the version scores like
 * it. Once the version's own scores show it does not (the share of them at or above the warm
 * start's threshold is more than 3.5 standard errors from the rate, looked at after 30, 60,
 * 120… of them), the warm start is dropped
 * and the version's own quantile rules: the rate holds from the first prediction of a version that
 * scores like the last, and returns within a few hundred scores for one that does not.
 *
 * Ties: a score held by many (every one-hot prediction's entropy is 0) is routed all or none,
 * whichever lands nearer the rate. Plain data, so it is stored and resumed.
 */
export interface WindowThresholdState {
  kind: 'window';
  rate: number;
  capacity: number;
  /** the version's own scores, oldest first (at most `capacity`) */
  own: number[];
  /** the warm start's scores, highest first (emptied once it no longer counts) */
  warm: number[];
  /** the version's own scores showed it does not score like the warm start */
  unlike?: boolean;
}

export const WINDOW_CAPACITY = 10_000;
/** the warm start keeps at most this many scores */
export const WARM_SCORES = WINDOW_CAPACITY;
// own scores a version needs before its share above the warm threshold is judged
const MIN_JUDGED = 30;
// standard errors from the rate at which a version is judged unlike its warm start
const UNLIKE_Z = 3.5;

export function createWindowThreshold(rate: number, warm: readonly number[] = [], capacity = WINDOW_CAPACITY): WindowThresholdState {
  if (!(rate > 0 && rate < 1)) throw new RangeError('the rate must be in (0, 1)');
  const finite = warm.filter(Number.isFinite);
  // the most recent WARM_SCORES (the caller gives them oldest first), highest first
  const kept = finite.slice(Math.max(0, finite.length - Math.min(WARM_SCORES, capacity))).sort((a, b) => b - a);
  return { kind: 'window', rate, capacity, own: [], warm: kept };
}

/**
 * What a version hands the next one as its warm start: its own scores and, while its own were
 * fewer than a window, an even share of its warm start's (every k-th of them, highest first: the
 * same distribution), so a chain of short-lived versions keeps a full window between them.
 */
export function warmStartOf(state: WindowThresholdState): number[] {
  const room = Math.max(0, state.capacity - state.own.length);
  const warm = state.unlike ? [] : state.warm;
  const step = warm.length / Math.max(1, Math.min(room, warm.length));
  const kept: number[] = [];
  for (let x = step / 2; kept.length < Math.min(room, warm.length); x += step) kept.push(warm[Math.floor(x)]);
  // oldest first: the inherited scores, then the version's own
  return [...kept, ...state.own];
}

export function isWindowThreshold(state: unknown): state is WindowThresholdState {
  return typeof state === 'object' && state !== null && (state as { kind?: unknown }).kind === 'window' && Array.isArray((state as { own?: unknown }).own);
}

/**
 * A window in memory: the own scores in a ring and, recomputed every so often, the threshold.
 * `add` is O(1); the threshold is worked out again after `recomputeEvery` scores (every score
 * while the version has fewer than its prior weight), by sorting a copy of the window.
 */
export class WindowThreshold {
  private readonly ring: Float64Array;
  private start = 0;
  private size = 0;
  private warm: Float64Array;
  /** the warm start's own threshold (the rate of the warm scores alone) */
  private readonly warmThreshold: number | undefined;
  private unlike: boolean;
  private nextLook = MIN_JUDGED;
  private cached: number | undefined;
  private sinceRecompute = Infinity;
  private readonly recomputeEvery: number;
  /** the own scores copied out of the ring for a recompute, which reorders them */
  private readonly scratch: Float64Array;

  constructor(readonly state: Readonly<WindowThresholdState>) {
    this.ring = new Float64Array(state.capacity);
    this.scratch = new Float64Array(state.capacity);
    for (const x of state.own.slice(-state.capacity)) this.push(x);
    this.warm = Float64Array.from(state.warm);
    this.unlike = state.unlike === true;
    this.warmThreshold = quantileWalk(state.rate, [], 0, this.warm, 1);
    this.recomputeEvery = Math.max(16, Math.floor(state.capacity / 40));
  }

  private push(x: number): void {
    if (this.size < this.ring.length) this.ring[(this.start + this.size++) % this.ring.length] = x;
    else {
      this.ring[this.start] = x;
      this.start = (this.start + 1) % this.ring.length;
    }
  }

  /** Adds a score (a non-finite one is left out). */
  add(x: number): void {
    if (!Number.isFinite(x)) return;
    this.push(x);
    this.sinceRecompute++;
  }

  get count(): number {
    return this.size;
  }

  /** Route a score at or above this; undefined while there is nothing to place the rate in. */
  threshold(): number | undefined {
    // worked out again after a 32nd of the window's scores came in (every score for the first 32), at most every `recomputeEvery`
    const fresh = this.sinceRecompute >= Math.min(this.recomputeEvery, Math.max(1, Math.floor(this.size / 32)));
    if (fresh) {
      this.cached = this.compute();
      this.sinceRecompute = 0;
    }
    return this.cached;
  }

  private compute(): number | undefined {
    const { rate, capacity } = this.state;
    // the ring in arrival order, copied whole (its tail, then its head): a recompute comes every 250 scores
    const own = this.scratch.subarray(0, this.size);
    const head = Math.min(this.size, this.ring.length - this.start);
    own.set(this.ring.subarray(this.start, this.start + head));
    if (head < this.size) own.set(this.ring.subarray(0, this.size - head), head);
    // judged once past 30, 60, 120… own scores: a few looks, so that a version like the last is rarely judged unlike by chance
    if (this.warm.length > 0 && !this.unlike && own.length >= this.nextLook && this.warmThreshold !== undefined) {
      while (this.nextLook <= own.length) this.nextLook *= 2;
      // the share of the version's own scores the warm threshold would route, against the rate
      const above = countAtLeast(own, this.warmThreshold);
      const z = (above / own.length - rate) / Math.sqrt((rate * (1 - rate)) / own.length);
      if (Math.abs(z) > UNLIKE_Z) this.unlike = true;
    }
    // the warm start weighs what the version's own scores still lack of a full window
    const warmTotal = this.unlike ? 0 : Math.max(0, capacity - own.length);
    if (warmTotal === 0 && this.warm.length) this.warm = new Float64Array(0);
    const warmEach = warmTotal / Math.max(1, this.warm.length);
    // the walk from the top routes at most rate × (all the weight) of the own scores: only those (and their ties) need sorting
    const wanted = Math.ceil(rate * (own.length + warmEach * this.warm.length)) + 1;
    return quantileWalk(rate, highest(own, wanted), own.length, this.warm, warmEach);
  }

  /** The state to store: the own scores in arrival order, and the warm start while it counts. */
  snapshot(): WindowThresholdState {
    return {
      ...this.state,
      own: Array.from({ length: this.size }, (_, i) => this.ring[(this.start + i) % this.ring.length]),
      warm: Array.from(this.warm),
      ...(this.unlike && { unlike: true }),
    };
  }
}

/** Scores at or above x. */
function countAtLeast(values: ArrayLike<number>, x: number): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] >= x) n++;
  return n;
}

/**
 * Rearranges `values` so that `values[k]` is what a sort highest first would put there, those before it at least as high
 * and those after it at most as high (Hoare's selection, the pivot a median of three: O(n) on scores). Written here rather
 * than taken from a package: the routing library is also bundled for the browser, and the package had no types.
 */
function selectHighest(values: Float64Array, k: number): void {
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const a = values[left];
    const b = values[(left + right) >> 1];
    const c = values[right];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i++] = values[j];
        values[j--] = swap;
      }
    }
    // [left, j] is at least the pivot, [i, right] at most, and anything between them equals it
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * The `count` highest of `values` and every one equal to the lowest of them, highest first (by selection, then a sort of
 * those alone: O(n) rather than a sort of the whole window). Reorders `values`.
 */
export function highest(values: Float64Array, count: number): Float64Array {
  if (count >= values.length) return values.slice().sort().reverse();
  if (count <= 0) return new Float64Array(0);
  selectHighest(values, count - 1);
  const edge = values[count - 1];
  let ties = 0;
  for (let i = count; i < values.length; i++) if (values[i] === edge) ties++;
  const top = new Float64Array(count + ties);
  top.set(values.subarray(0, count));
  if (ties) for (let i = count, at = count; i < values.length; i++) if (values[i] === edge) top[at++] = edge;
  return top.sort().reverse();
}

/**
 * The score at or above which `rate` of the weight lies: the `ownCount` own scores weigh 1 each
 * (`own` holds the highest of them, enough to reach the rate, with their ties), the warm ones
 * `warmEach` each (both lists highest first). A tie is routed all or none, whichever is nearer.
 */
function quantileWalk(rate: number, own: ArrayLike<number>, ownCount: number, warm: ArrayLike<number>, warmEach: number): number | undefined {
  const warmCount = warmEach > 0 ? warm.length : 0;
  const total = ownCount + warmEach * warmCount;
  // too few scores to place one routed in
  if (total === 0 || total * rate < 1) return undefined;
  const wanted = rate * total;
  let i = 0;
  let j = 0;
  let routed = 0;
  for (;;) {
    const a = i < own.length ? own[i] : -Infinity;
    const b = j < warmCount ? warm[j] : -Infinity;
    if (a === -Infinity && b === -Infinity) return undefined;
    const value = a >= b ? a : b;
    // every score equal to `value`, on both sides
    let tied = 0;
    while (i < own.length && own[i] === value) {
      tied += 1;
      i++;
    }
    while (j < warmCount && warm[j] === value) {
      tied += warmEach;
      j++;
    }
    if (routed + tied >= wanted) return wanted - routed < routed + tied - wanted ? nextUp(value) : value;
    routed += tied;
  }
}

/** The smallest double above x: a threshold that routes scores strictly above x. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

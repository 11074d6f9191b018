/**
 * The P² algorithm (Jain & Chlamtac, "The P² algorithm for dynamic calculation of quantiles
 * and histograms without storing observations", CACM 28(10), 1985): a running estimate of
 * one quantile in constant memory, five markers adjusted by piecewise-parabolic prediction.
 * Its state is plain data, so it can be stored and resumed.
 */
export interface P2State {
  p: number;
  count: number;
  /** marker heights */
  q: number[];
  /** marker positions (1-based) */
  n: number[];
  /** desired marker positions */
  np: number[];
}

export function createP2(p: number): P2State {
  if (!(p > 0 && p < 1)) throw new RangeError('the quantile must be in (0, 1)');
  return { p, count: 0, q: [], n: [1, 2, 3, 4, 5], np: [1, 1 + 2 * p, 1 + 4 * p, 3 + 2 * p, 5] };
}

/** Adds one observation; returns the same state, updated. */
export function addP2(state: P2State, x: number): P2State {
  const { p, q, n, np } = state;
  state.count++;
  if (state.count <= 5) {
    q.push(x);
    q.sort((a, b) => a - b);
    return state;
  }
  let k: number;
  if (x < q[0]) {
    q[0] = x;
    k = 0;
  } else if (x >= q[4]) {
    q[4] = Math.max(q[4], x);
    k = 3;
  } else {
    k = 0;
    while (k < 3 && x >= q[k + 1]) k++;
  }
  for (let i = k + 1; i < 5; i++) n[i]++;
  const increments = [0, p / 2, p, (1 + p) / 2, 1];
  for (let i = 0; i < 5; i++) np[i] += increments[i];
  for (let i = 1; i <= 3; i++) {
    const d = np[i] - n[i];
    if ((d >= 1 && n[i + 1] - n[i] > 1) || (d <= -1 && n[i - 1] - n[i] < -1)) {
      const s = Math.sign(d);
      const parabolic =
        q[i] +
        (s / (n[i + 1] - n[i - 1])) *
          ((n[i] - n[i - 1] + s) * ((q[i + 1] - q[i]) / (n[i + 1] - n[i])) + (n[i + 1] - n[i] - s) * ((q[i] - q[i - 1]) / (n[i] - n[i - 1])));
      q[i] = q[i - 1] < parabolic && parabolic < q[i + 1] ? parabolic : q[i] + (s * (q[i + s] - q[i])) / (n[i + s] - n[i]);
      n[i] += s;
    }
  }
  return state;
}

/** The current estimate; with fewer than five observations, the exact quantile of those seen. */
export function valueP2(state: P2State): number | undefined {
  if (state.count === 0) return undefined;
  if (state.count <= 5) {
    const sorted = [...state.q].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(state.p * sorted.length) - 1))];
  }
  return state.q[2];
}

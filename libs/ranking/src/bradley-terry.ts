import { weightedProportion } from '@backflow/drift';
import { invertSymmetric } from './linear-algebra';

/** One judged pair: `a` against `b`, who won (a tie counts half a win to each), weighted (an inclusion weight; 1 by default). */
export interface Comparison {
  a: string;
  b: string;
  winner: 'a' | 'b' | 'tie';
  weight?: number;
}

/** A player's strength: its log-strength relative to the reference (0 for it), with a 95% interval, and its record. */
export interface Strength {
  player: string;
  /** θ − θ_reference: log-odds of beating the reference in a single comparison */
  logStrength: number;
  low: number;
  high: number;
  /** the standard error of `logStrength` (0 for the reference) */
  standardError: number;
  /** the chance of beating the reference, σ(θ − θ_reference), with the interval mapped through σ */
  winProbability: { value: number; low: number; high: number };
  comparisons: number;
  wins: number;
}

export interface BradleyTerryFit {
  reference: string;
  /** strongest first */
  strengths: Strength[];
  iterations: number;
  converged: boolean;
}

const Z95 = 1.959963984540054;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Bradley–Terry strengths from pairwise comparisons: P(i beats j) = π_i / (π_i + π_j), fitted by
 * maximum likelihood with Hunter's (2004) MM iteration, a tie counted as half a win to each side
 * (as the Chatbot Arena does), each comparison weighted. `prior` pseudo-comparisons (half won,
 * half lost) against every opponent a player met keep a player who won or lost everything finite
 * (0 gives the plain MLE, which then diverges). Intervals come from the observed Fisher
 * information with θ_reference fixed at 0 (Wald, 95%): they are intervals of the difference to
 * the reference, which is what "is the challenger better than the champion" asks.
 * `reference` defaults to the first player by name. Undefined with no comparison.
 */
export function bradleyTerry(
  comparisons: readonly Comparison[],
  options: { reference?: string; prior?: number; maxIterations?: number; tolerance?: number } = {},
): BradleyTerryFit | undefined {
  const prior = options.prior ?? 0.5;
  const names = [...new Set(comparisons.flatMap((c) => [c.a, c.b]))].sort();
  if (names.length === 0) return undefined;
  const reference = options.reference ?? names[0];
  if (!names.includes(reference)) throw new RangeError(`reference "${reference}" took part in no comparison`);
  const index = new Map(names.map((name, i) => [name, i]));
  const n = names.length;
  // per ordered pair: games (weighted) and wins of the first
  const games = Array.from({ length: n }, () => new Float64Array(n));
  const wins = new Float64Array(n);
  const played = new Float64Array(n);
  const won = new Float64Array(n);
  for (const c of comparisons) {
    if (c.a === c.b) throw new RangeError(`a comparison of "${c.a}" with itself`);
    const w = c.weight ?? 1;
    if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`a comparison's weight must be positive and finite, got ${w}`);
    const i = index.get(c.a)!;
    const j = index.get(c.b)!;
    games[i][j] += w;
    games[j][i] += w;
    const scoreA = c.winner === 'a' ? 1 : c.winner === 'tie' ? 0.5 : 0;
    wins[i] += w * scoreA;
    wins[j] += w * (1 - scoreA);
    played[i]++;
    played[j]++;
    won[i] += scoreA;
    won[j] += 1 - scoreA;
  }
  // the prior: `prior` games against each opponent met, half of them won
  if (prior > 0)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j && games[i][j] > 0) {
          games[i][j] += prior;
          wins[i] += prior / 2;
        }

  let pi = new Float64Array(n).fill(1);
  const maxIterations = options.maxIterations ?? 10_000;
  const tolerance = options.tolerance ?? 1e-10;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let denominator = 0;
      for (let j = 0; j < n; j++) if (games[i][j] > 0) denominator += games[i][j] / (pi[i] + pi[j]);
      next[i] = denominator > 0 ? wins[i] / denominator : pi[i];
    }
    // scale: the reference's strength is 1
    const scale = next[index.get(reference)!];
    let change = 0;
    for (let i = 0; i < n; i++) {
      next[i] /= scale;
      change = Math.max(change, Math.abs(Math.log(next[i]) - Math.log(pi[i])));
    }
    pi = next;
    if (change < tolerance) {
      converged = true;
      break;
    }
  }
  const theta = Array.from(pi, (p) => Math.log(p));

  // observed information without the reference's row and column
  const r = index.get(reference)!;
  const free = names.map((_, i) => i).filter((i) => i !== r);
  const information = free.map((i) =>
    free.map((j) => {
      if (i === j) {
        let sum = 0;
        for (let k = 0; k < n; k++) if (k !== i && games[i][k] > 0) sum += games[i][k] * sigmoid(theta[i] - theta[k]) * sigmoid(theta[k] - theta[i]);
        return sum;
      }
      return games[i][j] > 0 ? -games[i][j] * sigmoid(theta[i] - theta[j]) * sigmoid(theta[j] - theta[i]) : 0;
    }),
  );
  const covariance = free.length ? invertSymmetric(information) : [];
  const standardErrors = new Float64Array(n);
  free.forEach((i, row) => (standardErrors[i] = covariance ? Math.sqrt(Math.max(0, covariance[row][row])) : Infinity));

  const strengths: Strength[] = names.map((player, i) => {
    const logStrength = theta[i] - theta[r];
    const se = standardErrors[i];
    const low = logStrength - Z95 * se;
    const high = logStrength + Z95 * se;
    return {
      player,
      logStrength,
      low,
      high,
      standardError: se,
      winProbability: { value: sigmoid(logStrength), low: sigmoid(low), high: sigmoid(high) },
      comparisons: played[i],
      wins: won[i],
    };
  });
  strengths.sort((x, y) => y.logStrength - x.logStrength || (x.player < y.player ? -1 : 1));
  return { reference, strengths, iterations, converged };
}

/**
 * How often `challenger` beat `champion` in their direct comparisons (a tie half a win), weighted,
 * with its 95% Wilson interval on the effective number of comparisons (Kish): drift's
 * `weightedProportion` over the comparisons. Undefined when they never met.
 */
export function headToHead(
  comparisons: readonly Comparison[],
  challenger: string,
  champion: string,
): { comparisons: number; winRate: number; low: number; high: number } | undefined {
  const units = comparisons.flatMap((c) => {
    const forward = c.a === challenger && c.b === champion;
    if (!forward && !(c.a === champion && c.b === challenger)) return [];
    return [{ weight: c.weight ?? 1, outcome: c.winner === 'tie' ? 0.5 : (c.winner === 'a') === forward ? 1 : 0 }];
  });
  const rate = weightedProportion(units);
  return rate && { comparisons: units.length, winRate: rate.value, low: rate.low, high: rate.high };
}

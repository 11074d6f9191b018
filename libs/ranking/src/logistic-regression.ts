import { choleskyFactor, choleskySolve } from './linear-algebra';

// read once: a global looked up per observation costs thirtyfold inside Jest's vm sandbox, and regression EM calls these per pair per step
const { exp, log1p } = Math;

/** A group of trials sharing one feature vector; `successes` may be fractional (an expected count, as EM produces). */
export interface BinomialObservation {
  features: readonly number[];
  trials: number;
  successes: number;
}

export interface LogisticFit {
  /** the intercept first, then one coefficient per feature */
  coefficients: number[];
  iterations: number;
  converged: boolean;
}

export interface LogisticOptions {
  /** L2 penalty on the feature coefficients (not the intercept), so separable data still has a finite fit */
  ridge?: number;
  /** coefficients to start Newton's method from (a warm start) */
  start?: readonly number[];
  maxIterations?: number;
  /** stop when no coefficient moves by more than this */
  tolerance?: number;
}

/** σ(β₀ + β·x): the fitted probability for one feature vector. */
export function logisticPrediction(coefficients: readonly number[], features: readonly number[]): number {
  let eta = coefficients[0];
  for (let j = 0; j < features.length; j++) eta += coefficients[j + 1] * features[j];
  return sigmoid(eta);
}

/**
 * Binomial logistic regression with a ridge penalty, by Newton–Raphson (iteratively reweighted
 * least squares; McCullagh & Nelder, "Generalized Linear Models", 2nd ed., §4.4) with step
 * halving so the penalized log-likelihood never falls. Soft success counts are fitted as
 * cross-entropy targets. Undefined when there is no trial.
 */
export function fitLogisticRegression(observations: readonly BinomialObservation[], options: LogisticOptions = {}): LogisticFit | undefined {
  const ridge = options.ridge ?? 1e-4;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  const used = observations.filter((o) => o.trials > 0);
  if (used.length === 0) return undefined;
  const size = used[0].features.length + 1;
  for (const o of used) {
    if (o.features.length !== size - 1) throw new RangeError('every observation needs the same number of features');
    if (!(o.successes >= 0 && o.successes <= o.trials)) throw new RangeError('successes must be in [0, trials]');
  }
  let beta = options.start && options.start.length === size ? [...options.start] : new Array<number>(size).fill(0);
  let objective = penalizedLogLikelihood(used, beta, ridge);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const gradient = new Array<number>(size).fill(0);
    const hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (const o of used) {
      const p = logisticPrediction(beta, o.features);
      const residual = o.successes - o.trials * p;
      const curvature = o.trials * p * (1 - p);
      for (let a = 0; a < size; a++) {
        const xa = a === 0 ? 1 : o.features[a - 1];
        gradient[a] += residual * xa;
        for (let b = 0; b <= a; b++) hessian[a][b] += curvature * xa * (b === 0 ? 1 : o.features[b - 1]);
      }
    }
    for (let a = 1; a < size; a++) {
      gradient[a] -= ridge * beta[a];
      hessian[a][a] += ridge;
    }
    // a flat direction (every p at 0 or 1) still needs a positive-definite system
    for (let a = 0; a < size; a++) hessian[a][a] += 1e-10;
    const factor = choleskyFactor(hessian);
    if (!factor) return { coefficients: beta, iterations: iteration, converged: false };
    const step = choleskySolve(factor, gradient);
    let scale = 1;
    let next = beta.map((b, j) => b + step[j]);
    let nextObjective = penalizedLogLikelihood(used, next, ridge);
    while (nextObjective < objective - 1e-12 && scale > 1e-6) {
      scale /= 2;
      next = beta.map((b, j) => b + scale * step[j]);
      nextObjective = penalizedLogLikelihood(used, next, ridge);
    }
    const moved = Math.max(...next.map((b, j) => Math.abs(b - beta[j])));
    beta = next;
    objective = nextObjective;
    if (moved < tolerance) return { coefficients: beta, iterations: iteration, converged: true };
  }
  return { coefficients: beta, iterations: maxIterations, converged: false };
}

function sigmoid(eta: number): number {
  return eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta));
}

/** log(1 + e^x) without overflow */
function softplus(x: number): number {
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

function penalizedLogLikelihood(observations: readonly BinomialObservation[], beta: readonly number[], ridge: number): number {
  let total = 0;
  for (const o of observations) {
    let eta = beta[0];
    for (let j = 0; j < o.features.length; j++) eta += beta[j + 1] * o.features[j];
    // y·log σ(η) + (n − y)·log(1 − σ(η)) = y·η − n·log(1 + e^η)
    total += o.successes * eta - o.trials * softplus(eta);
  }
  for (let j = 1; j < beta.length; j++) total -= (ridge / 2) * beta[j] * beta[j];
  return total;
}

// The house project's model: ordinary least squares on the log of the price (as Harrison and Rubinfeld priced it),
// solved by the normal equations on ml-matrix, with the 95% predictive interval each price comes with. The interval
// is wide for a tract unlike those the model was fitted on, so routing by its width asks raters about those.
import { inverse, Matrix } from 'ml-matrix';

/** The regression's terms, each a function of a tract's features (a few of Harrison and Rubinfeld's). */
export const TERMS = [
  ['rm²', (h) => h.rm ** 2],
  ['log lstat', (h) => Math.log(h.lstat)],
  ['ptratio', (h) => h.ptratio],
  ['log dis', (h) => Math.log(h.dis)],
  ['nox²', (h) => h.nox ** 2],
  ['crim', (h) => h.crim],
  ['chas', (h) => h.chas],
];

const Z975 = 1.959963984540054;

/** The 97.5% quantile of Student's t with `df` degrees of freedom (Cornish-Fisher, Abramowitz and Stegun 26.7.5). */
export function studentT975(df) {
  const z = Z975;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  const g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92_160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

const round1 = (x) => Math.round(x * 10) / 10;

/**
 * Fits a price model on priced tracts (`{...features, price}`, price in $1000s). Returns
 * `{version, examples, predict(house) → {value, interval: [low, high]}}`: the price (the median of the fitted
 * log-normal) and its 95% predictive interval, both in $1000s to the nearest $100, as a numeric suggestion takes them.
 */
export function trainPriceModel(houses, version = 'v1') {
  const n = houses.length;
  // a term that is the same for every tract fitted on (no river tract among them, say) cannot be estimated: left out
  const terms = TERMS.filter(([, term]) => new Set(houses.map(term)).size > 1).map(([, term]) => term);
  const row = (house) => [1, ...terms.map((term) => term(house))];
  const p = terms.length + 1;
  if (n <= p + 1) throw new Error(`a price model of ${p} coefficients needs more than ${p + 1} tracts, got ${n}`);
  const x = new Matrix(houses.map(row));
  const y = Matrix.columnVector(houses.map((h) => Math.log(h.price)));
  const xt = x.transpose();
  const xtxInverse = inverse(xt.mmul(x));
  const beta = xtxInverse.mmul(xt.mmul(y));
  const residuals = Matrix.sub(y, x.mmul(beta)).to1DArray();
  const sigma = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / (n - p));
  const t = studentT975(n - p);
  const coefficients = beta.to1DArray();
  return {
    version,
    examples: n,
    sigma,
    predict(house) {
      const features = row(house);
      const fitted = features.reduce((s, f, i) => s + f * coefficients[i], 0);
      const v = Matrix.rowVector(features);
      const leverage = v.mmul(xtxInverse).mmul(v.transpose()).get(0, 0);
      const half = t * sigma * Math.sqrt(1 + leverage);
      return { value: round1(Math.exp(fitted)), interval: [round1(Math.exp(fitted - half)), round1(Math.exp(fitted + half))] };
    },
  };
}

/** A price model on held-out tracts: mean absolute error ($1000s), overall and per slice, and how often the interval held the price. */
export function evaluatePrices(model, houses, sliceOf) {
  let absolute = 0;
  let covered = 0;
  let width = 0;
  const slices = new Map();
  for (const house of houses) {
    const { value, interval } = model.predict(house);
    const error = Math.abs(value - house.price);
    absolute += error;
    covered += house.price >= interval[0] && house.price <= interval[1] ? 1 : 0;
    width += interval[1] - interval[0];
    if (sliceOf) {
      const slice = slices.get(sliceOf(house)) ?? { absolute: 0, n: 0 };
      slice.absolute += error;
      slice.n += 1;
      slices.set(sliceOf(house), slice);
    }
  }
  const n = houses.length;
  return {
    mae: absolute / n,
    coverage: covered / n,
    meanWidth: width / n,
    n,
    slices: Object.fromEntries([...slices].map(([k, s]) => [k, s.absolute / s.n])),
  };
}

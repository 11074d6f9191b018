import { fitLogisticRegression, logisticPrediction } from './logistic-regression';
import { mulberry32 } from './random';

describe('logistic regression', () => {
  it('recovers the coefficients of simulated binomial data', () => {
    const random = mulberry32(71);
    const truth = [-0.5, 1.5, -2];
    const observations = Array.from({ length: 3_000 }, () => {
      const features = [random() * 2 - 1, random() * 2 - 1];
      return { features, trials: 1, successes: random() < logisticPrediction(truth, features) ? 1 : 0 };
    });
    const fit = fitLogisticRegression(observations, { ridge: 0 })!;
    expect(fit.converged).toBe(true);
    fit.coefficients.forEach((value, j) => expect(Math.abs(value - truth[j])).toBeLessThan(0.2));
  });

  it('fits soft success counts (as EM produces) exactly when the model holds', () => {
    const truth = [0.3, -1];
    const observations = [-2, -1, 0, 1, 2].map((x) => ({ features: [x], trials: 10, successes: 10 * logisticPrediction(truth, [x]) }));
    const fit = fitLogisticRegression(observations, { ridge: 0, tolerance: 1e-12 })!;
    fit.coefficients.forEach((value, j) => expect(value).toBeCloseTo(truth[j], 8));
  });

  it('stays finite on separable data thanks to the ridge, and has nothing to fit without trials', () => {
    const separable = [-1, -0.5, 0.5, 1].map((x) => ({ features: [x], trials: 5, successes: x > 0 ? 5 : 0 }));
    const fit = fitLogisticRegression(separable, { ridge: 0.1 })!;
    expect(Number.isFinite(fit.coefficients[1])).toBe(true);
    expect(fit.coefficients[1]).toBeGreaterThan(1);
    expect(fitLogisticRegression([])).toBeUndefined();
    expect(fitLogisticRegression([{ features: [1], trials: 0, successes: 0 }])).toBeUndefined();
    expect(() => fitLogisticRegression([{ features: [1], trials: 1, successes: 2 }])).toThrow(RangeError);
    expect(() =>
      fitLogisticRegression([
        { features: [1], trials: 1, successes: 1 },
        { features: [1, 2], trials: 1, successes: 0 },
      ]),
    ).toThrow(RangeError);
  });
});

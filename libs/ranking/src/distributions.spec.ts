import { clipProbability, logGamma, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from './distributions';

describe('distributions', () => {
  it.each([
    [0.5, 0.5723649429],
    [1, 0],
    [5, Math.log(24)],
    [10, 12.8018274801],
    [100.5, 361.4355404678],
  ])('ln Γ(%f) = %f', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 9);
  });

  it.each([
    // I_0.5(2, 3) = 11/16; I_x(1, 1) = x; I_x(½, ½) = (2/π)·asin √x
    [0.5, 2, 3, 0.6875],
    [0.3, 1, 1, 0.3],
    [0.2, 0.5, 0.5, 0.2951672353],
    [0, 2, 2, 0],
    [1, 2, 2, 1],
  ])('I_%f(%f, %f) = %f', (x, a, b, expected) => {
    expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(expected, 9);
  });

  it.each([
    // Student's t quantiles as printed in any table
    [0.975, 1, 12.7062047362],
    [0.975, 2, 4.3026527297],
    [0.975, 10, 2.228138852],
    [0.95, 30, 1.6972608866],
    [0.995, 5, 4.0321429836],
    [0.025, 10, -2.228138852],
  ])('the %f quantile of t with %i degrees of freedom is %f, and the CDF returns p', (p, df, quantile) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(quantile, 7);
    expect(studentTCdf(quantile, df)).toBeCloseTo(p, 9);
  });

  it('tends to the normal with infinite degrees of freedom, and refuses what has no meaning', () => {
    expect(studentTQuantile(0.975, Infinity)).toBeCloseTo(1.959964, 6);
    expect(studentTCdf(0, 3)).toBe(0.5);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTCdf(1, 0)).toThrow(RangeError);
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(1.5, 1, 1)).toThrow(RangeError);
  });

  it('keeps probabilities off 0 and 1', () => {
    expect(clipProbability(0)).toBe(1e-9);
    expect(clipProbability(1)).toBe(1 - 1e-9);
    expect(clipProbability(0.3)).toBe(0.3);
    expect(clipProbability(-2, 0.01)).toBe(0.01);
  });
});

import { bernoulliCusum, pageHinkley } from './change';
import { simulateRateSeries } from './click-model';
import { mulberry32 } from './random';

function simulatedSeries(rate: (t: number) => number, buckets: number, impressions: number, seed: number) {
  return simulateRateSeries(rate, buckets, impressions, mulberry32(seed));
}

describe('Bernoulli CUSUM for a drop', () => {
  it('adds the log-likelihood ratio per bucket, floors at zero, and alarms past h (by hand)', () => {
    // p0 = 0.1, p1 = 0.05: a bucket adds x·ln 0.5 + (100 − x)·ln(0.95/0.9)
    const series = [5, 10, 2, 3, 1].map((clicks, time) => ({ time, impressions: 100, clicks }));
    const detection = bernoulliCusum(series, { baselineRate: 0.1, drop: 0.5, decisionInterval: 7 })!;
    const expected = [1.67065, 0, 3.912293, 7.077372, 11.73688];
    detection.path.forEach((point, i) => expect(point.statistic).toBeCloseTo(expected[i], 5));
    expect(detection.alarmed).toBe(true);
    expect(detection.alarmAt).toBe(3);
    // the run that alarmed began after the zero at time 1
    expect(detection.changeAt).toBe(2);
    expect(detection.baselineRate).toBe(0.1);
  });

  it('alarms within two buckets of a step from 10% to 6% at bucket 60 of 100, and places the change there', () => {
    const series = simulatedSeries((t) => (t < 60 ? 0.1 : 0.06), 100, 2000, 51);
    const detection = bernoulliCusum(series)!;
    const windowRate = series.slice(0, 25).reduce((sum, bucket) => sum + bucket.clicks, 0) / 50_000;
    expect(detection.alarmed).toBe(true);
    expect(detection.alarmAt).toBeGreaterThanOrEqual(60);
    expect(detection.alarmAt).toBeLessThanOrEqual(61);
    expect(Math.abs(detection.changeAt! - 60)).toBeLessThanOrEqual(2);
    // monitoring starts after the baseline window, a quarter of the series; the baseline is the window's lower 95% bound
    expect(detection.path[0].time).toBe(25);
    expect(detection.path).toHaveLength(75);
    // 1.645 standard errors of 50,000 impressions at 10% is 0.0022
    expect(detection.baselineRate).toBeLessThan(windowRate);
    expect(detection.baselineRate).toBeGreaterThan(windowRate - 0.0025);
  });

  it('raises no alarm over 100 stable buckets', () => {
    const detection = bernoulliCusum(simulatedSeries(() => 0.1, 100, 2000, 52))!;
    expect(detection.alarmed).toBe(false);
    expect(detection.alarmAt).toBeUndefined();
    expect(Math.max(...detection.path.map((point) => point.statistic))).toBeLessThan(7);
  });

  it('skips buckets without impressions, keeping the statistic', () => {
    const detection = bernoulliCusum(
      [
        { time: 0, impressions: 100, clicks: 2 },
        { time: 1, impressions: 0, clicks: 0 },
      ],
      { baselineRate: 0.1, drop: 0.5 },
    )!;
    expect(detection.path[1].statistic).toBe(detection.path[0].statistic);
    expect(detection.path[0].statistic).toBeGreaterThan(0);
  });

  it.each([
    ['an empty series', []],
    ['a baseline window without a click', [{ time: 0, impressions: 50, clicks: 0 }]],
    ['a baseline window without an impression', [{ time: 0, impressions: 0, clicks: 0 }]],
  ])('has nothing to say for %s', (_name, series) => {
    expect(bernoulliCusum(series)).toBeUndefined();
    expect(pageHinkley(series)).toBeUndefined();
  });

  it('refuses buckets out of order, clicks beyond impressions, and parameters out of range', () => {
    const ok = [{ time: 0, impressions: 10, clicks: 1 }];
    expect(() =>
      bernoulliCusum([
        { time: 1, impressions: 10, clicks: 1 },
        { time: 0, impressions: 10, clicks: 1 },
      ]),
    ).toThrow(RangeError);
    expect(() => bernoulliCusum([{ time: 0, impressions: 10, clicks: 11 }])).toThrow(RangeError);
    expect(() => bernoulliCusum(ok, { drop: 1 })).toThrow(RangeError);
    expect(() => bernoulliCusum(ok, { decisionInterval: 0 })).toThrow(RangeError);
    expect(() => bernoulliCusum(ok, { baselineRate: 0 })).toThrow(RangeError);
    expect(() => bernoulliCusum(ok, { baselineConfidence: 1 })).toThrow(RangeError);
    expect(() => pageHinkley(ok, { threshold: 0 })).toThrow(RangeError);
  });
});

describe('Page-Hinkley for a drop', () => {
  it('alarms shortly after a step from 10% to 6% at bucket 60, near the change', () => {
    const detection = pageHinkley(simulatedSeries((t) => (t < 60 ? 0.1 : 0.06), 100, 2000, 51))!;
    expect(detection.alarmed).toBe(true);
    expect(detection.alarmAt).toBeGreaterThanOrEqual(60);
    expect(detection.alarmAt).toBeLessThanOrEqual(62);
    expect(Math.abs(detection.changeAt! - 60)).toBeLessThanOrEqual(3);
  });

  it('raises no alarm over 100 stable buckets', () => {
    expect(pageHinkley(simulatedSeries(() => 0.1, 100, 2000, 52))!.alarmed).toBe(false);
  });

  it('measures z-scores against a given baseline rate (a standardized CUSUM), by hand', () => {
    // p0 = 0.1, n = 100: sd 3 clicks. Clicks 10, 4, 1: u = 0, −2, −3; m = 0.5, −1, −3.5 with δ = 0.5; PH = 0, 1.5, 4
    const series = [10, 4, 1].map((clicks, time) => ({ time, impressions: 100, clicks }));
    const detection = pageHinkley(series, { baselineRate: 0.1, threshold: 3.9 })!;
    expect(detection.path.map((point) => point.statistic)).toEqual([0, 1.5, 4].map((x) => expect.closeTo(x, 10)));
    expect(detection.alarmAt).toBe(2);
    expect(detection.changeAt).toBe(1);
  });
});

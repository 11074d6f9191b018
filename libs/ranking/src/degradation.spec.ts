import { simulateRateSeries } from './click-model';
import { bestStep, classifyDegradation } from './degradation';
import { mulberry32 } from './random';
import { rateTrend } from './trend';

function simulatedSeries(rate: (t: number) => number, buckets: number, impressions: number, seed: number) {
  return simulateRateSeries(rate, buckets, impressions, mulberry32(seed));
}

describe('trend of a rate', () => {
  it('finds the slope of an exact line, per week, with buckets weighted by impressions', () => {
    // rate 0.1 − 0.001·t over daily buckets: 0.007 per week
    const series = Array.from({ length: 30 }, (_, time) => ({ time, impressions: 10_000, clicks: Math.round(10_000 * (0.1 - 0.001 * time)) }));
    const trend = rateTrend(series)!;
    expect(trend.slopePerWeek).toBeCloseTo(-0.007, 9);
    expect(trend.startRate).toBeCloseTo(0.1, 9);
    expect(trend.endRate).toBeCloseTo(0.071, 9);
    expect(trend.relativeChange).toBeCloseTo(-0.29, 9);
    expect(trend.verdict).toBe('falling');
    expect(trend.low).toBeLessThan(-0.007);
    expect(trend.high).toBeGreaterThan(-0.007);
    expect(trend.buckets).toBe(30);
  });

  it('reads weeks from the time unit it is told', () => {
    const series = Array.from({ length: 10 }, (_, i) => ({ time: i * 86_400_000, impressions: 10_000, clicks: 1_000 + 10 * i }));
    expect(rateTrend(series, { timeUnitsPerWeek: 7 * 86_400_000 })!.slopePerWeek).toBeCloseTo(0.007, 9);
  });

  it('calls a significant but small change flat, and a slide of 10% to 6% over twelve weeks falling', () => {
    const small = Array.from({ length: 84 }, (_, time) => ({ time, impressions: 1_000_000, clicks: Math.round(1_000_000 * (0.1 - (0.005 * time) / 83)) }));
    const smallTrend = rateTrend(small)!;
    expect(smallTrend.pValue).toBeLessThan(0.05);
    expect(smallTrend.verdict).toBe('flat');
    const slide = rateTrend(simulatedSeries((t) => 0.1 - (0.04 * t) / 83, 84, 2000, 61))!;
    expect(slide.verdict).toBe('falling');
    expect(slide.pValue).toBeLessThan(1e-6);
    // the true slope is −0.04 / 83 per day, −0.00337 per week
    expect(slide.low).toBeLessThan(-0.00337);
    expect(slide.high).toBeGreaterThan(-0.00337);
  });

  it('has nothing to say with fewer than three buckets with impressions, or no click', () => {
    expect(rateTrend([])).toBeUndefined();
    expect(
      rateTrend([
        { time: 0, impressions: 10, clicks: 1 },
        { time: 1, impressions: 0, clicks: 0 },
        { time: 2, impressions: 10, clicks: 2 },
      ]),
    ).toBeUndefined();
    expect(rateTrend([0, 1, 2].map((time) => ({ time, impressions: 10, clicks: 0 })))).toBeUndefined();
  });
});

describe('the maximum-likelihood step', () => {
  it('splits where the rate changes', () => {
    const series = [10, 10, 10, 5, 5].map((clicks, time) => ({ time, impressions: 100, clicks }));
    expect(bestStep(series)).toMatchObject({ changeAt: 3, before: 0.1, after: 0.05 });
    expect(bestStep(series.slice(0, 1))).toBeUndefined();
  });
});

describe('classifying a degradation', () => {
  it('calls a step from 10% to 6% at bucket 60 of 100 sudden, alarmed shortly after 60 with the change placed near 60', () => {
    const result = classifyDegradation(simulatedSeries((t) => (t < 60 ? 0.1 : 0.06), 100, 2000, 51));
    expect(result.kind).toBe('sudden');
    expect(result.cusum!.alarmAt).toBeGreaterThanOrEqual(60);
    expect(result.cusum!.alarmAt).toBeLessThanOrEqual(61);
    expect(Math.abs(result.cusum!.changeAt! - 60)).toBeLessThanOrEqual(2);
    expect(result.step!.changeAt).toBe(60);
    // the trend test sees the fall too; the step explains it better than a line
    expect(result.trend!.verdict).toBe('falling');
    expect(result.step!.logLikelihood).toBeGreaterThan(result.lineLogLikelihood!);
  });

  it('calls a linear slide from 10% to 6% over twelve weeks slow, though the CUSUM alarms along the way', () => {
    const result = classifyDegradation(simulatedSeries((t) => 0.1 - (0.04 * t) / 83, 84, 2000, 61));
    expect(result.kind).toBe('slow');
    expect(result.trend!.verdict).toBe('falling');
    expect(result.trend!.slopePerWeek).toBeLessThan(0);
    expect(result.cusum!.alarmed).toBe(true);
    expect(result.lineLogLikelihood!).toBeGreaterThan(result.step!.logLikelihood - Math.log(83));
  });

  it('calls a slide after four stable weeks slow', () => {
    const result = classifyDegradation(simulatedSeries((t) => (t < 28 ? 0.1 : 0.1 - (0.04 * (t - 28)) / 83), 112, 2000, 62));
    expect(result.kind).toBe('slow');
  });

  it('calls a stable series with binomial noise none, without a single alarm', () => {
    const result = classifyDegradation(simulatedSeries(() => 0.1, 100, 2000, 52));
    expect(result.kind).toBe('none');
    expect(result.cusum!.alarmed).toBe(false);
    expect(result.trend!.verdict).toBe('flat');
  });

  it('says none for an empty series', () => {
    expect(classifyDegradation([])).toEqual({ kind: 'none', cusum: undefined, trend: undefined, step: undefined, lineLogLikelihood: undefined });
  });
});

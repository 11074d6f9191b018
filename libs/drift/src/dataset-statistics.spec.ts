import { DatasetStatisticsBuilder } from './dataset-statistics';
import { KllSketch } from './kll';

/** A seeded generator (mulberry32): the same numbers on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('DatasetStatisticsBuilder', () => {
  it('computes the numeric statistics TFDV writes, exactly while the values are few', () => {
    const builder = new DatasetStatisticsBuilder([{ name: 'minutes', type: 'FLOAT' }]);
    const values = [0, 1, 2, 2, 3, 5, 8, 13, 21, 34];
    for (const v of values) builder.add([[v]]);
    builder.add([undefined]);
    const [f] = builder.result('train').features;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(f.num_stats).toMatchObject({ num_zeros: 1, min: 0, max: 34, median: 3 });
    expect(f.num_stats!.mean).toBeCloseTo(mean, 12);
    expect(f.num_stats!.std_dev).toBeCloseTo(std, 12);
    expect(f.num_stats!.common_stats).toMatchObject({
      num_non_missing: 10,
      num_missing: 1,
      min_num_values: 1,
      max_num_values: 1,
      avg_num_values: 1,
      tot_num_values: 10,
    });
    const [standard, quantiles] = f.num_stats!.histograms;
    // ten buckets of 3.4 from 0 to 34; a value belongs to the bucket whose high bound it reaches first
    expect(standard.type).toBe('STANDARD');
    expect(standard.buckets.map((b) => b.sample_count)).toEqual([5, 1, 1, 1, 0, 0, 1, 0, 0, 1]);
    expect(standard.buckets[0]).toMatchObject({ low_value: 0, high_value: 3.4 });
    expect(standard.buckets[9].high_value).toBe(34);
    const counted = standard.buckets.map((b, i) => values.filter((v) => (i === 0 ? v >= b.low_value : v > b.low_value) && v <= b.high_value).length);
    expect(standard.buckets.map((b) => b.sample_count)).toEqual(counted);
    expect(quantiles.type).toBe('QUANTILES');
    expect(quantiles.buckets.map((b) => b.low_value)).toEqual([0, 0, 1, 2, 2, 3, 5, 8, 13, 21]);
    expect(quantiles.buckets.every((b) => b.sample_count === 1)).toBe(true);
  });

  it('tells a missing feature from a present empty list, and counts list lengths', () => {
    const builder = new DatasetStatisticsBuilder([{ name: 'tokens', type: 'STRING' }]);
    builder.add([['a', 'b', 'a']]);
    builder.add([[]]);
    builder.add([undefined]);
    builder.add([['é']]);
    const [f] = builder.result().features;
    expect(f.string_stats!.common_stats).toMatchObject({ num_non_missing: 3, num_missing: 1, min_num_values: 0, max_num_values: 3, tot_num_values: 4 });
    expect(f.string_stats!.common_stats.avg_num_values).toBeCloseTo(4 / 3, 12);
    expect(f.string_stats!.unique).toBe(3);
    expect(f.string_stats!.top_values).toEqual([
      { value: 'a', frequency: 2 },
      { value: 'é', frequency: 1 },
      { value: 'b', frequency: 1 },
    ]);
    // bytes of UTF-8: 'é' is two
    expect(f.string_stats!.avg_length).toBe(5 / 4);
    expect(f.string_stats!.rank_histogram.buckets[2]).toEqual({ low_rank: 2, high_rank: 2, label: 'b', sample_count: 1 });
  });

  it('keeps memory bounded past the exact limit: quantiles within the sketch bound, early values counted on, distinct values estimated', () => {
    const next = random(7);
    const builder = new DatasetStatisticsBuilder(
      [
        { name: 'x', type: 'FLOAT' },
        { name: 'user', type: 'STRING' },
      ],
      { exactValues: 1000 },
    );
    const xs: number[] = [];
    let heavy = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = next() * 1000;
      xs.push(x);
      const user = next() < 0.3 ? 'heavy' : `user-${Math.floor(next() * 40_000)}`;
      if (user === 'heavy') heavy++;
      builder.add([[x], [user]]);
    }
    const result = builder.result();
    expect(result.approximate).toEqual(['x', 'user']);
    const [x, user] = result.features;
    xs.sort((a, b) => a - b);
    const rankOf = (v: number) => xs.filter((y) => y <= v).length / xs.length;
    expect(Math.abs(rankOf(x.num_stats!.median!) - 0.5)).toBeLessThan(0.02);
    x.num_stats!.histograms[1].buckets.forEach((b, i) => expect(Math.abs(rankOf(b.low_value) - i / 10)).toBeLessThan(0.02));
    const standard = x.num_stats!.histograms[0].buckets;
    expect(standard.reduce((a, b) => a + b.sample_count, 0)).toBe(100_000);
    for (const b of standard) expect(Math.abs(b.sample_count - xs.filter((v) => v > b.low_value && v <= b.high_value).length)).toBeLessThan(2_000);
    // a value counted before the limit goes on being counted exactly
    expect(user.string_stats!.top_values[0]).toEqual({ value: 'heavy', frequency: heavy });
    const distinct = 40_000 * (1 - Math.exp(-70_000 / 40_000)) + 1;
    expect(Math.abs(user.string_stats!.unique! - distinct) / distinct).toBeLessThan(0.03);
  });

  it('writes the same statistics for the same rows (no random coin in the sketch)', () => {
    const run = () => {
      const next = random(11);
      const builder = new DatasetStatisticsBuilder([{ name: 'x', type: 'FLOAT' }], { exactValues: 10 });
      for (let i = 0; i < 20_000; i++) builder.add([[next()]]);
      return JSON.stringify(builder.result());
    };
    expect(run()).toBe(run());
  });
});

describe('KllSketch', () => {
  it('keeps every rank within about 1.65% of the count, in a few thousand items', () => {
    const next = random(3);
    const sketch = new KllSketch();
    const values = Array.from({ length: 200_000 }, () => next() ** 2);
    values.forEach((v) => sketch.update(v));
    values.sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      const [estimate] = sketch.quantiles([q]);
      const rank = values.findIndex((v) => v > estimate) / values.length;
      expect(Math.abs(rank - q)).toBeLessThan(0.0165);
    }
    expect(sketch.n).toBe(200_000);
    expect(Math.abs(sketch.rank(values[100_000]) - 100_000)).toBeLessThan(3_300);
  });

  it('takes weights, and is exact while nothing is compacted', () => {
    const sketch = new KllSketch();
    sketch.update(1, 3);
    sketch.update(2, 1);
    expect(sketch.n).toBe(4);
    expect(sketch.quantiles([0, 0.5, 0.75, 1])).toEqual([1, 1, 1, 2]);
    expect(sketch.rank(1)).toBe(3);
  });
});

export interface NumericStatistics {
  min: number;
  max: number;
  mean: number;
  stdDev: number;
  zeros: number;
}

export interface CategoricalStatistics {
  /** distinct values, counted up to the cap */
  unique: number;
  uniqueCapped: boolean;
  top: Array<{ value: string; count: number }>;
  averageLength: number;
}

/** One feature's statistics, in the manner of TFDV's FeatureNameStatistics. */
export interface FeatureStatistics {
  name: string;
  /** examples that have the feature */
  present: number;
  missing: number;
  /** values counted (a list feature has several per example) */
  values: number;
  numeric?: NumericStatistics;
  categorical?: CategoricalStatistics;
}

// distinct values tracked per categorical feature: beyond, new values are not counted one by one
const MAX_TRACKED = 10_000;
const TOP = 10;

/**
 * Streaming per-feature statistics over examples: one pass, memory bounded by the number of
 * features (and, for a categorical one, at most 10,000 tracked values).
 */
export class StatisticsAccumulator {
  private examples = 0;
  private readonly features: Array<{
    name: string;
    kind: 'numeric' | 'categorical';
    present: number;
    values: number;
    min: number;
    max: number;
    mean: number;
    m2: number;
    zeros: number;
    counts: Map<string, number>;
    capped: boolean;
    length: number;
  }>;

  constructor(features: ReadonlyArray<{ name: string; kind: 'numeric' | 'categorical' }>) {
    this.features = features.map((f) => ({
      name: f.name,
      kind: f.kind,
      present: 0,
      values: 0,
      min: Infinity,
      max: -Infinity,
      mean: 0,
      m2: 0,
      zeros: 0,
      counts: new Map(),
      capped: false,
      length: 0,
    }));
  }

  /** One example: each feature's values in the order of the constructor's features (empty when missing). */
  add(values: ReadonlyArray<ReadonlyArray<number | string>>): void {
    this.examples++;
    for (let i = 0; i < this.features.length; i++) {
      const f = this.features[i];
      const list = values[i];
      if (list.length === 0) continue;
      f.present++;
      for (const value of list) {
        if (f.kind === 'numeric') {
          if (typeof value !== 'number' || !Number.isFinite(value)) continue;
          f.values++;
          // Welford's update: a stable running mean and variance
          const delta = value - f.mean;
          f.mean += delta / f.values;
          f.m2 += delta * (value - f.mean);
          if (value < f.min) f.min = value;
          if (value > f.max) f.max = value;
          if (value === 0) f.zeros++;
        } else {
          const text = String(value);
          f.values++;
          f.length += text.length;
          const seen = f.counts.get(text);
          if (seen !== undefined) f.counts.set(text, seen + 1);
          else if (f.counts.size < MAX_TRACKED) f.counts.set(text, 1);
          else f.capped = true;
        }
      }
    }
  }

  result(): FeatureStatistics[] {
    return this.features.map((f) => {
      const base = { name: f.name, present: f.present, missing: this.examples - f.present, values: f.values };
      if (f.kind === 'numeric') {
        return f.values ? { ...base, numeric: { min: f.min, max: f.max, mean: f.mean, stdDev: Math.sqrt(f.m2 / f.values), zeros: f.zeros } } : base;
      }
      const top = [...f.counts]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, TOP)
        .map(([value, count]) => ({ value, count }));
      return f.values ? { ...base, categorical: { unique: f.counts.size, uniqueCapped: f.capped, top, averageLength: f.length / f.values } } : base;
    });
  }
}

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

/** One feature's statistics, in the manner of TFDV's FeatureNameStatistics (the manifest's summary: `summaryOf`). */
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

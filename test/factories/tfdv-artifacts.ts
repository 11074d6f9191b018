/*
 * TFDV artifacts of the running example's training pipeline (a run recommender), as its tools write
 * them: the schema SchemaGen inferred and a team tuned (tfdv.write_schema_text: a drift comparator on
 * country, a skew comparator on minutes, a label kept out of SERVING), and StatisticsGen's statistics
 * of the training data in text format (tfdv.write_stats_text).
 */

export const SCHEMA_PBTXT = `default_environment: "TRAINING"
default_environment: "SERVING"
feature {
  name: "country"
  type: BYTES
  domain: "country"
  presence {
    min_fraction: 1.0
    min_count: 1
  }
  drift_comparator {
    infinity_norm {
      threshold: 0.1
    }
  }
}
feature {
  name: "minutes"
  type: FLOAT
  presence {
    min_count: 1
  }
  skew_comparator {
    jensen_shannon_divergence {
      threshold: 0.05
    }
  }
}
feature {
  name: "label"
  type: BYTES
  presence {
    min_fraction: 1.0
  }
  not_in_environment: "SERVING"
}
string_domain {
  name: "country"
  value: "CH"
  value: "FR"
}
`;

const bucket = (low: number, high: number, count: number) => `buckets { low_value: ${low} high_value: ${high} sample_count: ${count} }`;

// the training data, as tfdv.write_stats_text writes it: 400 runs of 0–40 minutes, half in CH, half in FR
export const TRAINING_STATISTICS = `datasets {
  name: "All Examples"
  num_examples: 400
  features {
    path { step: "minutes" }
    type: FLOAT
    num_stats {
      common_stats { num_non_missing: 400 min_num_values: 1 max_num_values: 1 avg_num_values: 1 tot_num_values: 400 }
      min: 0
      max: 40
      histograms { ${bucket(0, 10, 100)} ${bucket(10, 20, 100)} ${bucket(20, 30, 100)} ${bucket(30, 40, 100)} type: STANDARD }
      histograms { ${bucket(0, 10, 100)} ${bucket(10, 20, 100)} ${bucket(20, 30, 100)} ${bucket(30, 40, 100)} type: QUANTILES }
    }
  }
  features {
    path { step: "country" }
    type: STRING
    string_stats {
      common_stats { num_non_missing: 400 min_num_values: 1 max_num_values: 1 avg_num_values: 1 tot_num_values: 400 }
      unique: 2
      rank_histogram { buckets { label: "CH" sample_count: 200 } buckets { low_rank: 1 high_rank: 1 label: "FR" sample_count: 200 } }
    }
  }
}
`;

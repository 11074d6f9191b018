import { publicTfmdType } from '../../../test/helpers/tensorflow-metadata';
import {
  ArtifactError,
  decodeStatistics,
  encodeAnomalies,
  encodeStatistics,
  parseSchemaText,
  printSchema,
  TextFormatError,
  messageType,
  parseTextFormat,
} from './index';

// the public definitions, verbatim (test/fixtures/tensorflow_metadata): not the ones the writer uses
const publicType = publicTfmdType;

const STATISTICS = {
  datasets: [
    {
      name: 'train',
      num_examples: 3,
      features: [
        {
          name: 'hour',
          type: 'INT',
          num_stats: {
            common_stats: { num_non_missing: 3, min_num_values: 1, max_num_values: 1, avg_num_values: 1, tot_num_values: 3 },
            mean: 12,
            std_dev: 4.5,
            num_zeros: 0,
            min: 7,
            median: 12,
            max: 17,
            histograms: [{ buckets: [{ low_value: 7, high_value: 17, sample_count: 3 }], type: 'STANDARD' }],
          },
        },
        {
          name: 'language',
          type: 'STRING',
          string_stats: {
            common_stats: { num_non_missing: 2, num_missing: 1, min_num_values: 1, max_num_values: 1, avg_num_values: 1, tot_num_values: 2 },
            unique: 2,
            top_values: [
              { value: 'fr', frequency: 1 },
              { value: 'zürich', frequency: 1 },
            ],
            avg_length: 4.5,
            rank_histogram: {
              buckets: [
                { label: 'fr', sample_count: 1 },
                { low_rank: 1, high_rank: 1, label: 'zürich', sample_count: 1 },
              ],
            },
          },
        },
      ],
    },
  ],
};

describe('tensorflow_metadata messages', () => {
  it('writes a DatasetFeatureStatisticsList that the public statistics.proto decodes to the same figures', () => {
    const bytes = encodeStatistics(STATISTICS);
    const decoded = publicType('DatasetFeatureStatisticsList').toObject(publicType('DatasetFeatureStatisticsList').decode(bytes), {
      longs: Number,
      enums: String,
    });
    const [dataset] = decoded.datasets;
    expect(dataset.name).toBe('train');
    expect(dataset.num_examples).toBe(3);
    const [hour, language] = dataset.features;
    expect(hour).toMatchObject({ name: 'hour', type: 'INT', num_stats: { mean: 12, std_dev: 4.5, min: 7, median: 12, max: 17 } });
    expect(hour.num_stats.common_stats).toEqual({ num_non_missing: 3, min_num_values: 1, max_num_values: 1, avg_num_values: 1, tot_num_values: 3 });
    expect(hour.num_stats.histograms[0].buckets).toEqual([{ low_value: 7, high_value: 17, sample_count: 3 }]);
    expect(language.type).toBe('STRING');
    expect(language.string_stats.top_values.map((v: { value: string }) => v.value)).toEqual(['fr', 'zürich']);
    expect(language.string_stats.avg_length).toBe(4.5);
    expect(language.string_stats.rank_histogram.buckets[1]).toEqual({ low_rank: 1, high_rank: 1, label: 'zürich', sample_count: 1 });
    // proto3: a zero is not written (num_zeros: 0, num_missing of hour)
    expect(hour.num_stats).not.toHaveProperty('num_zeros');
  });

  it('reads statistics back from binary and from text format, and says what it cannot read', () => {
    const bytes = encodeStatistics(STATISTICS);
    expect(decodeStatistics(bytes).statistics).toMatchObject({ datasets: [{ name: 'train', num_examples: 3 }] });
    const text = `# written by tfdv.write_stats_text
datasets {
  num_examples: 2
  features {
    name: "x"
    type: FLOAT
    num_stats { mean: 0.5 min: 0.0 max: 1.0 histograms { buckets { low_value: 0 high_value: 1 sample_count: 2 } type: QUANTILES } }
  }
  cross_features { count: 1 }
}
`;
    const fromText = decodeStatistics(new TextEncoder().encode(text));
    expect(fromText.statistics).toMatchObject({ datasets: [{ num_examples: 2, features: [{ name: 'x', type: 'FLOAT', num_stats: { mean: 0.5, max: 1 } }] }] });
    expect(fromText.skipped).toEqual(['datasets.cross_features']);
    expect(() => decodeStatistics(new TextEncoder().encode('datasets { num_examples: "two" }'))).toThrow(ArtifactError);
    expect(() => decodeStatistics(Uint8Array.from([0x0a, 0xff, 0xff, 0xff]))).toThrow(ArtifactError);
  });

  const TFDV_SCHEMA = `feature {
  name: "company"
  value_count {
    min: 1
    max: 1
  }
  type: BYTES
  domain: "company"
  presence {
    min_fraction: 1.0
    min_count: 1
  }
}
feature {
  name: "trip_miles"
  type: FLOAT
  presence {
    min_count: 1
  }
  skew_comparator {
    infinity_norm {
      threshold: 0.01
    }
  }
  drift_comparator {
    jensen_shannon_divergence {
      threshold: 0.05
    }
  }
}
string_domain {
  name: "company"
  value: "Blue Ribbon Taxi Association Inc."
  value: "Caf\\303\\251 \\"Z\\""
}
default_environment: "TRAINING"
`;

  it('reads a schema.pbtxt as TFDV writes it, and writes it back to the same text', () => {
    const { schema, skipped } = parseSchemaText(TFDV_SCHEMA);
    expect(skipped).toEqual([]);
    expect(schema).toMatchObject({
      feature: [
        { name: 'company', type: 'BYTES', domain: 'company', value_count: { min: '1', max: '1' }, presence: { min_fraction: 1, min_count: '1' } },
        {
          name: 'trip_miles',
          type: 'FLOAT',
          drift_comparator: { jensen_shannon_divergence: { threshold: 0.05 } },
          skew_comparator: { infinity_norm: { threshold: 0.01 } },
        },
      ],
      string_domain: [{ name: 'company', value: ['Blue Ribbon Taxi Association Inc.', 'Café "Z"'] }],
    });
    expect(printSchema(schema)).toBe(TFDV_SCHEMA);
  });

  it('refuses what is not a schema with the line and column, and skips unknown fields by name', () => {
    expect(() => parseSchemaText('feature {\n  name: "a"\n  type: TEXT\n}')).toThrow(/line 3, column 9: feature.type: TEXT is not a value of FeatureType/);
    expect(() => parseSchemaText('feature { name: "a"')).toThrow(ArtifactError);
    expect(() => parseSchemaText('feature { value_count { min: 99999999999999999999 } }')).toThrow(/out of range for int64/);
    const { schema, skipped } = parseSchemaText('feature { name: "a" sequence_metadata { joint_group: "g" } } [ext.x] { y: 1 }');
    expect(schema).toEqual({ feature: [{ name: 'a' }] });
    expect(skipped).toEqual(['feature.sequence_metadata', 'ext.x']);
  });

  it('reads the rest of the text format: lists, angle brackets, separators, escapes, numbers', () => {
    const { object } = parseTextFormat(
      `feature < name: 'a\\x41\\101\\u00e9' type: INT int_domain: { min: -0x10, max: 010 } >; feature { name: "b" in_environment: ["A", "B"] }
       tensor_representation_group { key: "g" value { tensor_representation { key: "t" value { varlen_sparse_tensor { column_name: "c" } } } } }`,
      messageType('Schema'),
    );
    expect(object).toEqual({
      feature: [
        { name: 'aAAé', type: 'INT', int_domain: { min: '-16', max: '8' } },
        { name: 'b', in_environment: ['A', 'B'] },
      ],
      tensor_representation_group: { g: { tensor_representation: { t: { varlen_sparse_tensor: { column_name: 'c' } } } } },
    });
    expect(() => parseTextFormat('feature { name: "a" name: "b" }', messageType('Schema'))).toThrow(TextFormatError);
  });

  it('writes Anomalies that the public anomalies.proto decodes', () => {
    const bytes = encodeAnomalies({
      anomaly_name_format: 'SERIALIZED_PATH',
      anomaly_info: {
        language: {
          severity: 'ERROR',
          short_description: 'Unexpected string values',
          description: 'Examples contain values missing from the schema: it (~5%).',
          reason: [
            {
              type: 'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
              short_description: 'Unexpected string values',
              description: 'Examples contain values missing from the schema: it (~5%).',
            },
          ],
          path: { step: ['language'] },
        },
      },
      drift_skew_info: [{ path: { step: ['hour'] }, drift_measurements: [{ type: 'JENSEN_SHANNON_DIVERGENCE', value: 0.2, threshold: 0.1 }] }],
    });
    const Anomalies = publicType('Anomalies');
    const decoded = Anomalies.toObject(Anomalies.decode(bytes), { enums: String });
    expect(decoded.anomaly_info.language.reason[0].type).toBe('ENUM_TYPE_UNEXPECTED_STRING_VALUES');
    expect(decoded.anomaly_info.language.path.step).toEqual(['language']);
    expect(decoded.drift_skew_info[0].drift_measurements[0]).toEqual({ type: 'JENSEN_SHANNON_DIVERGENCE', value: 0.2, threshold: 0.1 });
  });
});

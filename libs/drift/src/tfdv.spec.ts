import {
  comparatorThresholds,
  comparatorValue,
  featureName,
  inferTfdvSchema,
  sixDigits,
  tfdvCategoricalJensenShannon,
  tfdvJensenShannon,
  tfdvLInfinity,
  validateStatistics,
  withUploadedSettings,
  type FeatureStatisticsLike,
  type HistogramLike,
} from './tfdv';

/*
 * The figures TFDV's own tests publish (github.com/tensorflow/data-validation):
 * tensorflow_data_validation/anomalies/metrics_test.cc (commit 7ee4912c), schema_anomalies_test.cc
 * (1e1f0ce2, FindSkewStringFeature / FindSkewNumericFeature) and feature_statistics_validator_test.cc
 * (79bfb37e, UpdateDriftComparatorInSchemaStringFeature / ...NumericFeature).
 */

const histogram = (...buckets: Array<[number, number, number]>): HistogramLike => ({
  buckets: buckets.map(([low_value, high_value, sample_count]) => ({ low_value, high_value, sample_count })),
});
const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));
const stringFeature = (name: string, entries: Record<string, number>, common = { num_non_missing: 1, max_num_values: 1 }): FeatureStatisticsLike => ({
  path: { step: [name] },
  type: 'STRING',
  string_stats: { common_stats: common, rank_histogram: { buckets: Object.entries(entries).map(([label, sample_count]) => ({ label, sample_count })) } },
});
const numericFeature = (name: string, h: HistogramLike, min?: number, max?: number): FeatureStatisticsLike => ({
  path: { step: [name] },
  type: 'FLOAT',
  num_stats: { common_stats: { num_non_missing: 1, max_num_values: 1 }, min, max, histograms: [h] },
});

describe("TFDV's L-infinity distance (metrics_test.cc)", () => {
  it.each([
    ['Two empty maps', {}, {}, 0, ''],
    ['Normal distribution.', { hello: 0.1, world: 0.9 }, { hello: 0.3, world: 0.7 }, 0.2, 'world'],
    ['Missing value in both.', { b: 0.9, c: 0.1 }, { a: 0.3, b: 0.7 }, 0.3, 'a'],
    ['Missing value in both, flipped.', { a: 0.3, b: 0.7 }, { b: 0.9, c: 0.1 }, 0.3, 'a'],
  ])('%s', (_name, training, serving, expected, value) => {
    const result = tfdvLInfinity(counts(training), counts(serving));
    expect(result.distance).toBeCloseTo(expected, 5);
    expect(result.value).toBe(value);
  });
});

describe("TFDV's approximate Jensen-Shannon divergence (metrics_test.cc)", () => {
  it.each([
    ['DifferentBucketBoundaries', histogram([1, 2, 2], [2, 3, 2]), histogram([2, 4, 2], [4, 6, 2]), 0.65563906222],
    ['NoOverlap', histogram([0, 1, 2], [1, 2, 2]), histogram([3, 4, 2], [4, 6, 2]), 1],
    ['OneHasAllValuesInOneBucket', histogram([1, 1, 4]), histogram([2, 4, 2], [4, 6, 2]), 1],
    ['BothHaveAllValuesInOneBucket', histogram([1, 1, 4]), histogram([2, 2, 4]), 1],
    ['OneHasOneBucketTheOtherHasMany', histogram([10, 10, 21]), histogram([0, 4, 150], [4, 12, 200], [12, 20, 20]), 1],
    ['WithNaNs', { ...histogram([1, 2, 3]), num_nan: 1 }, histogram([1, 2, 4]), 0.13792538096],
  ])('%s', (_name, h1, h2, expected) => {
    expect(tfdvJensenShannon(h1, h2)).toBeCloseTo(expected, 5);
  });

  it('SameStatistics: a histogram with NaNs against itself is 0', () => {
    const h = { ...histogram([1, 2.3333333, 2.9866667], [2.3333333, 3.6666667, 1.0066667], [3.6666667, 5, 2.0066667]), num_nan: 1 };
    expect(tfdvJensenShannon(h, h)).toBe(0);
  });

  it('EmptyHistogram and histograms of different types are errors', () => {
    expect(() => tfdvJensenShannon({ buckets: [] }, histogram([0, 4, 10]))).toThrow('Unable to normalize an empty histogram');
    expect(() => tfdvJensenShannon({ ...histogram([0, 1, 1]), type: 'QUANTILES' }, histogram([0, 1, 1]))).toThrow();
  });

  it('a categorical divergence over the union of values', () => {
    // {a:1, b:1} against {a:3, b:1}: P = (.5, .5), Q = (.75, .25)
    const m = [0.625, 0.375];
    const expected = (0.5 * Math.log2(0.5 / m[0]) + 0.5 * Math.log2(0.5 / m[1]) + 0.75 * Math.log2(0.75 / m[0]) + 0.25 * Math.log2(0.25 / m[1])) / 2;
    expect(tfdvCategoricalJensenShannon(counts({ a: 1, b: 1 }), counts({ a: 3, b: 1 }))).toBeCloseTo(expected, 15);
    expect(expected).toBeCloseTo(0.0487949406953985, 12);
  });
});

describe('sixDigits (%.6g)', () => {
  it.each([
    [0.19999999999999998, '0.2'],
    [1, '1'],
    [0.25, '0.25'],
    [0.0435984123, '0.0435984'],
    [1234567, '1.23457e+06'],
    [0.00001234, '1.234e-05'],
    [100, '100'],
  ])('%s → %s', (x, text) => expect(sixDigits(x)).toBe(text));
});

describe("TFDV's validation (schema_anomalies_test.cc, feature_statistics_validator_test.cc)", () => {
  it('FindSkewStringFeature: L-infinity between training and serving', () => {
    const anomalies = validateStatistics(
      { num_examples: 10, features: [stringFeature('foo', { a: 1, b: 2, c: 7 })] },
      { feature: [{ name: 'foo', type: 'BYTES', skew_comparator: { infinity_norm: { threshold: 0.1 } } }] },
      { serving: { num_examples: 10, features: [stringFeature('foo', { a: 3, b: 1, c: 6 })] } },
    );
    expect(anomalies.anomaly_info.foo.reason).toEqual([
      {
        type: 'COMPARATOR_L_INFTY_HIGH',
        short_description: 'High Linfty distance between training and serving',
        description:
          'The Linfty distance between training and serving is 0.2 (up to six significant digits), above the threshold 0.1. The feature value with maximum difference is: a',
      },
    ]);
    expect(anomalies.drift_skew_info).toEqual([
      { path: { step: ['foo'] }, skew_measurements: [{ type: 'L_INFTY', value: 0.19999999999999998, threshold: 0.1 }] },
    ]);
  });

  it('FindSkewNumericFeature: Jensen-Shannon between training and serving, and none for the same histograms', () => {
    const skew = (serving: HistogramLike, threshold: number) =>
      validateStatistics(
        { num_examples: 2, features: [numericFeature('bar', histogram([1, 2, 1], [2, 3, 1]))] },
        { feature: [{ name: 'bar', type: 'FLOAT', skew_comparator: { jensen_shannon_divergence: { threshold } } }] },
        { serving: { num_examples: 2, features: [numericFeature('bar', serving)] } },
      );
    const high = skew(histogram([5, 6, 1], [6, 7, 1]), 0.1);
    expect(high.anomaly_info.bar.description).toBe(
      'The approximate Jensen-Shannon divergence between training and serving is 1 (up to six significant digits), above the threshold 0.1.',
    );
    expect(high.drift_skew_info[0].skew_measurements).toEqual([{ type: 'JENSEN_SHANNON_DIVERGENCE', value: 1, threshold: 0.1 }]);
    const same = skew(histogram([1, 2, 1], [2, 3, 1]), 0.5);
    expect(same.anomaly_info).toEqual({});
    expect(same.drift_skew_info[0].skew_measurements).toEqual([{ type: 'JENSEN_SHANNON_DIVERGENCE', value: 0, threshold: 0.5 }]);
  });

  it('UpdateDriftComparatorInSchemaStringFeature: an unexpected value and drift, as "Multiple errors"', () => {
    const common = { num_non_missing: 1, num_missing: 0, max_num_values: 1 };
    const anomalies = validateStatistics(
      { num_examples: 2, features: [stringFeature('annotated_enum', { a: 1, b: 1 }, common)] },
      {
        feature: [{ name: 'annotated_enum', type: 'BYTES', domain: 'annotated_enum', drift_comparator: { infinity_norm: { threshold: 0.01 } } }],
        string_domain: [{ name: 'annotated_enum', value: ['a'] }],
      },
      { previous: { num_examples: 4, features: [stringFeature('annotated_enum', { a: 3, b: 1 }, common)] } },
    );
    expect(anomalies.anomaly_info.annotated_enum).toEqual({
      path: { step: ['annotated_enum'] },
      severity: 'ERROR',
      short_description: 'Multiple errors',
      description:
        'Examples contain values missing from the schema: b (?).  The Linfty distance between current and previous is 0.25 (up to six significant digits), above the threshold 0.01. The feature value with maximum difference is: b',
      reason: [
        {
          type: 'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
          short_description: 'Unexpected string values',
          description: 'Examples contain values missing from the schema: b (?). ',
        },
        {
          type: 'COMPARATOR_L_INFTY_HIGH',
          short_description: 'High Linfty distance between current and previous',
          description:
            'The Linfty distance between current and previous is 0.25 (up to six significant digits), above the threshold 0.01. The feature value with maximum difference is: b',
        },
      ],
    });
    expect(anomalies.drift_skew_info).toEqual([
      { path: { step: ['annotated_enum'] }, drift_measurements: [{ type: 'L_INFTY', value: 0.25, threshold: 0.01 }] },
    ]);
  });

  it('UpdateDriftComparatorInSchemaNumericFeature: a small value and drift', () => {
    const anomalies = validateStatistics(
      { num_examples: 2, features: [{ ...numericFeature('x', histogram([1, 2, 1], [2, 3, 1]), 1, 3), type: 'INT' }] },
      { feature: [{ name: 'x', type: 'INT', int_domain: { min: '2', max: '3' }, drift_comparator: { jensen_shannon_divergence: { threshold: 0.01 } } }] },
      { previous: { num_examples: 4, features: [{ ...numericFeature('x', histogram([5, 6, 2], [6, 7, 2])), type: 'INT' }] } },
    );
    expect(anomalies.anomaly_info.x.description).toBe(
      'Unexpectedly small value: 1. The approximate Jensen-Shannon divergence between current and previous is 1 (up to six significant digits), above the threshold 0.01.',
    );
  });

  it('reports the other schema checks with their TFDV types and texts', () => {
    const anomalies = validateStatistics(
      {
        num_examples: 100,
        features: [
          {
            path: { step: ['country'] },
            type: 'STRING',
            string_stats: { common_stats: { num_non_missing: 40, num_missing: 60, min_num_values: 1, max_num_values: 3 } },
          },
          { path: { step: ['hour'] }, type: 'FLOAT', num_stats: { common_stats: { num_non_missing: 100 } } },
          { path: { step: ['surprise'] }, type: 'INT', num_stats: { common_stats: { num_non_missing: 1 } } },
        ],
      },
      {
        feature: [
          { name: 'country', type: 'BYTES', presence: { min_fraction: 0.5 }, value_count: { min: 1, max: 1 } },
          { name: 'hour', type: 'INT' },
          { name: 'gone', type: 'INT', presence: { min_count: '1' } },
          { name: 'optional', type: 'INT' },
        ],
      },
    );
    const types = Object.fromEntries(Object.entries(anomalies.anomaly_info).map(([k, v]) => [k, v.reason.map((r) => r.type)]));
    expect(types).toEqual({
      country: ['FEATURE_TYPE_LOW_FRACTION_PRESENT', 'FEATURE_TYPE_HIGH_NUMBER_VALUES'],
      hour: ['UNEXPECTED_DATA_TYPE'],
      gone: ['SCHEMA_MISSING_COLUMN'],
      surprise: ['SCHEMA_NEW_COLUMN'],
    });
    expect(anomalies.anomaly_info.country.reason[0].description).toBe(
      'The feature was present in fewer examples than expected: minimum fraction = 0.500000, actual = 0.400000',
    );
    expect(anomalies.anomaly_info.hour.description).toBe('Expected data of type: INT but got FLOAT');
    expect(validateStatistics({ num_examples: 0 }, {}).data_missing).toBe(true);
  });
});

describe("TFDV's schema inference (validation_api_test.py, b734f448)", () => {
  it('test_infer_schema_with_string_domain: a value count, presence, and a string domain named after the feature', () => {
    const statistics = {
      num_examples: 6,
      features: [
        {
          path: { step: ['feature1'] },
          type: 'STRING' as const,
          string_stats: {
            common_stats: { num_missing: 3, num_non_missing: 3, min_num_values: 1, max_num_values: 1 },
            unique: 2,
            rank_histogram: {
              buckets: [
                { label: 'a', sample_count: 2 },
                { label: 'b', sample_count: 1 },
              ],
            },
          },
        },
      ],
    };
    expect(inferTfdvSchema(statistics)).toEqual({
      feature: [{ name: 'feature1', type: 'BYTES', value_count: { min: 1, max: 1 }, presence: { min_count: 1 }, domain: 'feature1' }],
      string_domain: [{ name: 'feature1', value: ['a', 'b'] }],
    });
    // max_string_domain_size=1: no domain
    expect(inferTfdvSchema(statistics, { maxStringDomainSize: 1 }).string_domain).toBeUndefined();
  });

  it('test_infer_schema_with_infer_shape: a fixed shape for a required single value; bool and int domains', () => {
    const common = { num_non_missing: 4, num_missing: 0, min_num_values: 1, max_num_values: 1 };
    const schema = inferTfdvSchema({
      num_examples: 4,
      features: [
        { path: { step: ['clicked'] }, type: 'INT', num_stats: { common_stats: common, min: 0, max: 1 } },
        { path: { step: ['zip'] }, type: 'STRING', string_stats: { common_stats: common, rank_histogram: { buckets: [{ label: '8001' }, { label: '-3' }] } } },
        {
          path: { step: ['flag'] },
          type: 'STRING',
          string_stats: { common_stats: common, rank_histogram: { buckets: [{ label: 'true' }, { label: 'false' }] } },
        },
        { path: { step: ['tokens'] }, type: 'STRING', string_stats: { common_stats: { ...common, min_num_values: 0, max_num_values: 3 } } },
      ],
    });
    expect(schema.feature).toEqual([
      { name: 'clicked', type: 'INT', presence: { min_count: 1, min_fraction: 1 }, shape: { dim: [{ size: 1 }] }, bool_domain: {} },
      { name: 'zip', type: 'BYTES', presence: { min_count: 1, min_fraction: 1 }, shape: { dim: [{ size: 1 }] }, int_domain: {} },
      {
        name: 'flag',
        type: 'BYTES',
        presence: { min_count: 1, min_fraction: 1 },
        shape: { dim: [{ size: 1 }] },
        bool_domain: { true_value: 'true', false_value: 'false' },
      },
      { name: 'tokens', type: 'BYTES', presence: { min_count: 1, min_fraction: 1 } },
    ]);
  });

  it("keeps an uploaded schema's settings over what is inferred, and adds what only the data has", () => {
    const inferred = inferTfdvSchema({
      num_examples: 2,
      features: [
        { path: { step: ['country'] }, type: 'STRING', string_stats: { common_stats: { num_non_missing: 2 }, rank_histogram: { buckets: [{ label: 'CH' }] } } },
        { path: { step: ['city'] }, type: 'STRING', string_stats: { common_stats: { num_non_missing: 2 }, rank_histogram: { buckets: [{ label: 'Bern' }] } } },
      ],
    });
    const uploaded = {
      feature: [
        { name: 'country', type: 'BYTES', domain: 'city', drift_comparator: { infinity_norm: { threshold: 0.01 } } },
        { name: 'retired', type: 'INT', lifecycle_stage: 'DEPRECATED' },
      ],
      string_domain: [{ name: 'city', value: ['CH', 'FR'] }],
      default_environment: ['SERVING'],
    };
    const merged = withUploadedSettings(inferred, uploaded);
    expect(merged.feature.map((f) => [f.name, f.domain])).toEqual([
      ['country', 'city'],
      ['city', 'city2'],
      ['retired', undefined],
    ]);
    expect(merged.feature[0].drift_comparator).toEqual({ infinity_norm: { threshold: 0.01 } });
    expect(merged.string_domain).toEqual([
      { name: 'city', value: ['CH', 'FR'] },
      { name: 'city2', value: ['Bern'] },
    ]);
    expect(merged.default_environment).toEqual(['SERVING']);
  });
});

describe('TFDV comparators on serving statistics', () => {
  const counts = (pairs: Array<[string, number]>) => ({
    type: 'STRING' as const,
    string_stats: { rank_histogram: { buckets: pairs.map(([label, sample_count]) => ({ label, sample_count })) } },
  });
  const histogram = (buckets: Array<[number, number, number]>) => ({
    type: 'FLOAT' as const,
    num_stats: {
      histograms: [{ type: 'STANDARD' as const, buckets: buckets.map(([low_value, high_value, sample_count]) => ({ low_value, high_value, sample_count })) }],
    },
  });

  it('measures L-infinity and the divergence by metric, nothing where TFDV measures nothing', () => {
    expect(
      comparatorValue(
        'l_infinity',
        counts([
          ['a', 1],
          ['b', 1],
        ]),
        counts([
          ['a', 3],
          ['b', 1],
        ]),
      ),
    ).toEqual({ value: 0.25, at: 'b' });
    // one bucket shared, half the mass moved: JS = 0.311278… bits
    const js = comparatorValue(
      'jensen_shannon',
      histogram([
        [0, 1, 10],
        [1, 2, 10],
      ]),
      histogram([
        [0, 1, 20],
        [1, 2, 0],
      ]),
    );
    expect(js!.value).toBeCloseTo(0.5 * (0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(0.5 / 0.25)) + 0.5 * Math.log2(1 / 0.75), 12);
    expect(comparatorValue('jensen_shannon', histogram([]), histogram([[0, 1, 1]]))).toBeUndefined();
    expect(comparatorThresholds({ infinity_norm: { threshold: 0.1 }, jensen_shannon_divergence: { threshold: 0.2, source: { type: 'QUANTILES' } } })).toEqual([
      { metric: 'l_infinity', threshold: 0.1 },
      { metric: 'jensen_shannon', threshold: 0.2, source: 'QUANTILES' },
    ]);
  });

  it('validates serving statistics with training ones as the skew comparators’ treatment, naming a missing side as TFDV would', () => {
    const schema = {
      feature: [
        { name: 'country', type: 'BYTES', skew_comparator: { infinity_norm: { threshold: 0.1 } } },
        { name: 'device', type: 'BYTES', skew_comparator: { infinity_norm: { threshold: 0.1 } } },
        { name: 'shoe', type: 'BYTES', skew_comparator: { infinity_norm: { threshold: 0.1 } } },
      ],
    };
    const serving = {
      num_examples: 4,
      features: [
        {
          name: 'country',
          ...counts([
            ['CH', 1],
            ['FR', 3],
          ]),
        },
        { name: 'device', ...counts([['ios', 4]]) },
      ],
    };
    const training = {
      num_examples: 2,
      features: [
        {
          name: 'country',
          ...counts([
            ['CH', 1],
            ['FR', 1],
          ]),
        },
        { name: 'shoe', ...counts([['trail', 2]]) },
      ],
    };
    const anomalies = validateStatistics(serving, schema, { training });
    expect(anomalies.drift_skew_info).toEqual([{ path: { step: ['country'] }, skew_measurements: [{ type: 'L_INFTY', value: 0.25, threshold: 0.1 }] }]);
    expect(anomalies.anomaly_info.country.reason[0]).toMatchObject({
      type: 'COMPARATOR_L_INFTY_HIGH',
      description:
        'The Linfty distance between training and serving is 0.25 (up to six significant digits), above the threshold 0.1. The feature value with maximum difference is: FR',
    });
    // training has shoe, serving does not: the control is missing; device only serving has is not compared
    expect(anomalies.anomaly_info.shoe.reason).toEqual([
      { type: 'COMPARATOR_CONTROL_DATA_MISSING', short_description: 'serving data missing', description: 'serving data is missing.' },
    ]);
    expect(anomalies.anomaly_info.device).toBeUndefined();
  });

  it('keys a feature by its one step whatever it holds, and its anomaly by the serialized path', () => {
    const schema = { feature: [{ name: 'user.email', type: 'BYTES', presence: { min_fraction: 1 } }] };
    const stats = {
      num_examples: 2,
      features: [{ path: { step: ['user.email'] }, ...counts([['a', 1]]), string_stats: { common_stats: { num_non_missing: 1, num_missing: 1 } } }],
    };
    expect(featureName(stats.features[0])).toBe('user.email');
    const anomalies = validateStatistics(stats, schema);
    expect(Object.keys(anomalies.anomaly_info)).toEqual(["'user.email'"]);
    expect(anomalies.anomaly_info["'user.email'"].reason.map((r) => r.type)).toEqual(['FEATURE_TYPE_LOW_FRACTION_PRESENT']);
  });
});

import * as protobuf from 'protobufjs';

/*
 * The messages of tensorflow_metadata (github.com/tensorflow/metadata, tensorflow_metadata/proto/v0:
 * path.proto, schema.proto, statistics.proto, anomalies.proto; Apache License 2.0) that Backflow
 * writes and reads, written here from the public definitions: the package, message names, field
 * numbers, labels and enum values are theirs, so the bytes are what TFDV writes and reads. Left out:
 * the messages Backflow never writes and has no use for when it reads (cross-feature and natural
 * language statistics, derived-feature sources, sequence constraints), which a reader skips as
 * unknown fields. The schema is kept whole, so an uploaded schema's settings survive a round trip.
 */
const PATH = `
message Path { repeated string step = 1; }
`;

const SCHEMA = `
enum LifecycleStage {
  UNKNOWN_STAGE = 0; PLANNED = 1; ALPHA = 2; BETA = 3; PRODUCTION = 4; DEPRECATED = 5; DEBUG_ONLY = 6; DISABLED = 7;
  VALIDATION_DERIVED = 9;
}
enum FeatureType { TYPE_UNKNOWN = 0; BYTES = 1; INT = 2; FLOAT = 3; STRUCT = 4; }
message Schema {
  repeated Feature feature = 1;
  repeated SparseFeature sparse_feature = 6;
  repeated WeightedFeature weighted_feature = 12;
  repeated StringDomain string_domain = 4;
  repeated FloatDomain float_domain = 9;
  repeated IntDomain int_domain = 10;
  repeated string default_environment = 5;
  optional bool represent_variable_length_as_ragged = 14;
  optional Annotation annotation = 8;
  optional DatasetConstraints dataset_constraints = 11;
  map<string, TensorRepresentationGroup> tensor_representation_group = 13;
}
message ValueCountList { repeated ValueCount value_count = 1; }
message Feature {
  optional string name = 1;
  optional bool deprecated = 2;
  oneof presence_constraints {
    FeaturePresence presence = 14;
    FeaturePresenceWithinGroup group_presence = 17;
  }
  oneof shape_type {
    FixedShape shape = 23;
    ValueCount value_count = 5;
    ValueCountList value_counts = 32;
  }
  optional FeatureType type = 6;
  oneof domain_info {
    string domain = 7;
    IntDomain int_domain = 9;
    FloatDomain float_domain = 10;
    StringDomain string_domain = 11;
    BoolDomain bool_domain = 13;
    StructDomain struct_domain = 29;
    NaturalLanguageDomain natural_language_domain = 24;
    ImageDomain image_domain = 25;
    MIDDomain mid_domain = 26;
    URLDomain url_domain = 27;
    TimeDomain time_domain = 28;
    TimeOfDayDomain time_of_day_domain = 30;
  }
  optional DistributionConstraints distribution_constraints = 15;
  optional Annotation annotation = 16;
  optional FeatureComparator skew_comparator = 18;
  optional FeatureComparator drift_comparator = 21;
  repeated string in_environment = 20;
  repeated string not_in_environment = 19;
  optional LifecycleStage lifecycle_stage = 22;
  optional UniqueConstraints unique_constraints = 31;
}
message Annotation {
  repeated string tag = 1;
  repeated string comment = 2;
}
message NumericValueComparator {
  optional double min_fraction_threshold = 1;
  optional double max_fraction_threshold = 2;
}
message DatasetConstraints {
  optional NumericValueComparator num_examples_drift_comparator = 1;
  optional NumericValueComparator num_examples_version_comparator = 2;
  optional int64 min_examples_count = 3;
  optional int64 max_examples_count = 4;
}
message FixedShape {
  repeated Dim dim = 2;
  message Dim {
    optional int64 size = 1;
    optional string name = 2;
  }
}
message ValueCount {
  optional int64 min = 1;
  optional int64 max = 2;
}
message WeightedFeature {
  optional string name = 1;
  optional Path feature = 2;
  optional Path weight_feature = 3;
  optional LifecycleStage lifecycle_stage = 4;
}
message SparseFeature {
  optional string name = 1;
  optional bool deprecated = 2;
  optional LifecycleStage lifecycle_stage = 7;
  optional FeaturePresence presence = 4;
  optional FixedShape dense_shape = 5;
  repeated IndexFeature index_feature = 6;
  message IndexFeature { optional string name = 1; }
  optional bool is_sorted = 8;
  optional ValueFeature value_feature = 9;
  message ValueFeature { optional string name = 1; }
  optional FeatureType type = 10;
}
message DistributionConstraints { optional double min_domain_mass = 1 [default = 1.0]; }
message FeatureCoverageConstraints {
  optional float min_coverage = 1;
  optional float min_avg_token_length = 2;
  repeated string excluded_string_tokens = 3;
  repeated int64 excluded_int_tokens = 4 [packed = true];
  repeated string oov_string_tokens = 5;
}
message SequenceValueConstraints {
  oneof value {
    int64 int_value = 1;
    string string_value = 2;
  }
  optional int64 min_per_sequence = 3;
  optional int64 max_per_sequence = 4;
  optional float min_fraction_of_sequences = 5;
  optional float max_fraction_of_sequences = 6;
}
message SequenceLengthConstraints {
  repeated int64 excluded_int_value = 1;
  repeated string excluded_string_value = 2;
  optional int64 min_sequence_length = 3;
  optional int64 max_sequence_length = 4;
}
message IntDomain {
  optional string name = 1;
  optional int64 min = 3;
  optional int64 max = 4;
  optional bool is_categorical = 5;
}
message FloatDomain {
  optional string name = 1;
  optional float min = 3;
  optional float max = 4;
  optional bool disallow_nan = 5;
  optional bool disallow_inf = 6;
  optional bool is_embedding = 7;
  optional bool is_categorical = 8;
  optional int64 embedding_dim = 9;
}
message StructDomain {
  repeated Feature feature = 1;
  repeated SparseFeature sparse_feature = 2;
}
message StringDomain {
  optional string name = 1;
  repeated string value = 2;
  enum Categorical { CATEGORICAL_UNSPECIFIED = 0; CATEGORICAL_YES = 1; CATEGORICAL_NO = 2; }
  optional Categorical is_categorical = 3;
}
message BoolDomain {
  optional string name = 1;
  optional string true_value = 2;
  optional string false_value = 3;
}
message NaturalLanguageDomain {
  optional string vocabulary = 1;
  optional FeatureCoverageConstraints coverage = 2;
  repeated SequenceValueConstraints token_constraints = 3;
  optional SequenceLengthConstraints sequence_length_constraints = 5;
  optional string location_constraint_regex = 4;
}
message ImageDomain {
  optional float minimum_supported_image_fraction = 1;
  optional int64 max_image_byte_size = 2;
}
message MIDDomain {}
message URLDomain {}
message TimeDomain {
  enum IntegerTimeFormat {
    FORMAT_UNKNOWN = 0; UNIX_DAYS = 5; UNIX_SECONDS = 1; UNIX_MILLISECONDS = 2; UNIX_MICROSECONDS = 3; UNIX_NANOSECONDS = 4;
  }
  oneof format {
    string string_format = 1;
    IntegerTimeFormat integer_format = 2;
  }
}
message TimeOfDayDomain {
  enum IntegerTimeOfDayFormat { FORMAT_UNKNOWN = 0; PACKED_64_NANOS = 1; }
  oneof format {
    string string_format = 1;
    IntegerTimeOfDayFormat integer_format = 2;
  }
}
message FeaturePresence {
  optional double min_fraction = 1;
  optional int64 min_count = 2;
}
message FeaturePresenceWithinGroup { optional bool required = 1; }
message InfinityNorm { optional double threshold = 1; }
message HistogramSelection {
  enum Type { DEFAULT = 0; QUANTILES = 1; STANDARD = 2; }
  optional Type type = 1;
}
message JensenShannonDivergence {
  optional double threshold = 1;
  optional HistogramSelection source = 2;
}
message NormalizedAbsoluteDifference { optional double threshold = 1; }
message FeatureComparator {
  optional InfinityNorm infinity_norm = 1;
  optional JensenShannonDivergence jensen_shannon_divergence = 2;
  optional NormalizedAbsoluteDifference normalized_abs_difference = 3;
}
message UniqueConstraints {
  optional int64 min = 1;
  optional int64 max = 2;
}
message TensorRepresentation {
  message DefaultValue {
    oneof kind {
      double float_value = 1;
      int64 int_value = 2;
      bytes bytes_value = 3;
      uint64 uint_value = 4;
    }
  }
  message DenseTensor {
    optional string column_name = 1;
    optional FixedShape shape = 2;
    optional DefaultValue default_value = 3;
  }
  message VarLenSparseTensor { optional string column_name = 1; }
  message SparseTensor {
    optional FixedShape dense_shape = 1;
    repeated string index_column_names = 2;
    optional string value_column_name = 3;
    optional bool already_sorted = 4;
  }
  message RaggedTensor {
    optional Path feature_path = 1;
    message Partition {
      oneof kind {
        int64 uniform_row_length = 1;
        string row_length = 2;
      }
    }
    repeated Partition partition = 3;
    optional RowPartitionDType row_partition_dtype = 2;
  }
  enum RowPartitionDType { UNSPECIFIED = 0; INT64 = 1; INT32 = 2; }
  oneof kind {
    DenseTensor dense_tensor = 1;
    VarLenSparseTensor varlen_sparse_tensor = 2;
    SparseTensor sparse_tensor = 3;
    RaggedTensor ragged_tensor = 4;
  }
}
message TensorRepresentationGroup { map<string, TensorRepresentation> tensor_representation = 1; }
`;

// statistics.proto is proto3: its scalars are not written when zero, as TFDV's are not
const STATISTICS = `
message DatasetFeatureStatisticsList { repeated DatasetFeatureStatistics datasets = 1; }
message DatasetFeatureStatistics {
  string name = 1;
  uint64 num_examples = 2;
  double weighted_num_examples = 4;
  repeated FeatureNameStatistics features = 3;
}
message FeatureNameStatistics {
  enum Type { INT = 0; FLOAT = 1; STRING = 2; BYTES = 3; STRUCT = 4; }
  oneof field_id {
    string name = 1;
    Path path = 8;
  }
  Type type = 2;
  oneof stats {
    NumericStatistics num_stats = 3;
    StringStatistics string_stats = 4;
    BytesStatistics bytes_stats = 5;
    StructStatistics struct_stats = 7;
  }
  repeated CustomStatistic custom_stats = 6;
}
message WeightedCommonStatistics {
  double num_non_missing = 1;
  double num_missing = 2;
  double avg_num_values = 3;
  double tot_num_values = 4;
}
message CustomStatistic {
  string name = 1;
  oneof val {
    double num = 2;
    string str = 3;
    Histogram histogram = 4;
    RankHistogram rank_histogram = 5;
  }
}
message NumericStatistics {
  CommonStatistics common_stats = 1;
  double mean = 2;
  double std_dev = 3;
  uint64 num_zeros = 4;
  double min = 5;
  double median = 6;
  double max = 7;
  repeated Histogram histograms = 8;
  WeightedNumericStatistics weighted_numeric_stats = 9;
}
message StringStatistics {
  CommonStatistics common_stats = 1;
  uint64 unique = 2;
  message FreqAndValue {
    string value = 2;
    double frequency = 3;
  }
  repeated FreqAndValue top_values = 3;
  float avg_length = 4;
  RankHistogram rank_histogram = 5;
  WeightedStringStatistics weighted_string_stats = 6;
  string vocabulary_file = 7;
  uint64 invalid_utf8_count = 8;
}
message WeightedNumericStatistics {
  double mean = 1;
  double std_dev = 2;
  double median = 3;
  repeated Histogram histograms = 4;
}
message WeightedStringStatistics {
  repeated StringStatistics.FreqAndValue top_values = 1;
  RankHistogram rank_histogram = 2;
}
message BytesStatistics {
  CommonStatistics common_stats = 1;
  uint64 unique = 2;
  float avg_num_bytes = 3;
  float min_num_bytes = 4;
  float max_num_bytes = 5;
  int64 max_num_bytes_int = 6;
}
message StructStatistics { CommonStatistics common_stats = 1; }
message PresenceAndValencyStatistics {
  uint64 num_non_missing = 1;
  uint64 num_missing = 2;
  uint64 min_num_values = 3;
  uint64 max_num_values = 4;
  uint64 tot_num_values = 5;
}
message CommonStatistics {
  uint64 num_non_missing = 1;
  uint64 num_missing = 2;
  uint64 min_num_values = 3;
  uint64 max_num_values = 4;
  float avg_num_values = 5;
  uint64 tot_num_values = 8;
  Histogram num_values_histogram = 6;
  WeightedCommonStatistics weighted_common_stats = 7;
  Histogram feature_list_length_histogram = 9;
  repeated PresenceAndValencyStatistics presence_and_valency_stats = 10;
  repeated WeightedCommonStatistics weighted_presence_and_valency_stats = 11;
}
message Histogram {
  message Bucket {
    double low_value = 1;
    double high_value = 2;
    double sample_count = 4;
  }
  uint64 num_nan = 1;
  uint64 num_undefined = 2;
  repeated Bucket buckets = 3;
  enum HistogramType { STANDARD = 0; QUANTILES = 1; }
  HistogramType type = 4;
  string name = 5;
}
message RankHistogram {
  message Bucket {
    uint64 low_rank = 1;
    uint64 high_rank = 2;
    string label = 4;
    double sample_count = 5;
  }
  repeated Bucket buckets = 1;
  string name = 2;
}
`;

const ANOMALIES = `
message AnomalyInfo {
  optional Path path = 8;
  enum Severity { UNKNOWN = 0; WARNING = 1; ERROR = 2; }
  optional Severity severity = 5;
  optional string description = 2;
  optional string short_description = 6;
  enum Type {
    UNKNOWN_TYPE = 0; MULTIPLE_REASONS = 82;
    BOOL_TYPE_BIG_INT = 1; BOOL_TYPE_BYTES_NOT_INT = 2; BOOL_TYPE_BYTES_NOT_STRING = 3; BOOL_TYPE_FLOAT_NOT_INT = 4;
    BOOL_TYPE_FLOAT_NOT_STRING = 5; BOOL_TYPE_INT_NOT_STRING = 6; BOOL_TYPE_SMALL_INT = 7; BOOL_TYPE_STRING_NOT_INT = 8;
    BOOL_TYPE_UNEXPECTED_STRING = 9; BOOL_TYPE_UNEXPECTED_FLOAT = 52;
    ENUM_TYPE_BYTES_NOT_STRING = 10; ENUM_TYPE_FLOAT_NOT_STRING = 11; ENUM_TYPE_INT_NOT_STRING = 12; ENUM_TYPE_INVALID_UTF8 = 13;
    ENUM_TYPE_UNEXPECTED_STRING_VALUES = 14;
    FEATURE_TYPE_HIGH_NUMBER_VALUES = 15; FEATURE_TYPE_LOW_FRACTION_PRESENT = 16; FEATURE_TYPE_LOW_NUMBER_PRESENT = 17;
    FEATURE_TYPE_LOW_NUMBER_VALUES = 18; FEATURE_TYPE_NOT_PRESENT = 19; FEATURE_TYPE_NO_VALUES = 20;
    FEATURE_TYPE_UNEXPECTED_REPEATED = 21; FEATURE_TYPE_HIGH_UNIQUE = 59; FEATURE_TYPE_LOW_UNIQUE = 60; FEATURE_TYPE_NO_UNIQUE = 61;
    FLOAT_TYPE_BIG_FLOAT = 22; FLOAT_TYPE_NOT_FLOAT = 23; FLOAT_TYPE_SMALL_FLOAT = 24; FLOAT_TYPE_STRING_NOT_FLOAT = 25;
    FLOAT_TYPE_NON_STRING = 26; FLOAT_TYPE_UNKNOWN_TYPE_NUMBER = 27; FLOAT_TYPE_HAS_NAN = 53; FLOAT_TYPE_HAS_INF = 62;
    INT_TYPE_BIG_INT = 28; INT_TYPE_INT_EXPECTED = 29; INT_TYPE_NOT_INT_STRING = 30; INT_TYPE_NOT_STRING = 31;
    INT_TYPE_SMALL_INT = 32; INT_TYPE_STRING_EXPECTED = 33; INT_TYPE_UNKNOWN_TYPE_NUMBER = 34;
    LOW_SUPPORTED_IMAGE_FRACTION = 64;
    SCHEMA_MISSING_COLUMN = 35; SCHEMA_NEW_COLUMN = 36; SCHEMA_TRAINING_SERVING_SKEW = 37;
    STRING_TYPE_NOW_FLOAT = 38; STRING_TYPE_NOW_INT = 39;
    COMPARATOR_CONTROL_DATA_MISSING = 40; COMPARATOR_TREATMENT_DATA_MISSING = 41; COMPARATOR_L_INFTY_HIGH = 42;
    COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH = 63;
    NO_DATA_IN_SPAN = 43;
    SPARSE_FEATURE_MISSING_VALUE = 44; SPARSE_FEATURE_MISSING_INDEX = 45; SPARSE_FEATURE_LENGTH_MISMATCH = 46;
    SPARSE_FEATURE_NAME_COLLISION = 47; SEMANTIC_DOMAIN_UPDATE = 48;
    COMPARATOR_LOW_NUM_EXAMPLES = 49; COMPARATOR_HIGH_NUM_EXAMPLES = 50; DATASET_LOW_NUM_EXAMPLES = 51; DATASET_HIGH_NUM_EXAMPLES = 58;
    WEIGHTED_FEATURE_NAME_COLLISION = 54; WEIGHTED_FEATURE_MISSING_VALUE = 55; WEIGHTED_FEATURE_MISSING_WEIGHT = 56;
    WEIGHTED_FEATURE_LENGTH_MISMATCH = 57;
    VALUE_NESTEDNESS_MISMATCH = 65; DOMAIN_INVALID_FOR_TYPE = 66; FEATURE_MISSING_NAME = 67; FEATURE_MISSING_TYPE = 68;
    INVALID_SCHEMA_SPECIFICATION = 69; INVALID_DOMAIN_SPECIFICATION = 81; UNEXPECTED_DATA_TYPE = 70;
    SEQUENCE_VALUE_TOO_FEW_OCCURRENCES = 71; SEQUENCE_VALUE_TOO_MANY_OCCURRENCES = 72; SEQUENCE_VALUE_TOO_SMALL_FRACTION = 73;
    SEQUENCE_VALUE_TOO_LARGE_FRACTION = 74; FEATURE_COVERAGE_TOO_LOW = 75; FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH = 76;
    NLP_WRONG_LOCATION = 77; EMBEDDING_SHAPE_INVALID = 78; MAX_IMAGE_BYTE_SIZE_EXCEEDED = 79; INVALID_FEATURE_SHAPE = 80;
    STATS_NOT_AVAILABLE = 83; DERIVED_FEATURE_BAD_LIFECYCLE = 84; DERIVED_FEATURE_INVALID_SOURCE = 85; CUSTOM_VALIDATION = 86;
  }
  message Reason {
    optional Type type = 1 [default = UNKNOWN_TYPE];
    optional string short_description = 2;
    optional string description = 3;
  }
  repeated Reason reason = 7;
}
message DriftSkewInfo {
  message Measurement {
    enum Type { UNKNOWN = 0; L_INFTY = 1; JENSEN_SHANNON_DIVERGENCE = 2; }
    optional Type type = 1;
    optional double value = 2;
    optional double threshold = 3;
  }
  optional Path path = 1;
  repeated Measurement drift_measurements = 2;
  repeated Measurement skew_measurements = 3;
}
message Anomalies {
  oneof baseline_schema {
    Schema baseline = 1;
  }
  enum AnomalyNameFormat { UNKNOWN = 0; SERIALIZED_PATH = 1; }
  optional AnomalyNameFormat anomaly_name_format = 7;
  map<string, AnomalyInfo> anomaly_info = 2;
  optional AnomalyInfo dataset_anomaly_info = 8;
  optional bool data_missing = 3;
  repeated DriftSkewInfo drift_skew_info = 9;
}
`;

const PACKAGE = 'tensorflow.metadata.v0';

function parsed(syntax: 'proto2' | 'proto3', body: string, into: protobuf.Root): void {
  protobuf.parse(`syntax = "${syntax}";\npackage ${PACKAGE};\n${body}`, into, { keepCase: true });
}

/** Every message above, resolved once (a field's packing and defaults are settled on resolution). */
export const TFMD = (() => {
  const root = new protobuf.Root();
  parsed('proto2', PATH, root);
  parsed('proto2', SCHEMA, root);
  parsed('proto3', STATISTICS, root);
  parsed('proto2', ANOMALIES, root);
  return root.resolveAll();
})();

export const messageType = (name: string): protobuf.Type => TFMD.lookupType(`${PACKAGE}.${name}`);

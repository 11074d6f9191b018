import { z } from 'zod';
import { eachOnce, WebhookUrl } from './common';

const probability = z.number().min(0).max(1);

export const MonitoringSettings = z
  .strictObject({
    windowHours: z.number().int().min(1).max(720).default(24).describe('the current window that alerts judge, in hours'),
    baselineDays: z.number().int().min(1).max(90).default(7).describe('the reference window just before it, in days'),
    minLabels: z.number().int().min(5).max(100_000).default(30).describe('labels a slice needs in each window before its accuracy is judged'),
    accuracyMargin: probability
      .default(0.05)
      .describe(
        'alert when a slice’s accuracy (or, for another kind of routing question, its F1, within-one or exact accuracy) falls at least this far below its baseline…',
      ),
    maeRise: z
      .number()
      .gt(0)
      .max(100)
      .default(0.2)
      .describe('…or, for a numeric routing question, when its MAE rises at least this share above its baseline (0.2: 20%)…'),
    significance: z.number().gt(0).max(0.5).default(0.05).describe('…and a one-sided test says the fall is not chance at this level'),
    drift: z
      .strictObject({
        numericThreshold: probability.default(0.1).describe('Jensen-Shannon divergence (bits) above which a numeric feature has drifted'),
        categoricalThreshold: probability.default(0.1).describe('L-infinity distance above which a categorical feature has drifted'),
        features: z.record(z.string().min(1).max(128), probability).default({}).describe('a threshold per feature, over the two above'),
        minCount: z.number().int().min(10).max(100_000).default(100).describe('predictions each window needs before drift is judged'),
        sliceKeys: z.array(z.string().min(1).max(64)).max(10).optional().describe('slice keys drift is also measured within (default: all)'),
      })
      .default({ numericThreshold: 0.1, categoricalThreshold: 0.1, features: {}, minCount: 100 }),
    anomalyRate: probability
      .default(0.01)
      .describe(
        'alert when more than this share of the window’s predictions has one kind of anomaly on a feature (without an uploaded schema.pbtxt: with one, TFDV’s checks of the window’s statistics against it raise schema skew alerts instead)',
      ),
    skew: z
      .strictObject({
        featureDiffRate: probability
          .default(0.01)
          .describe(
            'feature skew: alert when a feature differs (mismatched, or on one side only) in more than this share of the examples found in both training data and serving traffic',
          ),
        minPairs: z.number().int().min(1).max(100_000).default(20).describe('examples in both a feature (or a slice) needs before its feature skew is judged'),
      })
      .default({ featureDiffRate: 0.01, minPairs: 20 })
      .describe(
        'training–serving skew. Distribution skew is judged by the uploaded schema’s skew_comparator, else by the drift thresholds above; schema skew by the uploaded schema.pbtxt',
      ),
    boost: z
      .strictObject({
        factor: z.number().gt(1).max(100).default(5).describe('an alert on a slice multiplies its routing boost by this'),
        hours: z.number().int().min(1).max(720).default(24).describe('for this long'),
      })
      .default({ factor: 5, hours: 24 }),
    webhook: z
      .strictObject({ url: WebhookUrl, secret: z.string().min(16).max(200) })
      .optional()
      .describe('where alerts are POSTed (signed as export deliveries are); absent: the export webhook, if any'),
  })
  .meta({ id: 'MonitoringSettings' });
export type MonitoringSettings = z.infer<typeof MonitoringSettings>;

export const MonitoringQuery = z.strictObject({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(48)
    .describe('how far back the charts go, in hours (hourly points up to 72 h, daily beyond)'),
});
export type MonitoringQuery = z.infer<typeof MonitoringQuery>;

export const Estimate = z
  .object({
    value: z.number(),
    low: z.number().describe('95% interval (Wilson, on the effective size)'),
    high: z.number(),
    n: z.number().int().describe('labels it rests on'),
    effectiveN: z.number().describe('what the sampling weights leave of n'),
  })
  .meta({ id: 'Estimate' });
export type Estimate = z.infer<typeof Estimate>;

export const MetricEstimate = z
  .object({
    value: z.number(),
    standardError: z.number().describe('of the weighted estimate, by linearisation'),
    n: z.number().int().describe('labels it rests on'),
    effectiveN: z.number().describe('what the sampling weights leave of n'),
  })
  .meta({ id: 'MetricEstimate' });
export type MetricEstimate = z.infer<typeof MetricEstimate>;

const HeadlineMetric = z.enum(['micro_f1', 'mae', 'within_one_accuracy', 'span_f1', 'exact_accuracy', 'ndcg']);

const Headline = z
  .object({
    metric: HeadlineMetric.describe('the figure alerts watch for this kind of routing question'),
    better: z.enum(['higher', 'lower']),
    value: MetricEstimate.nullable().describe('the current window'),
    baseline: MetricEstimate.nullable().describe('the same slice in the reference window'),
    series: z.array(z.object({ at: z.string(), value: MetricEstimate })),
  })
  .meta({ id: 'HeadlineMetric' });

const ratioOrNull = z.number().nullable();
const PrecisionRecall = { precision: ratioOrNull, recall: ratioOrNull, f1: ratioOrNull };
const measured = { n: z.number().int().describe('labels measured in the current window'), effectiveN: z.number() };

const MultiLabelFigures = z.object({
  ...measured,
  subsetAccuracy: z.number().describe('the share of label sets exactly the model’s'),
  hammingLoss: z.number().describe('the share of the labels the model got wrong, per item'),
  micro: z.object(PrecisionRecall),
  macroF1: ratioOrNull.describe('the mean of the per-label F1s that are defined'),
  perLabel: z.array(z.object({ label: z.string(), ...PrecisionRecall, support: z.number().describe('weight of the items labelled with it') })),
});
const NumericFigures = z.object({
  ...measured,
  mae: z.number(),
  rmse: z.number(),
  coverage: ratioOrNull.describe('the share of labels inside the model’s interval (or ±1.96 std); null when the model sent neither'),
  withInterval: z.number().int().describe('labels whose prediction had an interval or a std'),
});
const RatingFigures = z.object({
  ...measured,
  exactAccuracy: z.number().describe('the scale point nearest the model’s value is the label'),
  withinOneAccuracy: z.number().describe('…or one point of the scale from it'),
  spearman: ratioOrNull.describe('Spearman’s ρ between the model’s value and the label'),
});
const SpansFigures = z.object({ ...measured, ...PrecisionRecall }).describe('spans matched exactly (start, end, label), micro-averaged');
const TextFigures = z.object({
  ...measured,
  exactAccuracy: z.number().describe('the model’s text is the label’s, ends trimmed: no partial credit'),
  meanEditDistance: z
    .number()
    .describe('how far the labels moved the model’s text (a generation’s first response): the mean normalized edit distance, 0 kept to 1 nothing kept'),
});
const RankingFigures = z.object({
  ...measured,
  k: z.number().int().describe('the cutoff: NDCG@k and precision@k'),
  ndcg: ratioOrNull.describe('NDCG@k of the model’s order (by score) against the graded items, over the lists with a relevant item'),
  mrr: z.number().describe('the reciprocal rank of the first relevant item, 0 when none is'),
  precisionAtK: z.number().describe('the share of relevant items in the model’s top k'),
  withoutRelevant: z.number().int().describe('lists no rater graded any item of as relevant (left out of NDCG)'),
});

/** The routing question's own figures when it is not a label question: the headline over time, and the current window's figures. */
export const KindMetrics = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('multi_label'), headline: Headline, current: MultiLabelFigures.nullable() }),
    z.object({ kind: z.literal('numeric'), headline: Headline, current: NumericFigures.nullable() }),
    z.object({ kind: z.literal('rating'), headline: Headline, current: RatingFigures.nullable() }),
    z.object({ kind: z.literal('spans'), headline: Headline, current: SpansFigures.nullable() }),
    z.object({ kind: z.literal('text'), headline: Headline, current: TextFigures.nullable() }),
    z.object({ kind: z.literal('ranking'), headline: Headline, current: RankingFigures.nullable() }),
  ])
  .meta({ id: 'KindMetrics' });
export type KindMetrics = z.infer<typeof KindMetrics>;

export const EstimateSupport = z
  .object({
    explored: z.number().int().describe('labels of the current window chosen by a random draw (inclusion probability below 1)'),
    coverage: z
      .number()
      .nullable()
      .describe(
        'Σ 1/inclusion probability over the window’s labels ÷ its predictions: the share of traffic the labels stand for (null: no predictions counted)',
      ),
    supported: z
      .boolean()
      .describe(
        'the labelled estimate stands for the traffic: at least minLabels explored labels, or a coverage of at least 0.5; when false it describes the routed predictions only and is not a headline',
      ),
  })
  .meta({ id: 'EstimateSupport' });
export type EstimateSupport = z.infer<typeof EstimateSupport>;

export const ConfidenceBasedEstimate = z
  .object({
    value: z.number().describe('the mean over the window’s predictions of their calibrated chance of being right'),
    low: z.number().describe('95% interval from the outcomes’ spread alone, the calibration taken as exact'),
    high: z.number(),
    predictions: z.number().int().describe('the predictions of the window it was worked out over (the newest 20,000 at most)'),
    calibratedShare: z
      .number()
      .describe('the share of them whose confidence bin is calibrated from human labels; the rest take the model’s confidence as it is'),
  })
  .meta({ id: 'ConfidenceBasedEstimate' });
export type ConfidenceBasedEstimate = z.infer<typeof ConfidenceBasedEstimate>;

export const SliceAccuracy = z
  .object({
    modelVersion: z.string(),
    sliceKey: z.string().describe('"*" for all traffic'),
    sliceValue: z.string(),
    accuracy: Estimate.nullable(),
    baseline: Estimate.nullable().describe('the same slice in the reference window'),
    calibrationError: z.number().nullable().describe('expected calibration error (10 bins)'),
    perClass: z.array(z.object({ label: z.string(), precision: Estimate.nullable(), recall: Estimate.nullable() })),
    series: z.array(z.object({ at: z.string(), accuracy: Estimate })),
    metrics: KindMetrics.nullable().describe(
      'the routing question’s figures by its kind (labels_read.answers against the model’s output); null for a label question, which accuracy describes',
    ),
    support: EstimateSupport,
    confidenceBased: ConfidenceBasedEstimate.nullable().describe(
      'accuracy estimated without labels from the model’s calibrated confidence (CBPE); null for another kind than label, or a window without predictions',
    ),
  })
  .meta({ id: 'SliceAccuracy' });
export type SliceAccuracy = z.infer<typeof SliceAccuracy>;

export const FeatureDrift = z
  .object({
    feature: z.string(),
    kind: z.enum(['numeric', 'categorical']),
    metric: z.enum(['jensen_shannon', 'l_infinity']),
    threshold: z.number(),
    value: z.number().nullable().describe('the current window against the baseline'),
    drifted: z.boolean(),
    baseline: z
      .enum(['reference_window', 'uploaded'])
      .describe(
        'what the current window is compared with: the reference window (drift); "uploaded" is no longer given, uploaded statistics are training’s and measure skew',
      ),
    comparator: z
      .enum(['schema', 'settings'])
      .describe(
        'schema: the uploaded schema.pbtxt’s drift_comparator gives the metric and threshold, measured by TFDV’s definitions on the statistics of each side; settings: the project’s thresholds, numbers binned on the reference’s deciles',
      ),
    series: z.array(z.object({ at: z.string(), value: z.number(), count: z.number().int() })),
    slices: z.array(z.object({ slice: z.string(), value: z.number(), count: z.number().int() })).describe('the same within each slice value, worst first'),
  })
  .meta({ id: 'FeatureDrift' });
export type FeatureDrift = z.infer<typeof FeatureDrift>;

export const FeatureAnomalies = z
  .object({ feature: z.string(), missing: z.number().int(), wrongType: z.number().int(), newCategory: z.number().int() })
  .meta({ id: 'FeatureAnomalies' });

/** tensorflow_metadata's AnomalyInfo.Type names Backflow reports. */
export const TfdvAnomalyType = z.enum([
  'SCHEMA_MISSING_COLUMN',
  'SCHEMA_NEW_COLUMN',
  'UNEXPECTED_DATA_TYPE',
  'FEATURE_TYPE_LOW_FRACTION_PRESENT',
  'FEATURE_TYPE_LOW_NUMBER_PRESENT',
  'FEATURE_TYPE_NOT_PRESENT',
  'FEATURE_TYPE_LOW_NUMBER_VALUES',
  'FEATURE_TYPE_HIGH_NUMBER_VALUES',
  'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
  'INT_TYPE_SMALL_INT',
  'INT_TYPE_BIG_INT',
  'FLOAT_TYPE_SMALL_FLOAT',
  'FLOAT_TYPE_BIG_FLOAT',
  'FLOAT_TYPE_HAS_NAN',
  'FLOAT_TYPE_HAS_INF',
  'FEATURE_TYPE_HIGH_UNIQUE',
  'FEATURE_TYPE_LOW_UNIQUE',
  'COMPARATOR_CONTROL_DATA_MISSING',
  'COMPARATOR_L_INFTY_HIGH',
  'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH',
]);
export type TfdvAnomalyType = z.infer<typeof TfdvAnomalyType>;

export const TfdvFeatureAnomaly = z
  .object({
    feature: z.string(),
    types: z.array(TfdvAnomalyType),
    shortDescription: z.string(),
    description: z.string().describe('TFDV’s text; for a masked feature, only admins get the values it names'),
    slices: z.array(z.string()).describe('the slice values whose own statistics show the same anomaly types (schema checks only)'),
  })
  .meta({ id: 'TfdvFeatureAnomaly' });
export type TfdvFeatureAnomaly = z.infer<typeof TfdvFeatureAnomaly>;

export const FeatureSkewFigures = z
  .object({
    feature: z.string(),
    trainingCount: z.number().int().describe('examples of both sides whose training example has the feature'),
    servingCount: z.number().int(),
    matchCount: z.number().int().describe('present on both sides with the same values'),
    trainingOnly: z.number().int(),
    servingOnly: z.number().int(),
    mismatchCount: z.number().int(),
    diffCount: z.number().int().describe('trainingOnly + servingOnly + mismatchCount, as TFDV’s FeatureSkew counts it'),
    diffRate: z.number().describe('diffCount over the examples of both sides'),
    slices: z
      .array(z.object({ slice: z.string(), pairs: z.number().int(), diffCount: z.number().int(), diffRate: z.number() }))
      .describe('per slice value of the serving side, the worst first (up to 20)'),
  })
  .meta({ id: 'FeatureSkewFigures' });

export const FeatureSkewReport = z
  .object({
    measuredAt: z.string(),
    identifier: z.string().describe('the training examples’ feature holding the prediction id'),
    ignored: z.array(z.string()).describe('features not compared'),
    floatRoundDigits: z.number().int().nullable(),
    trainingExamples: z.number().int(),
    withoutIdentifier: z.number().int().describe('training examples without a single identifier value (not joined)'),
    duplicateIdentifiers: z.number().int().describe('identifier values held by more than one training example (not joined, as TFDV refuses them)'),
    pairs: z.number().int().describe('training examples whose prediction was found in serving traffic'),
    features: z.array(FeatureSkewFigures).describe('the worst first'),
    samples: z
      .array(
        z.object({
          id: z.string(),
          slice: z.record(z.string(), z.string()),
          mismatched: z.array(z.string()),
          trainingOnly: z.array(z.string()),
          servingOnly: z.array(z.string()),
          training: z.record(z.string(), z.unknown()).describe('the skewed features’ values (masked ones for admins only)'),
          serving: z.record(z.string(), z.unknown()),
        }),
      )
      .describe('up to 10 skewed pairs (TFDV’s SkewPair)'),
  })
  .meta({ id: 'FeatureSkewReport' });
export type FeatureSkewReport = z.infer<typeof FeatureSkewReport>;

export const TrainingExamplesQuery = z.strictObject({
  identifier: z.string().min(1).max(128).default('prediction_id').describe('the feature of each training example that holds its prediction’s id'),
  ignore: z
    .string()
    .max(10_000)
    .optional()
    .describe(
      'features not compared, comma-separated (besides the identifier and the columns a Backflow export adds: model_version, the answers, label_source, weight)',
    ),
  floatRoundDigits: z.coerce
    .number()
    .int()
    .min(0)
    .max(15)
    .optional()
    .describe('round floats to this many decimals before comparing (TFDV’s float_round_ndigits)'),
});
export type TrainingExamplesQuery = z.infer<typeof TrainingExamplesQuery>;

export const WindowArtifactQuery = z.strictObject({
  format: z
    .enum(['json', 'binary', 'text'])
    .optional()
    .describe('json (default), binary (application/x-protobuf) or text (protobuf text format); the Accept header chooses when absent'),
});
export type WindowArtifactQuery = z.infer<typeof WindowArtifactQuery>;

export const MonitoringAlert = z
  .object({
    id: z.uuid(),
    kind: z
      .enum(['accuracy', 'drift', 'anomaly', 'ctr', 'skew'])
      .describe(
        'accuracy: the model’s quality on labels, whatever the figure (see metric); ctr: a ranking slice’s click-through falling, suddenly or slowly; skew: serving against training (schema, distribution or feature skew)',
      ),
    anomalyType: TfdvAnomalyType.nullable().describe('TFDV’s name for what a drift, anomaly or schema skew alert found'),
    metric: z
      .enum(['accuracy', ...HeadlineMetric.options, 'win_rate'])
      .nullable()
      .describe(
        'the figure a model-quality alert watches: accuracy (a label question), its kind’s headline, or win_rate (a new version losing to the champion in raters’ preferences); null for drift and anomalies',
      ),
    slice: z.string().nullable().describe('"key=value" when the alert is about one slice'),
    feature: z.string().nullable(),
    message: z.string(),
    value: z.number(),
    baseline: z.number().nullable(),
    threshold: z.number(),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
  })
  .meta({ id: 'MonitoringAlert' });
export type MonitoringAlert = z.infer<typeof MonitoringAlert>;

export const FeatureSchemaField = z.strictObject({
  name: z.string().min(1).max(128),
  type: z.enum(['int', 'float', 'string', 'bool', 'int_list', 'float_list', 'string_list', 'bool_list']),
  required: z.boolean().default(false),
  domain: z.array(z.string().max(1_000)).max(10_000).optional(),
});
export const FeatureSchemaRequest = z
  .strictObject({
    features: z
      .array(FeatureSchemaField)
      .max(1_000)
      .superRefine(
        eachOnce(
          (feature) => feature.name,
          (name) => `feature "${name}" appears twice`,
          ['name'],
        ),
      ),
  })
  .meta({ id: 'FeatureSchema' });
export type FeatureSchemaRequest = z.infer<typeof FeatureSchemaRequest>;
export const FeatureSchemaReply = z
  .object({
    features: z.array(
      FeatureSchemaField.extend({ masked: z.boolean().optional().describe("one of the project's masked fields: its domain is shown to admins only") }),
    ),
    source: z.enum(['inferred', 'uploaded']).nullable(),
    updatedAt: z.string().nullable(),
    notes: z.array(z.string()).optional().describe('what an uploaded schema.pbtxt held that was not read'),
  })
  .meta({ id: 'FeatureSchemaReply' });
export type FeatureSchemaReply = z.infer<typeof FeatureSchemaReply>;

export const BaselineFeature = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('numeric'),
    edges: z.array(z.number()).min(1).max(1_000).describe('bin edges, ascending: a value at or under edge i falls in bin i, above the last in the last bin'),
    counts: z.array(z.number().min(0)).max(1_001).describe('one count per bin: edges.length + 1'),
  }),
  z.strictObject({
    kind: z.literal('categorical'),
    frequencies: z.record(z.string().max(1_000), z.number().min(0)).describe('count (or share) of each value'),
  }),
]);
export type BaselineFeature = z.infer<typeof BaselineFeature>;

export const BaselineStatisticsRequest = z
  .strictObject({ features: z.record(z.string().min(1).max(128), BaselineFeature) })
  .superRefine((request, ctx) => {
    for (const [name, f] of Object.entries(request.features)) {
      if (f.kind !== 'numeric') continue;
      if (f.counts.length !== f.edges.length + 1)
        ctx.addIssue({ code: 'custom', path: ['features', name, 'counts'], message: 'one count per bin: edges.length + 1' });
      if (f.edges.some((e, i) => i > 0 && e <= f.edges[i - 1]))
        ctx.addIssue({ code: 'custom', path: ['features', name, 'edges'], message: 'edges must ascend' });
    }
  })
  .meta({ id: 'BaselineStatistics' });
export type BaselineStatisticsRequest = z.infer<typeof BaselineStatisticsRequest>;

export const BaselineStatisticsReply = z
  .object({
    features: z.array(z.string()).describe('the features that now have uploaded statistics'),
    notes: z.array(z.string()).optional().describe('what uploaded TFDV statistics held that was not taken (another dataset, a feature without a histogram)'),
  })
  .meta({ id: 'BaselineStatisticsReply' });
export type BaselineStatisticsReply = z.infer<typeof BaselineStatisticsReply>;

export const MonitoringReply = z
  .object({
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['hour', 'day']),
    window: z.object({ from: z.string(), baselineFrom: z.string() }).describe('what alerts judge: the current window and the reference window before it'),
    labels: z
      .object({ human: z.number().int(), feedback: z.number().int() })
      .describe('labels in the chart range; estimates rest on the human ones, weighted by 1 / inclusion probability'),
    accuracy: z.array(SliceAccuracy).describe('per model version × slice key × value; "*" rows cover all traffic'),
    feedbackAccuracy: Estimate.nullable().describe('the share of feedback labels that agree with the prediction (not a designed sample: unweighted)'),
    drift: z.array(FeatureDrift),
    anomalies: z.object({
      examined: z.number().int(),
      features: z.array(FeatureAnomalies),
      tfdv: z
        .array(TfdvFeatureAnomaly)
        .describe(
          'TFDV’s validation of the window’s statistics against the schema (the uploaded schema.pbtxt, in its SERVING environment when it has environments; else the monitoring schema), its drift comparators against the reference window and its skew comparators against the training statistics: GET …/monitoring/anomalies gives it as an Anomalies proto',
        ),
    }),
    skew: z
      .object({
        schema: z
          .enum(['tfdv', 'json', 'inferred'])
          .nullable()
          .describe('where the schema serving is checked against comes from (tfdv: an uploaded schema.pbtxt)'),
        environment: z.string().nullable(),
        trainingStatistics: z.boolean().describe('training statistics were uploaded (PUT …/monitoring/baseline)'),
        distribution: z
          .array(FeatureDrift.omit({ baseline: true, drifted: true }).extend({ skewed: z.boolean() }))
          .describe('per feature with training statistics: the window (overall, per chart bucket, per slice) against them'),
        feature: FeatureSkewReport.nullable().describe('the last comparison of uploaded training examples with the predictions of the same ids'),
      })
      .describe('training–serving skew; schema skew is `anomalies.tfdv` against an uploaded schema'),
    alerts: z.array(MonitoringAlert),
    boosts: z.array(z.object({ slice: z.string(), factor: z.number(), until: z.string() })),
  })
  .meta({ id: 'MonitoringReply' });
export type MonitoringReply = z.infer<typeof MonitoringReply>;

export const EvaluateReply = z
  .object({ raised: z.array(MonitoringAlert), resolved: z.number().int(), open: z.number().int() })
  .meta({ id: 'MonitoringEvaluation' });
export type EvaluateReply = z.infer<typeof EvaluateReply>;

export const ClickQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(28).describe('the window, ending now'),
  bucket: z.enum(['hour', 'day']).default('day').describe("the series' step"),
});
export type ClickQuery = z.infer<typeof ClickQuery>;

const ClickRate = {
  impressions: z.number().int().describe('candidates shown'),
  clicks: z.number().int().describe('candidates with an event of a click type'),
  ctr: ratioOrNull,
  low: ratioOrNull.describe('95% Wilson interval'),
  high: ratioOrNull,
};

/** A ranking project's clicks over a window: per position (raw, and the examination probability), per model version, per slice over time. */
export const ClickReport = z
  .object({
    question: z.string(),
    clickTypes: z.array(z.string()).describe('the event types a feedback rule grades above the lowest grade: what counts as a click'),
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['hour', 'day']),
    lists: z.number().int(),
    ...ClickRate,
    byPosition: z.array(z.object({ position: z.number().int(), ...ClickRate })),
    propensity: z
      .object({
        method: z.literal('regression_em'),
        converged: z.boolean(),
        iterations: z.number().int(),
        positions: z.array(
          z.object({
            position: z.number().int(),
            value: z.number().describe('the examination probability at this position over that at position 1'),
            low: z.number(),
            high: z.number(),
            impressions: z.number().int(),
          }),
        ),
      })
      .nullable()
      .describe('null with no click to learn from'),
    byModelVersion: z.array(z.object({ modelVersion: z.string(), ...ClickRate })),
    bySlice: z.array(
      z.object({
        slice: z.string().describe('"key=value", or "*" for all traffic'),
        ...ClickRate,
        series: z.array(z.object({ at: z.string(), impressions: z.number().int(), clicks: z.number().int(), ctr: ratioOrNull })),
        degradation: z.object({
          kind: z.enum(['sudden', 'slow', 'none']).describe('sudden: a CUSUM alarm a step explains; slow: a significant falling trend'),
          alarmAt: z.string().nullable(),
          changeAt: z.string().nullable().describe('where the drop is estimated to begin'),
          slopePerWeek: z.number().nullable(),
          pValue: z.number().nullable(),
        }),
      }),
    ),
  })
  .meta({ id: 'ClickReport' });
export type ClickReport = z.infer<typeof ClickReport>;

const Interval = { value: z.number(), low: z.number(), high: z.number() };

export const FeedbackSignalsQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(7).describe('predictions made in this window, ending now'),
});
export type FeedbackSignalsQuery = z.infer<typeof FeedbackSignalsQuery>;

/** What users did with each model version's predictions: implicit feedback as rates, and how far their edits moved the text. */
export const FeedbackSignals = z
  .object({
    days: z.number().int(),
    from: z.string().describe('predictions made from this time (occurred_at)'),
    types: z.array(z.string()).describe('the event types seen, the commonest first (at most 12)'),
    versions: z.array(
      z.object({
        modelVersion: z.string(),
        predictions: z.number().int(),
        events: z.array(
          z.object({
            type: z.string(),
            predictions: z.number().int().describe('predictions with at least one event of the type'),
            events: z.number().int(),
            rate: z.object(Interval).describe('the share of the predictions with one, with its 95% Wilson interval'),
          }),
        ),
        edits: z
          .object({
            events: z.number().int().describe('edits measured (events whose edit distance is stored)'),
            meanDistance: z.number().describe('mean normalized edit distance: 0 the response kept, 1 nothing of it kept'),
            low: z.number().describe('95% interval of the mean (normal)'),
            high: z.number(),
          })
          .nullable(),
      }),
    ),
  })
  .meta({ id: 'FeedbackSignals' });
export type FeedbackSignals = z.infer<typeof FeedbackSignals>;

export const PreferenceQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).default(28).describe('the labels of this window, ending now'),
  champion: z.string().min(1).max(128).optional().describe('the model version the others are measured against (default: the first seen)'),
  slice: z
    .string()
    .regex(/^[^=]+=.*$/, 'key=value')
    .max(300)
    .optional()
    .describe('only predictions of this slice, as key=value'),
});
export type PreferenceQuery = z.infer<typeof PreferenceQuery>;

/** Raters' preferences between two responses, as Bradley–Terry strengths of the model versions that wrote them. */
export const PreferenceReport = z
  .object({
    question: z.string().describe('the preference question'),
    of: z.string().describe('the generation question whose responses it compares'),
    slice: z.string().nullable(),
    labels: z.number().int().describe('decided preferences in the window'),
    comparisons: z.number().int().describe('those between two different model versions (a tie counts half a win each; both bad says nothing of the order)'),
    bothBad: z.number().int(),
    sameVersion: z.number().int().describe('preferences between two responses of one version (samples): no comparison of versions'),
    champion: z.string().nullable(),
    versions: z.array(
      z.object({
        modelVersion: z.string(),
        logStrength: z.number().describe('Bradley–Terry log-strength relative to the champion (0 for it)'),
        low: z.number().describe('95% Wald interval'),
        high: z.number(),
        winProbability: z.object(Interval).describe('the chance of beating the champion in one comparison'),
        comparisons: z.number().int(),
        wins: z.number().describe('ties count half'),
      }),
    ),
    slices: z
      .array(
        z.object({
          slice: z.string().describe('key=value'),
          comparisons: z.number().int(),
          winProbability: z
            .object(Interval)
            .nullable()
            .describe("the newest version's chance of beating the champion from this slice's preferences alone (null: the two were not compared in it)"),
        }),
      )
      .describe('per slice, the most compared first (at most 20); empty for a report of one slice'),
    challenger: z
      .object({
        modelVersion: z.string().describe('the newest version compared with the champion'),
        comparisons: z.number().int(),
        winRate: z.number().describe('its direct win rate against the champion, ties half'),
        low: z.number().describe('95% Wilson interval'),
        high: z.number(),
        verdict: z.enum(['better', 'worse', 'undecided']).describe('the interval above ½, below ½, or across it'),
      })
      .nullable(),
  })
  .meta({ id: 'PreferenceReport' });
export type PreferenceReport = z.infer<typeof PreferenceReport>;

import { Foundation1764130000000 } from './1764130000000-foundation';
import { Capture1764140000000 } from './1764140000000-capture';
import { Routing1764150000000 } from './1764150000000-routing';
import { Labeling1764160000000 } from './1764160000000-labeling';
import { LabelingHotPath1764170000000 } from './1764170000000-labeling-hot-path';
import { Operations1764180000000 } from './1764180000000-operations';
import { Exports1764190000000 } from './1764190000000-exports';
import { QualityMonitoring1764200000000 } from './1764200000000-quality-monitoring';
import { Interop1764210000000 } from './1764210000000-interop';
import { LabelWriters1764220000000 } from './1764220000000-label-writers';
import { ExportMasking1764230000000 } from './1764230000000-export-masking';
import { LoginFailures1764240000000 } from './1764240000000-login-failures';
import { SchemaDefinitions1764250000000 } from './1764250000000-schema-definitions';
import { QuestionKinds1764260000000 } from './1764260000000-question-kinds';
import { GoldClaimIndex1764270000000 } from './1764270000000-gold-claim-index';
import { RankingTaskType1764280000000 } from './1764280000000-ranking-task-type';
import { FeedbackItem1764290000000 } from './1764290000000-feedback-item';
import { ClickAlerts1764300000000 } from './1764300000000-click-alerts';
import { ClickExamination1764310000000 } from './1764310000000-click-examination';
import { GenerationTaskType1764320000000 } from './1764320000000-generation-task-type';
import { FeedbackEditDistance1764330000000 } from './1764330000000-feedback-edit-distance';
import { PartitionedPredictions1764340000000 } from './1764340000000-partitioned-predictions';
import { PredictionPartitionsOutliveProjects1764350000000 } from './1764350000000-prediction-partitions-outlive-projects';
import { PredictionRollups1764360000000 } from './1764360000000-prediction-rollups';
import { PartitionedFeedbackEvents1764370000000 } from './1764370000000-partitioned-feedback-events';
import { PredictionsWithoutProjectKey1764380000000 } from './1764380000000-predictions-without-project-key';
import { RollupClicks1764390000000 } from './1764390000000-rollup-clicks';
import { SpanLabelsCheckedByStatement1764400000000 } from './1764400000000-span-labels-checked-by-statement';
import { OpenTasksIndex1764410000000 } from './1764410000000-open-tasks-index';
import { TfdvArtifacts1764420000000 } from './1764420000000-tfdv-artifacts';
import { ExportWriteScope1764430000000 } from './1764430000000-export-write-scope';
import { RoutingPredictionWindows1764450000000 } from './1764450000000-routing-prediction-windows';
import { PropagatedLabels1764500000000 } from './1764500000000-propagated-labels';
import { PredictionExternalIds1764530000000 } from './1764530000000-prediction-external-ids';
import { AccountsSsoAndPasswords1764510000000 } from './1764510000000-accounts-sso-and-passwords';
import { PredictionEmbedding1764490000000 } from './1764490000000-prediction-embedding';
import { PredictionCommittee1764480000000 } from './1764480000000-prediction-committee';
import { WeakLabels1764470000000 } from './1764470000000-weak-labels';
import { WeakSupervision1764460000000 } from './1764460000000-weak-supervision';
import { TrainingServingSkew1764440000000 } from './1764440000000-training-serving-skew';
import { Explorer1764540000000 } from './1764540000000-explorer';
import { LabelsPredictionDay1764550000000 } from './1764550000000-labels-prediction-day';
import { PredictionsConfidenceIndex1764560000000 } from './1764560000000-predictions-confidence-index';
import { LabelsPredictionFacts1764570000000 } from './1764570000000-labels-prediction-facts';
import { SpanLabelsCheckOneSpan1764580000000 } from './1764580000000-span-labels-check-one-span';
import { RetiredPartitions1764590000000 } from './1764590000000-retired-partitions';

/** Every migration, in order; listed explicitly so the build carries them with no glob at runtime. */
export const migrations = [
  Foundation1764130000000,
  Capture1764140000000,
  Routing1764150000000,
  Labeling1764160000000,
  LabelingHotPath1764170000000,
  Operations1764180000000,
  Exports1764190000000,
  QualityMonitoring1764200000000,
  Interop1764210000000,
  LabelWriters1764220000000,
  ExportMasking1764230000000,
  LoginFailures1764240000000,
  SchemaDefinitions1764250000000,
  QuestionKinds1764260000000,
  GoldClaimIndex1764270000000,
  RankingTaskType1764280000000,
  FeedbackItem1764290000000,
  ClickAlerts1764300000000,
  ClickExamination1764310000000,
  GenerationTaskType1764320000000,
  FeedbackEditDistance1764330000000,
  PartitionedPredictions1764340000000,
  PredictionPartitionsOutliveProjects1764350000000,
  PredictionRollups1764360000000,
  PartitionedFeedbackEvents1764370000000,
  PredictionsWithoutProjectKey1764380000000,
  RollupClicks1764390000000,
  SpanLabelsCheckedByStatement1764400000000,
  OpenTasksIndex1764410000000,
  TfdvArtifacts1764420000000,
  ExportWriteScope1764430000000,
  TrainingServingSkew1764440000000,
  RoutingPredictionWindows1764450000000,
  WeakSupervision1764460000000,
  WeakLabels1764470000000,
  PredictionCommittee1764480000000,
  PredictionEmbedding1764490000000,
  PropagatedLabels1764500000000,
  AccountsSsoAndPasswords1764510000000,
  PredictionExternalIds1764530000000,
  Explorer1764540000000,
  LabelsPredictionDay1764550000000,
  PredictionsConfidenceIndex1764560000000,
  LabelsPredictionFacts1764570000000,
  SpanLabelsCheckOneSpan1764580000000,
  RetiredPartitions1764590000000,
];

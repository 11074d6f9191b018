export * from './definitions';
export * from './kind';
export * from './questions';
export { binaryEntropy, codePointLength, lowerMedian, type NumberSuggestion } from './shared';
export {
  argmaxLabel,
  checkScores,
  labelKind,
  notNormalizedMessage,
  scoresFault,
  SUM_TOLERANCE,
  sumTolerance,
  type LabelSuggestion,
  type ScoresFault,
} from './kinds/label';
export { MULTI_LABEL_CUTOFF, multiLabelKind, type MultiLabelSuggestion } from './kinds/multi-label';
export { numericKind, numericTolerance } from './kinds/numeric';
export { ratingKind } from './kinds/rating';
export { rankingKind, relevantGrade, topProbabilities, ITEM_FEATURE_LIMITS, type Candidate, type ItemFeatures, type RankingSuggestion } from './kinds/ranking';
export { sortSpans, spansKind, type SpansSuggestion } from './kinds/spans';
export { textKind, trimText, type TextSuggestion } from './kinds/text';
export {
  generationKind,
  meanLogprobOf,
  MESSAGE_ROLES,
  TOKEN_LIMITS,
  type GeneratedResponse,
  type GeneratedToken,
  type GenerationSuggestion,
  type Message,
  type MessageRole,
} from './kinds/generation';
export { leftOf, PREFERENCES, preferenceKind } from './kinds/preference';
export * from './metrics';
export * from './label-studio';
export { luhnValid, maskPii, maskPiiDeep, PII_PATTERNS, type PiiPattern } from './pii';

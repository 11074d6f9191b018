import { z } from 'zod';
import { exceedsJsonDepth, MAX_JSON_DEPTH, Timestamp } from './common';
import { TaskReason } from './routing';

export const FEATURE_LIMITS = {
  features: 512,
  keyLength: 128,
  stringLength: 65_536,
  arrayLength: 4_096,
  sliceKeys: 32,
  sliceValueLength: 256,
  metadataBytes: 16_384,
} as const;

type Scalar = number | string | boolean;
export type FeatureValue = Scalar | Scalar[];

const isScalar = (value: unknown): value is Scalar =>
  (typeof value === 'number' && Number.isFinite(value)) ||
  (typeof value === 'string' && value.length <= FEATURE_LIMITS.stringLength) ||
  typeof value === 'boolean';
const isFeatureValue = (value: unknown): value is FeatureValue =>
  isScalar(value) || (Array.isArray(value) && value.length <= FEATURE_LIMITS.arrayLength && value.every(isScalar));
const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const scalarJsonSchema = [{ type: 'number' }, { type: 'string', maxLength: FEATURE_LIMITS.stringLength }, { type: 'boolean' }];
const featureJsonSchema = { anyOf: [...scalarJsonSchema, { type: 'array', maxItems: FEATURE_LIMITS.arrayLength, items: { anyOf: scalarJsonSchema } }] };
const FEATURE_MESSAGE = `a finite number, a string of at most ${FEATURE_LIMITS.stringLength.toLocaleString('en-US')} UTF-16 units, a boolean, or an array of at most ${FEATURE_LIMITS.arrayLength.toLocaleString('en-US')} of them`;

/**
 * An object whose every key and value pass `valid`, with issues at the offending key.
 * One pass over the entries rather than zod's record of unions: this runs for every
 * ingested prediction, at half the cost; `jsonSchema` documents the same rule in OpenAPI.
 */
function keyedRecord<V>(valid: (value: unknown) => value is V, message: string, maxKeys: number, jsonSchema: Record<string, unknown>) {
  return z
    .custom<Record<string, V>>(isPlainObject, 'expected an object')
    .superRefine((record, ctx) => {
      const keys = Object.keys(record);
      if (keys.length > maxKeys) ctx.addIssue({ code: 'custom', message: `at most ${maxKeys} keys` });
      for (const key of keys) {
        if (key.length === 0 || key.length > FEATURE_LIMITS.keyLength)
          ctx.addIssue({ code: 'custom', path: [key], message: `keys have 1 to ${FEATURE_LIMITS.keyLength} characters` });
        else if (!valid(record[key])) ctx.addIssue({ code: 'custom', path: [key], message });
      }
    })
    .meta({ type: 'object', maxProperties: maxKeys, additionalProperties: jsonSchema });
}

/** A prediction's (or a gold item's) features, by name. */
export const Features = () => keyedRecord(isFeatureValue, FEATURE_MESSAGE, FEATURE_LIMITS.features, featureJsonSchema).describe('the features, by name');

/** A feature: a number, string or boolean, or an array of them. */
export const FeatureValue = z.custom<FeatureValue>(isFeatureValue, FEATURE_MESSAGE).meta(featureJsonSchema);

const isSliceValue = (value: unknown): value is string => typeof value === 'string' && value.length <= FEATURE_LIMITS.sliceValueLength;

/**
 * A caller's id for a prediction: 1 to 128 printable ASCII characters, no spaces (a UUID, a
 * model server's request id, a ULID, a W3C trace id). ASCII, so that no two ids look alike and
 * differ in bytes, and every export format holds it as it is; a UUID is kept as the prediction's
 * key, any other id is keyed by its UUID version 5 in the project (ADR 0043).
 */
export const PREDICTION_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
export const PredictionId = z.string().regex(PREDICTION_ID_PATTERN, '1 to 128 printable ASCII characters, no spaces (a UUID or your own request id)');

/** The shape of one prediction; project rules (its labels, sums) are checked by the server. */
export const PredictionInput = z
  .strictObject({
    id: PredictionId.optional().describe(
      'your id for the prediction, the idempotency key: a UUID or your own request id (1 to 128 printable ASCII characters, no spaces), answered and exported exactly as sent; a UUID is generated when absent',
    ),
    model: z.strictObject({ name: z.string().trim().min(1).max(200), version: z.string().trim().min(1).max(200) }),
    input: Features(),
    scores: z
      .record(z.string().min(1).max(64), z.number())
      .optional()
      .describe('the routing question’s class scores (a label or multi-label question); required for those kinds'),
    predictedLabel: z.string().min(1).max(64).optional().describe('argmax of scores when absent'),
    embedding: z
      .array(
        z.number().refine(
          // PostgreSQL's real refuses a value past float32's largest, and a non-zero one that would round to 0
          (x) => Number.isFinite(x) && Math.abs(x) <= 3.4028234663852886e38 && (x === 0 || Math.fround(x) !== 0),
          'a finite number float32 can hold: at most 3.4e38 in size, and not so small (under 1.4e-45) that it would round to 0',
        ),
      )
      .min(1)
      .max(4_096)
      .optional()
      .describe(
        'the input’s embedding, for diversity routing and label propagation: at most 4,096 numbers, kept at float32 precision (real[]: each value is stored as the nearest float32, as models emit them)',
      ),
    committee: z
      .record(z.string().min(1).max(64), z.record(z.string().min(1).max(64), z.number()))
      .refine((members) => Object.keys(members).length >= 1 && Object.keys(members).length <= 16, 'between 1 and 16 members')
      .optional()
      .describe(
        'a label question: other models’ class scores for the same input, by member (e.g. {"challenger": {…}, "shadow": {…}}); with `scores` they are the committee that vote_entropy and kl_divergence read',
      ),
    suggestions: z
      .record(z.string().min(1).max(63), z.unknown())
      .optional()
      .describe('the model’s output for any question, by name: {"scores": {…}}, {"value": …, "std"?, "interval"?}, {"spans": […]} as its kind takes'),
    slice: keyedRecord(isSliceValue, `a string of at most ${FEATURE_LIMITS.sliceValueLength} characters`, FEATURE_LIMITS.sliceKeys, {
      type: 'string',
      maxLength: FEATURE_LIMITS.sliceValueLength,
    })
      .optional()
      .describe('slice keys, e.g. {"country": "FR"}'),
    timestamp: Timestamp.optional().describe('when the model predicted; default: when received'),
    metadata: z
      .record(z.string(), z.unknown())
      // depth first: serializing a value nested thousands deep overflows the stack
      .refine((metadata) => !exceedsJsonDepth(metadata, MAX_JSON_DEPTH), {
        message: `nested at most ${MAX_JSON_DEPTH} levels deep`,
        params: { code: 'validation/too_deep' },
        abort: true,
      })
      .refine((metadata) => JSON.stringify(metadata).length <= FEATURE_LIMITS.metadataBytes, `at most ${FEATURE_LIMITS.metadataBytes} bytes`)
      .optional(),
  })
  .meta({ id: 'Prediction' });
export type PredictionInput = z.infer<typeof PredictionInput>;

export const RejectedItem = z.object({ index: z.number().int(), code: z.string(), field: z.string(), message: z.string() });
export type RejectedItem = z.infer<typeof RejectedItem>;

export const IngestReply = z
  .object({
    accepted: z.number().int().describe('stored now'),
    duplicates: z.number().int().describe('seen before under the same id: not stored twice'),
    rejected: z.array(RejectedItem).optional().describe('with ?partial=true: the items refused'),
  })
  .meta({ id: 'IngestReply' });
export type IngestReply = z.infer<typeof IngestReply>;

/** What routing did with the predictions a request stored: the tasks it made, by reason, and the candidates it left out. */
export const RoutedCounts = z
  .object({
    tasks: z.number().int().describe('tasks made for the predictions stored now (0 for duplicates: they were routed when first stored)'),
    byReason: z.record(TaskReason, z.number().int()).describe('the same tasks by reason'),
    droppedByBudget: z.number().int().describe('predictions routing chose but a budget (hour, day, slice) left out'),
    deduplicated: z.number().int().describe('predictions routing chose but left out as near-duplicates of a recent task'),
  })
  .meta({ id: 'RoutedCounts' });
export type RoutedCounts = z.infer<typeof RoutedCounts>;

export const PredictionIngestReply = IngestReply.extend({ routed: RoutedCounts }).meta({ id: 'PredictionIngestReply' });
export type PredictionIngestReply = z.infer<typeof PredictionIngestReply>;

export const SinglePredictionReply = PredictionIngestReply.extend({ id: z.string().describe('the id as sent, or the UUID generated') }).meta({
  id: 'PredictionReply',
});
export type SinglePredictionReply = z.infer<typeof SinglePredictionReply>;

export const IngestQuery = z.strictObject({
  partial: z.enum(['true', 'false']).default('false').describe('store the valid items and list the rejected ones'),
});

export const FeedbackInput = z
  .strictObject({
    id: z.string().min(1).max(200).describe('event id: the idempotency key'),
    predictionId: PredictionId.describe('the prediction’s id as it was sent (or as the reply gave it)'),
    item: z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, '1 to 128 printable ASCII characters, no spaces')
      .optional()
      .describe('for a ranked list: the candidate the event is about (a click, a completion), by its item id'),
    type: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z][a-z0-9_.:-]*$/, 'lowercase, starting with a letter'),
    value: z
      .union([z.string().max(256), z.number(), z.boolean()])
      .optional()
      .describe('a label for a correction, a number for a rating'),
    occurredAt: Timestamp.optional(),
  })
  .meta({ id: 'Feedback' });
export type FeedbackInput = z.infer<typeof FeedbackInput>;

export const MAX_REAPPLY_PREDICTIONS = 5_000;

/** A page of the project's stored feedback to decide again under the current rules ("apply this rule to past feedback"). */
export const FeedbackReapplyRequest = z
  .strictObject({
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_REAPPLY_PREDICTIONS)
      .default(500)
      .describe('how many predictions with feedback events to decide again in this call (one transaction)'),
    cursor: z.guid().optional().describe("the last reply's nextCursor: go on after the predictions it decided"),
  })
  .meta({ id: 'FeedbackReapplyRequest' });
export type FeedbackReapplyRequest = z.infer<typeof FeedbackReapplyRequest>;

export const FeedbackReapplyReply = z
  .strictObject({
    examined: z.number().int().describe('predictions whose stored feedback events were decided again under the current rules'),
    labeled: z
      .number()
      .int()
      .describe('feedback labels that became current now (a label the rules decided before is not written again: a second run labels nothing)'),
    total: z.number().int().optional().describe('on the first call (no cursor): how many predictions have feedback events, for progress'),
    nextCursor: z.guid().nullable().describe('pass it back to go on; null once every prediction with feedback has been decided again'),
  })
  .meta({ id: 'FeedbackReapplyReply' });
export type FeedbackReapplyReply = z.infer<typeof FeedbackReapplyReply>;

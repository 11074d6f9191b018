import { z } from 'zod';

const featureName = z.string().min(1).max(128);

export const KserveSettings = z
  .strictObject({
    features: z
      .array(featureName)
      .max(512)
      .optional()
      .describe(
        'feature names by position: the values of a list instance (V1), or the columns of the V2 inputs in order; unnamed positions are f0, f1, … (V1) or the input name (V2)',
      ),
    rename: z
      .record(z.string().min(1).max(128), featureName)
      .default({})
      .describe('feature names for the keys of a dict instance (V1) or the names of V2 inputs'),
    classes: z
      .array(z.string().min(1).max(64))
      .min(2)
      .max(100)
      .optional()
      .describe(
        "the class of each position of the model's probability vector (or class index); absent: the project's labels in order (a multi-label routing question's labels, one independent probability each)",
      ),
    output: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "V2: the output holding the probabilities or the class (a number model: its value); absent: a multi-label, rating or numeric project's output named after its routing question, else the first one as wide as the classes (a number model: the first one value wide), else the first",
      ),
    std: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "V2, a rating or numeric routing question: the output holding each value's standard deviation, one per row; absent: <value output>_std when there is one",
      ),
    interval: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "V2, a rating or numeric routing question: the output holding each value's 95% interval, [low, high] per row; absent: <value output>_interval when there is one",
      ),
    modelName: z.string().trim().min(1).max(200).optional().describe('absent: the ce-inferenceservicename of the events, then the V2 model_name'),
    modelVersion: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe(
        'used when an event carries none (V2 model_version, then the ce-modelversion header come first); absent: the ce-endpoint (e.g. default, canary)',
      ),
    pairWindowMinutes: z
      .number()
      .int()
      .min(1)
      .max(10_080)
      .default(15)
      .describe('a request or response whose other half has not come within this window expires, and is counted'),
  })
  .meta({ id: 'KserveSettings' });
export type KserveSettings = z.infer<typeof KserveSettings>;

export const IntegrationSettings = z
  .strictObject({
    kserve: KserveSettings.default(KserveSettings.parse({})),
  })
  .meta({ id: 'IntegrationSettings' });
export type IntegrationSettings = z.infer<typeof IntegrationSettings>;

/** The attributes of a CloudEvent (binary mode: the ce-* headers) that the inference logger sink reads. */
export const InferenceLoggerEvent = z.object({
  id: z.string().min(1).max(256),
  type: z
    .string()
    .max(256)
    .regex(/inference\.(request|response)$/, 'a type ending in inference.request or inference.response'),
  // Seldon Core's executors before 1.1 sent CloudEvents 0.2
  specversion: z.enum(['1.0', '0.3', '0.2']).optional(),
  requestid: z.string().min(1).max(256).optional().describe("Seldon's request id (its puid): request and response share it, each has its own ce-id"),
  modelid: z.string().max(253).optional().describe('Seldon: the graph node that logged the event'),
  protocol: z.string().max(64).optional().describe('Seldon: seldon, tensorflow or v2'),
  source: z.string().max(1_024).optional(),
  time: z.string().max(64).optional(),
  inferenceservicename: z.string().max(253).optional(),
  namespace: z.string().max(253).optional(),
  endpoint: z.string().max(253).optional(),
  component: z.string().max(253).optional(),
  modelversion: z.string().max(200).optional(),
});
export type InferenceLoggerEvent = z.infer<typeof InferenceLoggerEvent>;

export const KserveEventReply = z
  .object({
    eventId: z.string().describe("the pairing id: Seldon's ce-requestid when the event has one, else its ce-id"),
    state: z
      .enum(['pending', 'paired', 'duplicate'])
      .describe('pending: the other half is awaited; paired: the predictions are stored; duplicate: seen before'),
    accepted: z.number().int().describe('predictions stored now'),
    duplicates: z.number().int(),
  })
  .meta({ id: 'KserveEventReply' });
export type KserveEventReply = z.infer<typeof KserveEventReply>;

export const KserveStatusReply = z
  .object({
    windowMinutes: z.number().int(),
    pending: z.object({ requests: z.number().int(), responses: z.number().int(), oldest: z.string().nullable() }),
    pairedLastDay: z.number().int(),
    predictionsLastDay: z.number().int(),
    expired: z.object({ requests: z.number().int(), responses: z.number().int() }).describe('halves that expired unpaired, since the project began'),
    rejectedPairs: z.number().int().describe('pairs refused by validation (their second half got a 4xx)'),
  })
  .meta({ id: 'KserveStatus' });
export type KserveStatusReply = z.infer<typeof KserveStatusReply>;

/** A SeldonMessage's `data` (Seldon Core v1 DefaultData): feature or class names, and an ndarray or a tensor; the rest is let through. */
export const SeldonData = z
  .object({
    names: z.array(z.string().max(256)).max(512).optional(),
    ndarray: z.array(z.unknown()).max(10_000).optional(),
    tensor: z.object({ shape: z.array(z.number().int().min(0)).max(8), values: z.array(z.number()).max(100_000) }).optional(),
  })
  .loose();

/** Seldon Core's SeldonMessage, the parts read here; the rest is let through. */
export const SeldonMessage = z
  .object({
    meta: z
      .object({ puid: z.string().min(1).max(256).optional(), tags: z.record(z.string(), z.unknown()).optional() })
      .loose()
      .optional(),
    data: SeldonData.optional(),
    strData: z.string().max(65_536).optional(),
    jsonData: z.unknown().optional(),
  })
  .loose();
export type SeldonMessage = z.infer<typeof SeldonMessage>;

/** Seldon Core's Feedback message: exactly these four fields. */
export const SeldonFeedback = z
  .strictObject({
    request: SeldonMessage.optional(),
    response: SeldonMessage.optional(),
    reward: z.number().finite().optional(),
    truth: SeldonMessage.optional(),
  })
  .refine((f) => f.reward !== undefined || f.truth !== undefined, { message: 'a feedback carries a reward, a truth, or both', path: ['reward'] })
  .meta({ id: 'SeldonFeedback' });
export type SeldonFeedback = z.infer<typeof SeldonFeedback>;

export const SeldonFeedbackReply = z
  .object({ puid: z.string(), predictionIds: z.array(z.string()), accepted: z.number().int(), duplicates: z.number().int() })
  .meta({ id: 'SeldonFeedbackReply' });
export type SeldonFeedbackReply = z.infer<typeof SeldonFeedbackReply>;

/** One `result` item of a Label Studio annotation or prediction: its `value` is read by the question its `from_name` names (see @backflow/questions' label-studio). */
const LabelStudioResult = z
  .object({
    from_name: z.string().max(256).optional(),
    to_name: z.string().max(256).optional(),
    type: z.string().max(64),
    // a relation result has no value
    value: z
      .object({ choices: z.array(z.string().max(256)).max(100).optional() })
      .loose()
      .optional(),
    score: z.number().finite().optional(),
  })
  .loose();

const LabelStudioUser = z.union([
  z.number().int(),
  z.string().max(320),
  z.object({ id: z.union([z.number().int(), z.string().max(64)]).optional(), email: z.string().max(320).optional() }).loose(),
]);

export const LabelStudioTask = z
  .object({
    id: z.union([z.number().int(), z.string().max(64)]).optional(),
    data: z.record(z.string(), z.unknown()),
    meta: z.record(z.string(), z.unknown()).optional(),
    created_at: z.string().max(64).optional(),
    annotations: z
      .array(
        z
          .object({
            id: z.union([z.number().int(), z.string().max(64)]).optional(),
            result: z.array(LabelStudioResult).max(100),
            completed_by: LabelStudioUser.optional(),
            was_cancelled: z.boolean().optional(),
            ground_truth: z.boolean().optional(),
            lead_time: z.number().finite().min(0).nullable().optional(),
            created_at: z.string().max(64).optional(),
          })
          .loose(),
      )
      .max(100)
      .default([]),
    predictions: z
      .array(
        z
          .object({
            result: z.array(LabelStudioResult).max(100),
            score: z.number().finite().nullable().optional(),
            model_version: z.string().max(200).nullable().optional(),
          })
          .loose(),
      )
      .max(100)
      .default([]),
  })
  .loose();
export type LabelStudioTask = z.infer<typeof LabelStudioTask>;

export const LabelStudioImportReply = z
  .object({
    tasks: z.number().int(),
    predictions: z.object({ accepted: z.number().int(), duplicates: z.number().int() }),
    annotations: z.number().int().describe('answers stored now (a re-import stores none twice)'),
    labels: z.number().int().describe('final labels recorded now'),
    raters: z.number().int().describe('imported raters created now'),
    skipped: z
      .object({
        cancelled: z.number().int().describe('annotations marked was_cancelled (skipped in Label Studio)'),
        empty: z.number().int().describe('annotations submitted with an empty result (nothing chosen)'),
        annotations: z.array(z.string()).max(100).describe('where they are in the file, e.g. "3.annotations.0" (the first 100)'),
      })
      .describe('annotations of the file that hold no answer, so none was stored for them'),
  })
  .meta({ id: 'LabelStudioImportReply' });
export type LabelStudioImportReply = z.infer<typeof LabelStudioImportReply>;

export const LabelStudioExportQuery = z.strictObject({
  labeled: z.enum(['true', 'false']).default('false').describe('true: only predictions with an answer or a final label'),
  masked: z.enum(['omit', 'include']).default('omit').describe("the project's masked fields: left out of data (default), or included"),
});

import { z } from 'zod';
import type { Question } from '@backflow/questions';

const probability = z.number().min(0).max(1);

/** Where a labeling function reads: a feature of the prediction's input, or one of its slice keys. */
const Field = z
  .union([
    z.strictObject({ feature: z.string().min(1).max(200).describe('a key of the prediction’s input') }),
    z.strictObject({ slice: z.string().min(1).max(64).describe('a key of the prediction’s slice') }),
  ])
  .describe('{"feature": "subject"} or {"slice": "country"}');

export const LabelingFunctionCondition = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('keywords'),
      on: Field,
      keywords: z.array(z.string().min(1).max(200)).min(1).max(500).describe('any of them, as whole words (no letter or digit around it)'),
      caseSensitive: z.boolean().optional(),
    }),
    z.strictObject({
      kind: z.literal('regex'),
      on: Field,
      pattern: z.string().min(1).max(500).describe('JavaScript syntax; refused when it could backtrack catastrophically'),
      flags: z
        .string()
        .regex(/^[imsu]*$/, 'flags among i, m, s and u')
        .max(4)
        .optional(),
    }),
    z.strictObject({
      kind: z.literal('threshold'),
      on: Field,
      min: z.number().optional().describe('the number is at least this'),
      max: z.number().optional().describe('…and below this'),
    }),
    z.strictObject({
      kind: z.literal('in'),
      on: Field,
      values: z
        .array(z.union([z.string().max(200), z.number(), z.boolean()]))
        .min(1)
        .max(1_000)
        .describe('the value, or any element of a list, is one of these'),
    }),
    z.strictObject({
      kind: z.literal('score'),
      of: z.string().min(1).max(64).describe('a label: the model’s score for it'),
      min: probability.optional(),
      max: probability.optional(),
    }),
  ])
  .meta({ id: 'LabelingFunctionCondition' });

export const LabelingFunction = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64')
      .describe('unique in the project'),
    label: z.string().min(1).max(64).describe('the label it votes when its condition holds; otherwise it abstains'),
    when: LabelingFunctionCondition,
    enabled: z.boolean().default(true),
  })
  .meta({ id: 'LabelingFunction' });
export type LabelingFunction = z.infer<typeof LabelingFunction>;

export const WeakSupervisionSettings = z
  .strictObject({
    functions: z.array(LabelingFunction).max(100).default([]),
    routeConflicts: z.boolean().default(true).describe('a prediction the functions vote different labels on becomes a task (reason weak, within the budget)'),
    routeBelow: probability
      .optional()
      .describe(
        'a prediction some function voted on whose label the label model gives less than this probability becomes a task (reason weak, within the budget); the model is fitted every minute on the newest votes',
      ),
    weakLabels: z
      .strictObject({
        minProbability: probability.default(0.9).describe('…when the label model gives its label at least this probability'),
      })
      .optional()
      .describe(
        'write the label model’s label (source weak, weighted by its probability) on predictions some function voted on and no one labelled; never over a human or feedback label',
      ),
    propagation: z
      .strictObject({
        k: z.number().int().min(1).max(50).default(10).describe('the nearest human-labelled predictions that vote'),
        maxDistance: z.number().gt(0).max(2).default(0.2).describe('…within this cosine distance'),
        minConfidence: probability.default(0.9).describe('their similarity-weighted share for the label, at least'),
      })
      .optional()
      .describe(
        'label propagation over embeddings: a prediction with an embedding and no label gets the label of its nearest human-labelled neighbours (source propagated, weighted by their share); never over any other label',
      ),
  })
  .meta({ id: 'WeakSupervisionSettings' });
export type WeakSupervisionSettings = z.infer<typeof WeakSupervisionSettings>;

/** What the contract cannot see alone: the functions vote the routing question's labels, their names are unique, a threshold has a bound. */
export function weakSupervisionIssues(routing: Question, settings: WeakSupervisionSettings): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  if (settings.functions.length === 0) return issues;
  if (routing.kind !== 'label')
    return [{ path: ['weakSupervision', 'functions'], message: `labeling functions vote labels: "${routing.name}" is ${routing.kind}` }];
  const labels = new Set(routing.labels.map((l) => l.name));
  const seen = new Set<string>();
  settings.functions.forEach((f, index) => {
    const path = ['weakSupervision', 'functions', index];
    if (seen.has(f.name)) issues.push({ path: [...path, 'name'], message: `"${f.name}" is the name of an earlier function` });
    seen.add(f.name);
    if (!labels.has(f.label)) issues.push({ path: [...path, 'label'], message: `not one of "${routing.name}"'s labels` });
    if (f.when.kind === 'score' && !labels.has(f.when.of)) issues.push({ path: [...path, 'when', 'of'], message: `not one of "${routing.name}"'s labels` });
    if ((f.when.kind === 'threshold' || f.when.kind === 'score') && f.when.min === undefined && f.when.max === undefined)
      issues.push({ path: [...path, 'when', 'min'], message: 'give min, max or both' });
  });
  return issues;
}

const Rate = z.number().describe('a share of the predictions examined');

export const LabelingFunctionSummary = z
  .object({
    name: z.string(),
    label: z.string(),
    source: z.enum(['function', 'feedback_rule']).describe('a labeling function, or a feedback rule (a label from feedback counts as its vote)'),
    polarity: z.array(z.string()).describe('the labels it voted'),
    coverage: Rate,
    overlaps: Rate.describe('…where it and another voted'),
    conflicts: Rate.describe('…where it and another voted different labels'),
    correct: z.number().int().describe('its votes on predictions with a human label that were the label'),
    incorrect: z.number().int(),
    empiricalAccuracy: z
      .object({ value: z.number(), low: z.number(), high: z.number(), n: z.number().int() })
      .nullable()
      .describe('against human labels (consensus, review, gold), with a 95% Wilson interval; null when none of its votes has one'),
    estimatedAccuracy: z.number().nullable().describe('the label model’s estimate, from the votes alone: P(the truth is its vote | it voted)'),
  })
  .meta({ id: 'LabelingFunctionSummary' });

export const WeakSupervisionAnalysis = z
  .object({
    examined: z.number().int().describe('the newest predictions examined'),
    humanLabelled: z.number().int().describe('…of which with a human label'),
    coverage: Rate.describe('predictions at least one function voted on'),
    overlaps: Rate,
    conflicts: Rate,
    functions: z.array(LabelingFunctionSummary),
    labelModel: z
      .object({
        priors: z.record(z.string(), z.number()).describe('the estimated share of each label'),
        accuracyOnHumanLabels: z.number().nullable().describe('how often its label is the human one, over the labelled predictions some function voted on'),
        converged: z.boolean(),
      })
      .nullable()
      .describe('null without a vote'),
  })
  .meta({ id: 'WeakSupervisionAnalysis' });
export type WeakSupervisionAnalysis = z.infer<typeof WeakSupervisionAnalysis>;

export const WeakSupervisionQuery = z.strictObject({
  limit: z.coerce.number().int().min(10).max(50_000).default(5_000).describe('the newest predictions to examine'),
});
export type WeakSupervisionQuery = z.infer<typeof WeakSupervisionQuery>;

export const LabelingFunctionPreviewRequest = z
  .strictObject({
    function: LabelingFunction.describe('the function to try, beside the project’s (replacing one of the same name)'),
    limit: WeakSupervisionQuery.shape.limit,
  })
  .meta({ id: 'LabelingFunctionPreviewRequest' });
export type LabelingFunctionPreviewRequest = z.infer<typeof LabelingFunctionPreviewRequest>;

export const LabelingFunctionPreviewReply = WeakSupervisionAnalysis.extend({
  votes: z
    .array(z.object({ predictionId: z.uuid(), vote: z.string(), humanLabel: z.string().nullable(), others: z.record(z.string(), z.string()) }))
    .describe('the newest predictions it votes on (at most 20): its vote, the human label, and the other functions’ votes'),
}).meta({ id: 'LabelingFunctionPreviewReply' });
export type LabelingFunctionPreviewReply = z.infer<typeof LabelingFunctionPreviewReply>;

export const WeakLabelReply = z
  .object({
    examined: z.number().int().describe('predictions read since the last pass (with a few minutes before it again)'),
    labelled: z.number().int().describe('weak labels written now'),
    propagated: z.number().int().describe('propagated labels written now'),
  })
  .meta({ id: 'WeakLabelReply' });
export type WeakLabelReply = z.infer<typeof WeakLabelReply>;

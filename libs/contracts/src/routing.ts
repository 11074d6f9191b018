import { z } from 'zod';
import { Timestamp } from './common';
import { oneThresholdRule, routingPolicyFields } from './projects';

export const TASK_REASONS = ['uncertain', 'exploration', 'contradiction', 'drift', 'gold', 'weak'] as const;
export const TaskReason = z.enum(TASK_REASONS);
export type TaskReason = z.infer<typeof TaskReason>;

export const MAX_PREVIEW_PREDICTIONS = 100_000;
export const MAX_BACKFILL_PREDICTIONS = 10_000;

/** A whole candidate policy (its defaults fill what is left out), and how much history to replay it over. */
export const RoutingPreviewRequest = z
  .strictObject({
    ...routingPolicyFields,
    limit: z.number().int().min(1).max(MAX_PREVIEW_PREDICTIONS).default(10_000).describe('how many of the latest stored predictions to replay'),
  })
  .refine(...oneThresholdRule)
  .meta({ id: 'RoutingPreviewRequest' });
export type RoutingPreviewRequest = z.infer<typeof RoutingPreviewRequest>;

const ReasonCounts = z.strictObject({ uncertain: z.number().int(), exploration: z.number().int(), contradiction: z.number().int() });

export const RoutingPreviewReply = z
  .strictObject({
    sampled: z.number().int().describe('predictions replayed'),
    from: z.string().nullable().describe('received_at of the oldest one replayed'),
    to: z.string().nullable(),
    hours: z.number().describe('the time they span'),
    thresholds: z.array(z.strictObject({ model: z.string(), version: z.string(), threshold: z.number().nullable() })),
    routed: ReasonCounts.extend({ total: z.number().int() }),
    droppedByBudget: z.number().int(),
    deduplicated: z.number().int(),
    expectedTasksPerHour: z.number(),
    bySlice: z
      .array(ReasonCounts.extend({ slice: z.string(), predictions: z.number().int(), routed: z.number().int() }))
      .describe('the 50 slices with most routed'),
  })
  .meta({ id: 'RoutingPreviewReply' });
export type RoutingPreviewReply = z.infer<typeof RoutingPreviewReply>;

export const RoutingBackfillRequest = z
  .strictObject({
    limit: z.number().int().min(1).max(MAX_BACKFILL_PREDICTIONS).default(1_000).describe('the most recent predictions without a task to examine'),
    since: Timestamp.optional().describe('only predictions received at or after this'),
    cursor: z.string().max(200).optional().describe("the last reply's nextCursor: go on with older predictions"),
  })
  .meta({ id: 'RoutingBackfillRequest' });
export type RoutingBackfillRequest = z.infer<typeof RoutingBackfillRequest>;

export const RoutingBackfillReply = z
  .strictObject({
    examined: z.number().int(),
    routed: ReasonCounts.pick({ uncertain: true, exploration: true }).extend({ total: z.number().int() }),
    droppedByBudget: z.number().int(),
    deduplicated: z.number().int(),
    nextCursor: z.string().nullable().describe('pass it back to examine the next, older predictions; null when none are left'),
  })
  .meta({ id: 'RoutingBackfillReply' });
export type RoutingBackfillReply = z.infer<typeof RoutingBackfillReply>;

import { z } from 'zod';
import { LabelDefinition } from './projects';

export const TASK_STATES = ['queued', 'leased', 'completed', 'escalated', 'review', 'cancelled'] as const;
export const TaskState = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskState>;

/** What a rater is handed: the input without its masked fields, and nothing that tells why it was routed. */
export const TaskPayload = z
  .object({
    id: z.uuid(),
    project: z.string().describe('the project slug'),
    input: z.record(z.string(), z.unknown()),
    labels: z.array(LabelDefinition),
    instructions: z.string(),
    suggestion: z
      .object({ label: z.string(), scores: z.record(z.string(), z.number()) })
      .optional()
      .describe("the model's prediction, only when the project shows it"),
    leaseExpiresAt: z.string(),
  })
  .meta({ id: 'TaskPayload' });
export type TaskPayload = z.infer<typeof TaskPayload>;

export const ClaimRequest = z.strictObject({}).meta({ id: 'ClaimRequest' });
export const ClaimReply = z.object({ task: TaskPayload.nullable().describe('null when nothing is left for this rater') }).meta({ id: 'ClaimReply' });
export type ClaimReply = z.infer<typeof ClaimReply>;

export const SubmitAnnotationRequest = z
  .strictObject({
    id: z.guid().describe('a client-generated id: a retried submit with the same id is answered, not stored twice'),
    label: z.string().min(1).max(64),
    timeSpentMs: z.number().int().min(0).max(86_400_000).optional(),
  })
  .meta({ id: 'SubmitAnnotationRequest' });
export type SubmitAnnotationRequest = z.infer<typeof SubmitAnnotationRequest>;

export const SubmitAnnotationReply = z
  .object({
    annotation: z.object({ id: z.guid(), taskId: z.uuid(), label: z.string(), late: z.boolean() }),
    taskState: TaskState,
    duplicate: z.boolean().describe('true when this id was submitted before'),
  })
  .meta({ id: 'SubmitAnnotationReply' });
export type SubmitAnnotationReply = z.infer<typeof SubmitAnnotationReply>;

export const SKIP_REASONS = ['skip', 'problem'] as const;
export const SkipRequest = z
  .strictObject({
    reason: z.enum(SKIP_REASONS).default('skip').describe('"problem" reports the task: it goes to review'),
    note: z.string().max(1_000).optional(),
  })
  .meta({ id: 'SkipRequest' });
export type SkipRequest = z.infer<typeof SkipRequest>;

export const LeaseReply = z.object({ taskId: z.uuid(), leaseExpiresAt: z.string() }).meta({ id: 'LeaseReply' });
export type LeaseReply = z.infer<typeof LeaseReply>;

export const QueueStats = z
  .object({
    project: z.string(),
    depth: z.number().int().describe('tasks that still need answers'),
    review: z.number().int().describe('tasks waiting for a reviewer'),
    doneToday: z.number().int().describe('annotations since midnight UTC'),
  })
  .meta({ id: 'QueueStats' });
export type QueueStats = z.infer<typeof QueueStats>;

export const ReviewRequest = z.strictObject({ label: z.string().min(1).max(64) }).meta({ id: 'ReviewRequest' });
export type ReviewRequest = z.infer<typeof ReviewRequest>;

import { z } from 'zod';
import { Features } from './ingest';
import { LabelDefinition, Question } from './projects';
import { TaskLayout } from './task-layout';

export const TASK_STATES = ['queued', 'leased', 'completed', 'escalated', 'review', 'cancelled'] as const;
export const TaskState = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskState>;

/** What a rater is handed: the input without its masked fields, and nothing that tells why it was routed. */
export const TaskPayload = z
  .object({
    id: z.uuid(),
    project: z.string().describe('the project slug'),
    input: z.record(z.string(), z.unknown()),
    labels: z.array(LabelDefinition).describe("the routing question's labels (a project of one label question: its labels)"),
    questions: z.array(Question).describe('what the rater answers, in order; answers go by question name'),
    instructions: z.string(),
    suggestion: z
      .object({ label: z.string(), scores: z.record(z.string(), z.number()) })
      .optional()
      .describe("the model's prediction for the routing question, only when the project shows it"),
    suggestions: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("the model's output by question, when the project shows it (a text question that pre-fills gets its text regardless)"),
    machineLabel: z
      .object({
        source: z.enum(['weak', 'propagated']),
        label: z.string(),
        confidence: z.number().describe('the label model’s probability, or the neighbours’ share'),
      })
      .optional()
      .describe(
        'what a machine labelled the prediction (labeling functions’ label model, or the nearest human-labelled neighbours), when the project shows predictions',
      ),
    leaseExpiresAt: z.string(),
    layout: TaskLayout.optional().describe(
      'how the input is laid out, when the project sets it (fields masked from raters left out); absent: the default layout',
    ),
    undoSeconds: z.number().int().optional().describe('how long the rater UI holds an answer before sending it, so Undo can take it back'),
    review: z
      .object({
        answers: z.array(z.object({ label: z.string(), count: z.number().int() })).describe('every label the raters gave, most chosen first'),
        agreement: z.number().describe('the share of answers on the most chosen label'),
        reports: z.array(z.string()).describe('what raters wrote when they reported a problem'),
        annotations: z
          .array(z.object({ answers: z.record(z.string(), z.unknown()) }))
          .describe("each rater's answers to every question, side by side (in the order they were given)"),
      })
      .optional()
      .describe('for a reviewer only: how the raters answered'),
  })
  .meta({ id: 'TaskPayload' });
export type TaskPayload = z.infer<typeof TaskPayload>;

export const ClaimRequest = z.strictObject({}).meta({ id: 'ClaimRequest' });
export const ClaimReply = z.object({ task: TaskPayload.nullable().describe('null when nothing is left for this rater') }).meta({ id: 'ClaimReply' });
export type ClaimReply = z.infer<typeof ClaimReply>;

export const SubmitAnnotationRequest = z
  .strictObject({
    id: z.guid().describe('a client-generated id: a retried submit with the same id is answered, not stored twice'),
    label: z.string().min(1).max(64).optional().describe('the answer of a project whose only question is a label'),
    answers: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("answers by question name, each as its kind takes it (checked against the project's questions)"),
    timeSpentMs: z.number().int().min(0).max(86_400_000).optional(),
  })
  .refine((body) => (body.label === undefined) !== (body.answers === undefined), {
    message: 'give answers (or label, for one label question), not both',
    path: ['answers'],
  })
  .meta({ id: 'SubmitAnnotationRequest' });
export type SubmitAnnotationRequest = z.infer<typeof SubmitAnnotationRequest>;

export const SubmitAnnotationReply = z
  .object({
    annotation: z.object({
      id: z.guid(),
      taskId: z.uuid(),
      label: z.string().describe("the routing question's answer as text"),
      answers: z.record(z.string(), z.unknown()),
      late: z.boolean(),
    }),
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

export const UndoReply = z
  .object({
    task: TaskPayload.describe('the task back on screen, leased to the rater again'),
    released: z.uuid().nullable().describe('a task the rater held ahead that was given back to keep them at two leases'),
  })
  .meta({ id: 'UndoReply' });
export type UndoReply = z.infer<typeof UndoReply>;

export const HeldTasksReply = z
  .object({
    tasks: z
      .array(TaskPayload)
      .describe('the open tasks the caller holds a live lease on in this project, the one on screen first (the oldest lease): what a reloaded page resumes'),
  })
  .meta({ id: 'HeldTasksReply' });
export type HeldTasksReply = z.infer<typeof HeldTasksReply>;

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

/** Why the caller sees no task while the queue is not empty: every open task, counted once, by the first reason that keeps it from them. */
export const RaterQueue = z
  .object({
    project: z.string(),
    open: z.number().int().describe('tasks that still need answers: the queue depth'),
    answeredByYou: z.number().int().describe('open tasks with your answer, waiting for other raters'),
    skippedByYou: z.number().int().describe('open tasks you skipped'),
    heldByYou: z.number().int().describe('open tasks you hold: on your screen, next in line, or an answer still on its way'),
    heldByOthers: z.number().int().describe('open tasks other raters hold, with no slot free: they come back if their rater lets them go'),
    forYou: z.number().int().describe('open tasks you may claim now'),
  })
  .meta({ id: 'RaterQueue' });
export type RaterQueue = z.infer<typeof RaterQueue>;

export const ReviewRequest = z
  .strictObject({
    label: z.string().min(1).max(64).optional().describe('the decision of a project whose only question is a label'),
    answers: z.record(z.string(), z.unknown()).optional().describe('the decision: answers by question name'),
  })
  .refine((body) => (body.label === undefined) !== (body.answers === undefined), {
    message: 'give answers (or label, for one label question), not both',
    path: ['answers'],
  })
  .meta({ id: 'ReviewRequest' });
export type ReviewRequest = z.infer<typeof ReviewRequest>;

export const GoldItemInput = z.strictObject({
  input: Features(),
  label: z.string().min(1).max(64),
  scores: z
    .record(z.string(), z.number().min(0).max(1))
    .optional()
    .describe('model scores to show as the suggestion when the project shows predictions, so gold looks like the rest'),
});
export const AddGoldRequest = z.strictObject({ items: z.array(GoldItemInput).min(1).max(1_000) }).meta({ id: 'AddGoldRequest' });
export type AddGoldRequest = z.infer<typeof AddGoldRequest>;

export const PromoteGoldRequest = z
  .strictObject({ predictionIds: z.array(z.guid()).min(1).max(1_000).describe('predictions whose final human label becomes gold') })
  .meta({ id: 'PromoteGoldRequest' });
export type PromoteGoldRequest = z.infer<typeof PromoteGoldRequest>;

export const GoldReply = z.object({ created: z.number().int(), skipped: z.number().int() }).meta({ id: 'GoldReply' });
export type GoldReply = z.infer<typeof GoldReply>;

export const RaterQuality = z
  .object({
    raterId: z.uuid(),
    email: z.string(),
    annotations: z.number().int(),
    goldAnswers: z.number().int(),
    goldAccuracy: z.number().nullable(),
    medianTimeMs: z.number().nullable().describe('the median time spent on an answer, as the rater UI reports it'),
    agreement: z.number().nullable().describe("the share of the rater's answers that match the final label of tasks that have one"),
    pausedAt: z.string().nullable(),
  })
  .meta({ id: 'RaterQuality' });
export type RaterQuality = z.infer<typeof RaterQuality>;
export const RaterQualityList = z.object({ raters: z.array(RaterQuality) }).meta({ id: 'RaterQualityList' });
export type RaterQualityList = z.infer<typeof RaterQualityList>;

export const OperationsQuery = z.strictObject({
  minutes: z.coerce.number().int().min(5).max(1_440).default(60).describe('how far back, in minutes (one point per minute)'),
});
export type OperationsQuery = z.infer<typeof OperationsQuery>;

export const OperationsPoint = z.object({
  at: z.string().describe('the start of the minute'),
  created: z.number().int().describe('tasks made in the minute'),
  done: z.number().int().describe('tasks completed in the minute'),
  open: z.number().int().describe('tasks not yet completed at the end of the minute'),
  answers: z.number().int().describe('answers given in the minute'),
  raters: z.number().int().describe('raters who answered in the minute'),
  expired: z.number().int().describe('leases that ran out unanswered in the minute'),
});
export const OperationsReply = z
  .object({ project: z.string(), points: z.array(OperationsPoint), activeRaters: z.number().int().describe('raters holding a live lease now') })
  .meta({ id: 'Operations' });
export type OperationsReply = z.infer<typeof OperationsReply>;

export const ReviewReply = z
  .object({ taskState: TaskState, label: z.string().describe('the final label'), agreement: z.number().describe("the share of the raters' answers on it") })
  .meta({ id: 'ReviewReply' });
export type ReviewReply = z.infer<typeof ReviewReply>;

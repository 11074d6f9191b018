import { z } from 'zod';
import { Timestamp } from './common';
import { EXPORT_LABEL_SOURCES } from './projects';
import { TASK_REASONS } from './routing';

/**
 * The data explorer: a project's predictions, filtered and sorted on the server, a page at a time
 * with a cursor. Every page costs a bounded amount: a walk reads at most a few thousand rows and,
 * when too few of them match, answers with what it found and a cursor to go on from.
 */
export const EXPLORER_SORTS = ['newest', 'oldest', 'least_confident', 'most_confident'] as const;
export const EXPLORER_TASK_STATES = ['none', 'open', 'completed', 'any'] as const;
/** A label source, or `none`: no current label. */
export const EXPLORER_LABEL_SOURCES = [...EXPORT_LABEL_SOURCES, 'none'] as const;
/** The widest window a confidence sort may cover (it sorts every prediction in it). */
export const CONFIDENCE_SORT_MAX_DAYS = 7;

const SliceFilter = z
  .string()
  .regex(/^[^:=]{1,64}[:=].{0,200}$/s, 'key:value (or key=value, as the other pages write a slice), e.g. country:FR')
  .describe('a slice key and its value, "country:FR" (or "country=FR"); repeat for several (all must hold)');

export const ExplorerFilters = z.strictObject({
  from: Timestamp.optional().describe('predictions made (their timestamp) at or after this instant'),
  to: Timestamp.optional().describe('…and before this instant'),
  slice: z
    .union([SliceFilter, z.array(SliceFilter).max(10)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  modelVersion: z.string().min(1).max(200).optional(),
  predictedLabel: z.string().min(1).max(200).optional().describe('the model’s label'),
  label: z.string().min(1).max(200).optional().describe('the current label’s value'),
  source: z.enum(EXPLORER_LABEL_SOURCES).optional().describe('the current label’s source; none: not labeled'),
  reason: z.enum(TASK_REASONS).optional().describe('why routing made its task'),
  task: z.enum(EXPLORER_TASK_STATES).optional().describe('none: never routed; open: waiting for answers or review; completed; any: routed'),
  minConfidence: z.coerce.number().min(0).max(1).optional(),
  maxConfidence: z.coerce.number().min(0).max(1).optional(),
  q: z.string().min(1).max(200).optional().describe('text anywhere in the input (case-insensitive)'),
  sort: z.enum(EXPLORER_SORTS).default('newest').describe('newest/oldest by arrival; least/most confident within from–to'),
});
export type ExplorerFilters = z.infer<typeof ExplorerFilters>;

export const ExplorerQuery = ExplorerFilters.extend({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(500).optional().describe('the `next` of the page before'),
});
export type ExplorerQuery = z.infer<typeof ExplorerQuery>;

const ExplorerLabel = z.object({ value: z.string(), source: z.string(), at: z.string() });
const ExplorerTask = z.object({ id: z.string(), state: z.string(), reason: z.string() });

export const ExplorerItem = z.object({
  id: z.string(),
  occurredAt: z.string(),
  receivedAt: z.string(),
  model: z.object({ name: z.string(), version: z.string() }),
  predictedLabel: z.string().nullable(),
  confidence: z.number().nullable(),
  slice: z.record(z.string(), z.string()),
  preview: z.string().describe('the input’s first text, cut at 200 characters (masked fields left out for non-admins)'),
  label: ExplorerLabel.nullable(),
  task: ExplorerTask.nullable(),
});
export type ExplorerItem = z.infer<typeof ExplorerItem>;

export const ExplorerPage = z
  .object({
    items: z.array(ExplorerItem),
    next: z.string().nullable().describe('the cursor of the next page; null when the walk reached the end'),
    walked: z.object({
      order: z.enum(['arrival', 'label', 'task', 'confidence']).describe('what the walk followed: the page is in this order'),
      rows: z.number().int().describe('rows the walk read for this page'),
      through: z.string().nullable().describe('the instant (or label/task time) the walk reached'),
      partial: z.boolean().describe('the walk stopped at its budget with fewer matches than asked: follow `next` to search further'),
    }),
  })
  .meta({ id: 'ExplorerPage' });
export type ExplorerPage = z.infer<typeof ExplorerPage>;

export const ExampleDetail = z
  .object({
    prediction: z.object({
      id: z.string(),
      occurredAt: z.string(),
      receivedAt: z.string(),
      model: z.object({ name: z.string(), version: z.string() }),
      input: z.record(z.string(), z.unknown()),
      masked: z.array(z.string()).describe('input fields left out for this reader'),
      scores: z.record(z.string(), z.number()).nullable(),
      predictedLabel: z.string().nullable(),
      confidence: z.number().nullable(),
      uncertainty: z.number().nullable(),
      slice: z.record(z.string(), z.string()),
      metadata: z.record(z.string(), z.unknown()).nullable(),
      suggestions: z.record(z.string(), z.unknown()).nullable(),
    }),
    feedback: z.array(
      z.object({ id: z.string(), type: z.string(), value: z.unknown(), occurredAt: z.string(), receivedAt: z.string(), appliedAt: z.string().nullable() }),
    ),
    task: z
      .object({
        id: z.string(),
        state: z.string(),
        reason: z.string(),
        priority: z.number(),
        inclusionProbability: z.number().nullable(),
        requiredAnnotations: z.number().int(),
        createdAt: z.string(),
        completedAt: z.string().nullable(),
      })
      .nullable(),
    answers: z.array(
      z.object({
        id: z.string(),
        rater: z.string().nullable(),
        label: z.string().nullable(),
        answers: z.record(z.string(), z.unknown()).nullable(),
        timeSpentMs: z.number().nullable(),
        late: z.boolean(),
        createdAt: z.string(),
      }),
    ),
    labels: z.array(
      z.object({
        id: z.string(),
        value: z.string(),
        answers: z.record(z.string(), z.unknown()).nullable(),
        source: z.string(),
        rule: z.string().nullable(),
        agreement: z.number().nullable(),
        weight: z.number(),
        createdAt: z.string(),
        supersededAt: z.string().nullable(),
        current: z.boolean(),
        exported: z.array(z.object({ span: z.number().int(), at: z.string() })).describe('the spans that exported this label'),
      }),
    ),
    history: z.array(z.object({ at: z.string(), actor: z.string().nullable(), action: z.string(), details: z.record(z.string(), z.unknown()) })),
  })
  .meta({ id: 'ExampleDetail' });
export type ExampleDetail = z.infer<typeof ExampleDetail>;

export const RelabelRequest = z
  .strictObject({
    label: z.string().min(1).max(200).describe('the routing question’s label'),
    reason: z.string().trim().min(1).max(1_000).describe('why: kept in the audit log with who and when'),
  })
  .meta({ id: 'RelabelRequest' });
export type RelabelRequest = z.infer<typeof RelabelRequest>;

export const SavedViewRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    filters: ExplorerFilters.omit({ slice: true, sort: true })
      .partial()
      .extend({ slice: z.array(SliceFilter).max(10).optional(), sort: z.enum(EXPLORER_SORTS).optional() }),
  })
  .meta({ id: 'SavedViewRequest' });
export type SavedViewRequest = z.infer<typeof SavedViewRequest>;

export const SavedView = z.object({
  id: z.string(),
  name: z.string(),
  filters: z.record(z.string(), z.unknown()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
export type SavedView = z.infer<typeof SavedView>;

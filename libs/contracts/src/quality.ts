import { z } from 'zod';
import { QUESTION_KINDS } from '@backflow/questions';
import { isStorableInstant, Timestamp } from './common';
import { CONSENSUS_METHODS } from './projects';

/** A day (`2024-01-31`) or an instant (`2024-01-31T12:00:00Z`), within the years 1 to 9999. */
const DayOrInstant = z.union([
  z.iso.date().refine((day) => isStorableInstant(`${day}T00:00:00Z`), {
    message: 'a date between the years 0001 and 9999',
    params: { code: 'validation/date_out_of_range' },
  }),
  Timestamp,
]);

// ten thousand years: any window that ends now and starts after the year 1
const MAX_DAYS = 3_660_000;

export const QualityQuery = z
  .strictObject({
    days: z.coerce.number().int().min(1).max(MAX_DAYS).optional().describe('how far back from now, in days (default 30); or give from/to'),
    from: DayOrInstant.optional().describe('the window starts at this day or instant (inclusive)'),
    to: DayOrInstant.optional().describe('the window ends at this instant, or after this day (default: now)'),
  })
  .refine((q) => !(q.days !== undefined && (q.from !== undefined || q.to !== undefined)), { message: 'give days, or from and to, not both', path: ['days'] })
  .refine((q) => q.to === undefined || q.from !== undefined, { message: 'to needs from', path: ['from'] })
  .refine((q) => q.from === undefined || q.to === undefined || qualityWindow(q).from.getTime() < qualityWindow(q).to.getTime(), {
    message: 'from must come before to',
    path: ['to'],
  });
export type QualityQuery = z.infer<typeof QualityQuery>;

const DAY_MS = 24 * 3600 * 1000;
const isDay = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value);

// the instants PostgreSQL and JavaScript both hold: a window is clipped to them
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const clip = (ms: number) => new Date(Math.min(LAST_INSTANT, Math.max(FIRST_INSTANT, ms)));

/** The window a quality query names: `days` back from now (30 by default), or from/to, a day `to` counting whole. */
export function qualityWindow(query: { days?: number; from?: string; to?: string }, now = new Date()): { from: Date; to: Date } {
  if (query.from === undefined) return { from: clip(now.getTime() - (query.days ?? 30) * DAY_MS), to: now };
  const from = Date.parse(isDay(query.from) ? `${query.from}T00:00:00Z` : query.from);
  const to = query.to === undefined ? now.getTime() : isDay(query.to) ? Date.parse(`${query.to}T00:00:00Z`) + DAY_MS : Date.parse(query.to);
  return { from: clip(from), to: clip(to) };
}

const nullableFigure = z.number().nullable();

export const AgreementFigures = z
  .object({
    tasks: z.number().int().describe('completed tasks with two answers or more'),
    answers: z.number().int(),
    fleissKappa: nullableFigure.describe("Fleiss' κ over the tasks with exactly the overlap's number of answers (null: nothing to measure)"),
    fleissTasks: z.number().int(),
    krippendorffAlpha: nullableFigure.describe("Krippendorff's α (nominal) over every task, missing answers allowed"),
    pairableAnswers: z.number().int(),
    unanimous: nullableFigure.describe('the share of tasks on which every answer agreed'),
  })
  .meta({ id: 'AgreementFigures' });
export type AgreementFigures = z.infer<typeof AgreementFigures>;

export const QualityDay = z
  .object({ day: z.string(), tasks: z.number().int(), fleissKappa: nullableFigure, krippendorffAlpha: nullableFigure })
  .meta({ id: 'QualityDay' });

export const ALPHA_DISTANCES = ['nominal', 'ordinal', 'interval', 'masi'] as const;

export const QuestionAgreement = z
  .object({
    name: z.string(),
    kind: z.enum(QUESTION_KINDS),
    measure: z.enum(['alpha', 'span_f1']).describe("Krippendorff's α, or for spans the mean F1 over every pair of raters on a task (exact spans)"),
    distance: z
      .enum(ALPHA_DISTANCES)
      .optional()
      .describe("α's difference function: nominal (label, text), ordinal (rating), interval (numeric), masi (multi_label)"),
    value: nullableFigure.describe('null: nothing to measure (no task with two answers to the question, or a single value throughout)'),
    pairable: z.number().int().describe('answers to the question on tasks where two raters or more answered it (a blank answer is missing)'),
    fleissKappa: nullableFigure
      .optional()
      .describe(
        "for categorical answers (label, preference): Fleiss' κ beside α, over the tasks with the commonest number of answers of two or more (null: nothing to measure)",
      ),
    fleissTasks: z.number().int().optional().describe('the tasks κ was computed over'),
  })
  .meta({ id: 'QuestionAgreement' });
export type QuestionAgreement = z.infer<typeof QuestionAgreement>;

export const RATER_MEASURES = ['exact', 'mean_jaccard', 'within_one', 'within_tolerance', 'mean_span_f1'] as const;

export const RaterQuestionReliability = z
  .object({
    name: z.string(),
    kind: z.enum(QUESTION_KINDS),
    compared: z.number().int().describe("the rater's answers to the question on tasks whose final answer has one"),
    measure: z
      .enum(RATER_MEASURES)
      .describe(
        'label, text: the share equal to the final answer; multi_label: mean Jaccard similarity; rating: the share within one point of the scale; numeric: the share within the tolerance of the final answer; spans: mean F1 (exact spans)',
      ),
    value: nullableFigure.describe('null when nothing was compared'),
    meanAbsoluteError: nullableFigure.optional().describe('numeric: the mean |answer − final answer|'),
  })
  .meta({ id: 'RaterQuestionReliability' });
export type RaterQuestionReliability = z.infer<typeof RaterQuestionReliability>;

export const RaterReliability = z
  .object({
    raterId: z.uuid(),
    email: z.string(),
    tasks: z.number().int().describe('tasks answered in the window (gold excluded)'),
    medianTimeMs: nullableFigure,
    goldAnswers: z.number().int(),
    goldAccuracy: nullableFigure,
    agreementWithFinal: nullableFigure.describe("the share of the rater's answers that match the task's final label"),
    estimatedAccuracy: nullableFigure.describe("Dawid-Skene: the probability the rater's answer is the true class"),
    confusion: z.array(z.array(z.number())).nullable().describe('Dawid-Skene: confusion[true][answered], rows in `classes` order'),
    questions: z.array(RaterQuestionReliability).describe("agreement with the task's final answer, question by question, in the project's order"),
  })
  .meta({ id: 'RaterReliability' });
export type RaterReliability = z.infer<typeof RaterReliability>;

export const QualityReply = z
  .object({
    from: z.string(),
    to: z.string(),
    consensus: z.enum(CONSENSUS_METHODS),
    classes: z
      .array(z.string())
      .describe("the routing question's labels when it is a label question, none otherwise: the rows of `confusion` and Dawid-Skene's"),
    agreement: AgreementFigures,
    confusion: z.array(z.array(z.number().int())).describe('between raters on the same task: [label of one][label of another], symmetric'),
    days: z.array(QualityDay),
    raters: z.array(RaterReliability),
    questions: z.array(QuestionAgreement).describe("agreement between raters on each of the project's questions, with the distance its kind names"),
    dawidSkene: z
      .object({
        iterations: z.number().int(),
        converged: z.boolean(),
        priors: z.record(z.string(), z.number()),
        disagreesWithMajority: z.number().int().describe('tasks whose Dawid-Skene class differs from their majority vote'),
      })
      .nullable(),
    lastReestimate: z
      .object({
        at: z.string(),
        relabeled: z.number().int(),
        keptExported: z.number().int().describe('labels already exported: corrected only by a new span version'),
      })
      .nullable(),
  })
  .meta({ id: 'QualityReply' });
export type QualityReply = z.infer<typeof QualityReply>;

export const ReestimateReply = z
  .object({
    relabeled: z.number().int().describe('labels re-decided now'),
    keptExported: z.number().int().describe('labels Dawid-Skene would change but a span already holds'),
  })
  .meta({ id: 'ReestimateReply' });
export type ReestimateReply = z.infer<typeof ReestimateReply>;

import { z } from 'zod';
import { CONSENSUS_METHODS } from './projects';

export const QualityQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).default(30).describe('how far back, in days: tasks completed in the window'),
});
export type QualityQuery = z.infer<typeof QualityQuery>;

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

export const QualityDay = z.object({ day: z.string(), tasks: z.number().int(), fleissKappa: nullableFigure, krippendorffAlpha: nullableFigure }).meta({ id: 'QualityDay' });

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
  })
  .meta({ id: 'RaterReliability' });
export type RaterReliability = z.infer<typeof RaterReliability>;

export const QualityReply = z
  .object({
    from: z.string(),
    to: z.string(),
    consensus: z.enum(CONSENSUS_METHODS),
    classes: z.array(z.string()),
    agreement: AgreementFigures,
    confusion: z.array(z.array(z.number().int())).describe('between raters on the same task: [label of one][label of another], symmetric'),
    days: z.array(QualityDay),
    raters: z.array(RaterReliability),
    dawidSkene: z
      .object({
        iterations: z.number().int(),
        converged: z.boolean(),
        priors: z.record(z.string(), z.number()),
        disagreesWithMajority: z.number().int().describe('tasks whose Dawid-Skene class differs from their majority vote'),
      })
      .nullable(),
    lastReestimate: z
      .object({ at: z.string(), relabeled: z.number().int(), keptExported: z.number().int().describe('labels already exported: corrected only by a new span version') })
      .nullable(),
  })
  .meta({ id: 'QualityReply' });
export type QualityReply = z.infer<typeof QualityReply>;

export const ReestimateReply = z
  .object({ relabeled: z.number().int().describe('labels re-decided now'), keptExported: z.number().int().describe('labels Dawid-Skene would change but a span already holds') })
  .meta({ id: 'ReestimateReply' });
export type ReestimateReply = z.infer<typeof ReestimateReply>;

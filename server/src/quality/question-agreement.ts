import {
  fleissKappaOfLabels,
  intervalDistance,
  jaccardDistance,
  krippendorffAlpha,
  masiDistance,
  nominalDistance,
  ordinalDistance,
  pairwiseSpanF1,
  spanF1,
  type AlphaDistance,
} from '@backflow/agreement';
import type { QuestionAgreement, RaterQuestionReliability } from '@backflow/contracts';
import { kindOf, numericTolerance, type AgreementMeasure, type Answer, type Answers, type GradedItem, type Question, type Span } from '@backflow/questions';

/** One rater's answers to every question of one task, with the task's final answers when it has a label. */
export interface AnswerSet {
  taskId: string;
  raterId: string;
  answers: Answers;
  finalAnswers: Answers | null;
}

type Distance = Extract<AgreementMeasure, { kind: 'alpha' }>['distance'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const DISTANCES: Record<Distance, AlphaDistance<any>> = {
  nominal: nominalDistance,
  ordinal: ordinalDistance,
  interval: intervalDistance,
  masi: masiDistance,
};

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The answer a set holds for a question, if it holds one of the kind's type (a blank question is missing). */
function answerTo(question: Question, answers: Answers | null): Answer | undefined {
  const answer: unknown = answers?.[question.name];
  switch (question.kind) {
    case 'label':
    case 'text':
    case 'generation':
      return typeof answer === 'string' ? answer : undefined;
    case 'rating':
    case 'numeric':
      return typeof answer === 'number' && Number.isFinite(answer) ? answer : undefined;
    case 'multi_label':
    case 'spans':
    case 'ranking':
      return Array.isArray(answer) ? (answer as Answer) : undefined;
    case 'preference':
      // raters agree on which response is better (the side they saw is the task's, the same for all)
      return typeof (answer as { preferred?: unknown } | undefined)?.preferred === 'string' ? (answer as { preferred: string }).preferred : undefined;
  }
}

/** Per task, the answers its raters gave the question (tasks in first-seen order). */
function unitsOf(question: Question, sets: readonly AnswerSet[]): Answer[][] {
  const units = new Map<string, Answer[]>();
  const add = (key: string, answer: Answer) => {
    const unit = units.get(key);
    if (unit) unit.push(answer);
    else units.set(key, [answer]);
  };
  for (const set of sets) {
    const answer = answerTo(question, set.answers);
    if (answer === undefined) continue;
    // a ranking's unit is one item of one task: raters agree item by item on its grade
    if (question.kind === 'ranking') for (const { item, grade } of answer as GradedItem[]) add(`${set.taskId}\u0000${item}`, grade);
    else add(set.taskId, answer);
  }
  return [...units.values()];
}

/** Agreement between raters on each question: α with its kind's distance, or pairwise span F1. */
export function questionAgreement(questions: readonly Question[], sets: readonly AnswerSet[]): QuestionAgreement[] {
  return questions.map((question) => {
    const units = unitsOf(question, sets);
    const measure: AgreementMeasure = kindOf(question).agreement(question);
    if (measure.kind === 'span_f1') {
      const pairable = units.filter((u) => u.length >= 2).reduce((n, u) => n + u.length, 0);
      return { name: question.name, kind: question.kind, measure: 'span_f1', value: finite(pairwiseSpanF1(units as Span[][][])), pairable };
    }
    // rating points rise strictly in scale order, so the ordinal distance ranks the values as the scale does
    const alpha = krippendorffAlpha(units, DISTANCES[measure.distance]);
    return {
      name: question.name,
      kind: question.kind,
      measure: 'alpha',
      distance: measure.distance,
      value: finite(alpha.alpha),
      pairable: alpha.pairableValues,
      ...(question.kind === 'label' || question.kind === 'preference' ? kappaOf(units as string[][]) : {}),
    };
  });
}

/**
 * Fleiss' κ of categorical answers: it needs the same number of raters on every task, so it is
 * taken over the tasks with the commonest number of answers of two or more (the larger on a tie).
 */
function kappaOf(units: readonly string[][]): { fleissKappa: number | null; fleissTasks: number } {
  const counts = new Map<number, number>();
  for (const unit of units) if (unit.length >= 2) counts.set(unit.length, (counts.get(unit.length) ?? 0) + 1);
  const raters = [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
  if (raters === undefined) return { fleissKappa: null, fleissTasks: 0 };
  const kappa = fleissKappaOfLabels(units, raters);
  return { fleissKappa: finite(kappa.kappa), fleissTasks: kappa.items };
}

const NO_CONTEXT = { marginals: new Map<string, number>(), values: [] };

/**
 * How one rater's answers to a question compare with the final answers of the same tasks. Only
 * pairs where both hold an answer count: a question the rater left blank, or that the final
 * answer leaves out, is missing.
 */
export function raterQuestionReliability(question: Question, sets: readonly AnswerSet[]): RaterQuestionReliability {
  const pairs = sets.flatMap((set) => {
    const given = answerTo(question, set.answers);
    const final = answerTo(question, set.finalAnswers);
    return given === undefined || final === undefined ? [] : [{ given, final }];
  });
  const base = { name: question.name, kind: question.kind, compared: pairs.length };
  switch (question.kind) {
    case 'label':
    case 'text':
    case 'generation':
    case 'preference':
      return { ...base, measure: 'exact', value: mean(pairs.map((p) => (p.given === p.final ? 1 : 0))) };
    case 'multi_label':
      return {
        ...base,
        measure: 'mean_jaccard',
        value: mean(pairs.map((p) => 1 - jaccardDistance.delta(p.given as string[], p.final as string[], NO_CONTEXT))),
      };
    case 'rating': {
      const point = new Map(question.points.map((p, i) => [p.value, i]));
      const near = pairs.flatMap((p) => {
        const [a, b] = [point.get(p.given as number), point.get(p.final as number)];
        return a === undefined || b === undefined ? [] : [Math.abs(a - b) <= 1 ? 1 : 0];
      });
      return { ...base, compared: near.length, measure: 'within_one', value: mean(near) };
    }
    case 'numeric': {
      const errors = pairs.map((p) => ({ error: Math.abs((p.given as number) - (p.final as number)), final: p.final as number }));
      return {
        ...base,
        measure: 'within_tolerance',
        value: mean(errors.map((e) => (e.error <= numericTolerance(question, e.final) ? 1 : 0))),
        meanAbsoluteError: mean(errors.map((e) => e.error)),
      };
    }
    case 'spans':
      return { ...base, measure: 'mean_span_f1', value: mean(pairs.map((p) => spanF1(p.given as Span[], p.final as Span[]))) };
    case 'ranking': {
      // item by item: the grade within one grade of the final one
      const grade = new Map(question.grades.map((g, i) => [g.value, i]));
      const near = pairs.flatMap((p) => {
        const final = new Map((p.final as GradedItem[]).map((g) => [g.item, grade.get(g.grade)]));
        return (p.given as GradedItem[]).flatMap((g) => {
          const [a, b] = [grade.get(g.grade), final.get(g.item)];
          return a === undefined || b === undefined ? [] : [Math.abs(a - b) <= 1 ? 1 : 0];
        });
      });
      return { ...base, compared: near.length, measure: 'within_one', value: mean(near) };
    }
  }
}

import { z } from 'zod';
import {
  Question,
  type Answer,
  type Answers,
  type GradedItem,
  type LabelDefinition,
  type PreferenceAnswer,
  type QuestionKindName,
  type Span,
} from './definitions';
import { fail, ok, type AnswerColumn, type AnswerContext, type Checked, type KindDecision, type QuestionKind, type Strategy } from './kind';
import { labelKind } from './kinds/label';
import { multiLabelKind } from './kinds/multi-label';
import { numericKind } from './kinds/numeric';
import { rankingKind } from './kinds/ranking';
import { ratingKind } from './kinds/rating';
import { spansKind } from './kinds/spans';
import { textKind } from './kinds/text';
import { generationKind } from './kinds/generation';
import { preferenceKind } from './kinds/preference';
import { isObject } from './shared';

/** Every kind, by name: the one place that lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const KINDS: Readonly<Record<QuestionKindName, QuestionKind<any, any, any>>> = {
  label: labelKind,
  multi_label: multiLabelKind,
  rating: ratingKind,
  numeric: numericKind,
  text: textKind,
  spans: spansKind,
  ranking: rankingKind,
  generation: generationKind,
  preference: preferenceKind,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const kindOf = (question: Question): QuestionKind<any, any, any> => KINDS[question.kind];

/** Export columns every example carries besides its questions' (see the server's fixed columns). */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set(['prediction_id', 'model_version', 'label_source', 'weight']);

/** The name a project created the old way (`taskType` and `labels`) gives its one question. */
export const LEGACY_QUESTION = 'label';

/** The one label question of a project created with `taskType: single_label` and `labels`. */
export function legacyQuestions(labels: LabelDefinition[]): Question[] {
  return [{ name: LEGACY_QUESTION, kind: 'label', labels, required: true }];
}

/** A project's questions: names and exported columns each used once, none named like a fixed column. */
export const Questions = z
  .array(Question)
  .min(1, 'at least one question')
  .max(50)
  .superRefine((questions, ctx) => {
    const names = new Set<string>();
    const columns = new Map<string, string>();
    questions.forEach((question, index) => {
      if (names.has(question.name)) ctx.addIssue({ code: 'custom', message: `question "${question.name}" appears twice`, path: [index, 'name'] });
      names.add(question.name);
      for (const column of kindOf(question).columns(question)) {
        if (RESERVED_COLUMNS.has(column.name))
          ctx.addIssue({
            code: 'custom',
            message: `"${column.name}" is an exported column every example has: name the question otherwise`,
            path: [index, 'name'],
          });
        const other = columns.get(column.name);
        if (other && other !== question.name)
          ctx.addIssue({ code: 'custom', message: `its exported column "${column.name}" is also one of question "${other}"`, path: [index, 'name'] });
        columns.set(column.name, question.name);
      }
    });
    // a preference compares two responses of a generation question of the same project
    questions.forEach((question, index) => {
      if (question.kind !== 'preference') return;
      const of = questions.find((q) => q.name === question.of);
      if (of?.kind !== 'generation')
        ctx.addIssue({ code: 'custom', message: `"${question.of}" is not a generation question of the project`, path: [index, 'of'] });
    });
  });

/** The question the model's output is for: routing, monitoring and feedback rules read it. */
export function routingQuestionOf(questions: readonly Question[], name: string): Question {
  const question = questions.find((q) => q.name === name);
  if (!question) throw new Error(`no question "${name}"`);
  return question;
}

/** A kind that reads class scores (the prediction's top-level `scores`). */
export const takesScores = (question: Question) => question.kind === 'label' || question.kind === 'multi_label';

/**
 * A rater's answers to a project's questions: each checked by its kind, a required one present,
 * none that the project does not ask. The issue's path starts with the question's name.
 */
export function checkAnswers(questions: readonly Question[], raw: unknown, context?: AnswerContext): Checked<Answers> {
  if (!isObject(raw)) return fail('an object of answers by question name');
  const byName = new Map(questions.map((q) => [q.name, q]));
  for (const key of Object.keys(raw)) if (!byName.has(key)) return fail(`the project asks no question "${key}" (${[...byName.keys()].join(', ')})`, key);
  const answers: Answers = {};
  for (const question of questions) {
    const value = raw[question.name];
    if (value === undefined || value === null) {
      if (question.required) return fail('an answer is required', question.name);
      continue;
    }
    const checked = kindOf(question).answer(question, value, context);
    if (!checked.ok) return fail(checked.issue.message, question.name, ...checked.issue.path);
    answers[question.name] = checked.value as Answer;
  }
  return ok(answers);
}

/** A prediction's `suggestions`: the model's output for any of the questions, each checked by its kind. */
export function checkSuggestions(questions: readonly Question[], raw: unknown, context?: AnswerContext): Checked<Record<string, unknown>> {
  if (!isObject(raw)) return fail('an object of model outputs by question name');
  const byName = new Map(questions.map((q) => [q.name, q]));
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const question = byName.get(name);
    if (!question) return fail(`the project asks no question "${name}"`, name);
    const checked = kindOf(question).suggestion(question, value, context);
    if (!checked.ok) return fail(checked.issue.message, name, ...checked.issue.path);
    out[name] = checked.value;
  }
  return ok(out);
}

/** The model's uncertainty about a question, clamped to [0, 1] whatever rounding its output carries. */
export function uncertaintyOf(question: Question, suggestion: unknown, strategy: Strategy): number {
  const u: number = kindOf(question).uncertainty(question, suggestion, strategy);
  return Number.isFinite(u) ? Math.min(1, Math.max(0, u)) : 0;
}

export function confidenceOf(question: Question, suggestion: unknown): number {
  const c: number = kindOf(question).confidence(question, suggestion);
  return Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0;
}

/**
 * An answer as one text (what `labels.value` and `predictions.predicted_label` hold, so a label
 * and a prediction compare as text): a label or a text as itself, a number by its digits, a label
 * set as its labels in the question's order one per line, spans as `start:end:label` lines. The
 * SQL `backflow_answer_text` writes the same.
 */
export function answerText(question: Question, answer: Answer): string {
  switch (question.kind) {
    case 'label':
    case 'text':
    case 'generation':
      return answer as string;
    case 'rating':
    case 'numeric':
      return (answer as number).toString();
    case 'multi_label':
      return (answer as string[]).join('\n');
    case 'spans':
      return (answer as Span[]).map((s) => `${s.start}:${s.end}:${s.label}`).join('\n');
    case 'ranking':
      return (answer as GradedItem[]).map((g) => `${g.item}:${g.grade}`).join('\n');
    case 'preference':
      return (answer as PreferenceAnswer).preferred;
  }
}

/**
 * The model's output as one text, what `predictions.predicted_label` holds: its answer's text
 * (`answerText` of `predicted`), or for a ranking, whose order grades nothing, its items in the
 * order shown, one per line.
 */
export function predictedText(question: Question, suggestion: unknown): string {
  const predicted = kindOf(question).predicted(question, suggestion) as Answer | undefined;
  if (predicted !== undefined) return answerText(question, predicted);
  return ((suggestion as { candidates?: Array<{ item: string }> }).candidates ?? []).map((c) => c.item).join('\n');
}

export type Decision = { kind: 'agreed'; answers: Answers; agreement: number } | { kind: 'escalate' | 'review'; agreement: number };

/**
 * What several raters' answers to a task decide, question by question (each kind's consensus):
 * agreed when every question is; otherwise one more rater while fewer than `maxAnnotations`
 * answered, then review. A question that is not required keeps an answer when most raters gave
 * one. The agreement is the smallest of the questions'. The SQL `backflow_decide_answers` says
 * the same, and a test holds the two equal.
 */
export function decideAnswers(questions: readonly Question[], answerSets: readonly Answers[], threshold: number, maxAnnotations: number): Decision {
  const n = answerSets.length;
  const answers: Answers = {};
  let agreement = 1;
  let decided = n > 0;
  for (const question of questions) {
    const given = answerSets.map((a) => a[question.name]).filter((a) => a !== undefined && a !== null);
    if (!question.required && 2 * given.length <= n) continue;
    const decision = kindOf(question).consensus(question, given, threshold) as KindDecision<Answer>;
    agreement = Math.min(agreement, decision.agreement);
    if (decision.decided) answers[question.name] = decision.value;
    else decided = false;
  }
  if (n === 0) agreement = 0;
  if (decided) return { kind: 'agreed', answers, agreement };
  return { kind: n < maxAnnotations ? 'escalate' : 'review', agreement };
}

/** One exported column of a project: a question's column reading that question's answer. */
export interface ProjectColumn {
  question: string;
  name: string;
  type: AnswerColumn<unknown>['type'];
  list: boolean;
  domain?: { min: number; max: number };
  values: (answers: Answers) => Array<number | string> | undefined;
}

/** Every question's exported columns, in question order; a column's values are undefined when its question has no answer. */
export function answerColumns(questions: readonly Question[]): ProjectColumn[] {
  return questions.flatMap((question) =>
    (kindOf(question).columns(question) as Array<AnswerColumn<Answer>>).map((column) => ({
      question: question.name,
      name: column.name,
      type: column.type,
      list: column.list,
      domain: column.domain,
      values: (answers: Answers) => {
        const answer = answers[question.name];
        return answer === undefined || answer === null ? undefined : column.values(answer);
      },
    })),
  );
}

/** The routing question's output as a stored prediction holds it: its suggestion, with the class scores for a kind that reads them. */
export function routingOutput(
  question: Question,
  scores: Readonly<Record<string, number>> | null,
  suggestions: Readonly<Record<string, unknown>> | null | undefined,
): unknown {
  const suggestion = suggestions?.[question.name];
  if (!takesScores(question) || !scores || Object.keys(scores).length === 0) return suggestion;
  return { ...(suggestion as object), scores };
}

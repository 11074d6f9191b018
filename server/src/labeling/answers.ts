import type { Answers, GradedItem, PreferenceAnswer } from '@backflow/questions';
import { answerText, checkAnswers, leftOf } from '@backflow/questions';
import { DomainError } from '../common/errors';
import type { ProjectEntity } from '../projects/project.entity';
import { asksOneLabel, routingQuestion } from '../projects/project-questions';
import { LabelingErrors } from './labeling.errors';

/** A rater's (or reviewer's) answers as stored: every answer, and the routing question's as text. */
export interface ReadAnswers {
  answers: Answers;
  /** the routing question's answer as text (`answerText`): what `annotations.label` holds */
  label: string;
  /** per spans field, the largest end an answer gives in it: the database checks it against the item's text */
  spanEnds: Record<string, number> | null;
  /** per ranking question, the items graded (in id order): the database checks them against the list's candidates */
  rankedItems: Record<string, string[]> | null;
}

export const invalidAnswer = (field: string, message: string) => new DomainError('labeling/invalid_answer', `${field}: ${message}`, 400, field);

/** A ranking's grades that are not of its list's candidates, each once. */
export const itemsMismatch = (question: string) =>
  invalidAnswer(`answers.${question}`, "grade every candidate of the task's list, each once: the items graded are not the list's");

/** A preference answer must record the side its task shows the first response on (drawn from the task's id): no other. */
export function checkSides(project: Pick<ProjectEntity, 'questions'>, answers: Answers, taskId: string): void {
  for (const question of project.questions) {
    const answer = answers[question.name] as PreferenceAnswer | undefined;
    if (question.kind !== 'preference' || !answer) continue;
    const left = leftOf(taskId);
    if (answer.left !== left) throw invalidAnswer(`answers.${question.name}.left`, `this task shows the ${left} response on the left, not the ${answer.left}`);
  }
}

/**
 * The answers a body carries: `answers` by question name, each checked by its kind, or the old
 * `label` of a project whose only question is a label. Spans are checked against their field's
 * length where the item is at hand (`input`), else by the database on submit.
 */
export function readAnswers(
  project: Pick<ProjectEntity, 'questions' | 'routingQuestion' | 'labels'>,
  body: { label?: string; answers?: Record<string, unknown> },
  input?: Record<string, unknown>,
): ReadAnswers {
  const routing = routingQuestion(project);
  let raw = body.answers;
  if (body.label !== undefined) {
    if (!asksOneLabel(project))
      throw invalidAnswer(
        'label',
        `this project asks ${project.questions.length} question(s) (${project.questions.map((q) => q.name).join(', ')}): send answers`,
      );
    if (!project.labels.some((l) => l.name === body.label))
      throw LabelingErrors.unknownLabel(
        body.label,
        project.labels.map((l) => l.name),
      );
    raw = { [routing.name]: body.label };
  }
  const checked = checkAnswers(project.questions, raw, input ? { input } : undefined);
  if (!checked.ok) {
    const field = ['answers', ...checked.issue.path].join('.');
    throw invalidAnswer(field, checked.issue.message);
  }
  const answers = checked.value;
  let spanEnds: Record<string, number> | null = null;
  for (const question of project.questions) {
    if (question.kind !== 'spans' || !answers[question.name]) continue;
    const spans = answers[question.name] as Array<{ end: number }>;
    if (spans.length === 0) continue;
    const field = question.field;
    spanEnds ??= {};
    spanEnds[field] = Math.max(spanEnds[field] ?? 0, ...spans.map((s) => s.end));
  }
  let rankedItems: Record<string, string[]> | null = null;
  for (const question of project.questions) {
    if (question.kind !== 'ranking' || !answers[question.name]) continue;
    rankedItems ??= {};
    rankedItems[question.name] = (answers[question.name] as GradedItem[]).map((g) => g.item);
  }
  return { answers, label: answerText(routing, answers[routing.name]), spanEnds, rankedItems };
}

import { taskTypeOf, type CreateProjectRequest, type LabelDefinition, type Question, type TaskType } from '@backflow/contracts';
import { legacyQuestions, routingQuestionOf } from '@backflow/questions';
import type { ProjectEntity } from './project.entity';

/** A project's questions as it stores them: the questions, the routing one, and what the old columns say of it. */
export interface StoredQuestions {
  questions: Question[];
  routingQuestion: string;
  taskType: TaskType;
  labels: LabelDefinition[];
}

const labelsOf = (question: Question): LabelDefinition[] => ('labels' in question ? question.labels : []);

/** What a create request asks, in either form: `questions` (+ `routingQuestion`), or `taskType` and `labels` (one label question). */
export function storedQuestions(request: Pick<CreateProjectRequest, 'questions' | 'routingQuestion' | 'labels'>): StoredQuestions {
  const questions = request.questions ?? legacyQuestions(request.labels!);
  return withQuestions(questions, request.routingQuestion ?? questions[0].name);
}

export function withQuestions(questions: Question[], routingQuestion: string): StoredQuestions {
  const routing = routingQuestionOf(questions, routingQuestion);
  // (the contract refuses a preference as the routing question)
  if (routing.kind === 'preference') throw new Error(`the routing question "${routingQuestion}" is a preference`);
  return { questions, routingQuestion, taskType: taskTypeOf(routing.kind), labels: labelsOf(routing) };
}

/** The project's routing question. */
export const routingQuestion = (project: Pick<ProjectEntity, 'questions' | 'routingQuestion'>): Question =>
  routingQuestionOf(project.questions, project.routingQuestion);

/**
 * A project that asks one label question (every project made with `taskType` and `labels`):
 * its answers are labels, and its consensus the plain majority.
 */
export const asksOneLabel = (project: Pick<ProjectEntity, 'questions'>): boolean => project.questions.length === 1 && project.questions[0].kind === 'label';

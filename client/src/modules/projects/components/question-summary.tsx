import type { Question } from '@backflow/contracts';
import type { Project } from '../api/projects-api';
import { KIND_NAMES } from './questions-editor';

/** The project's questions; a project from a server that sends none asks its labels' one question. */
export function projectQuestions(project: Pick<Project, 'questions' | 'labels'>): Question[] {
  return project.questions ?? [{ name: 'label', kind: 'label', labels: project.labels, required: true }];
}

/** One label question: the project reads, and is edited, by its labels as before questions existed. */
export const asksOneLabel = (project: Pick<Project, 'questions' | 'labels'>) => {
  const questions = projectQuestions(project);
  return questions.length === 1 && questions[0].kind === 'label';
};

const withKeys = (items: ReadonlyArray<{ name: string; hotkey?: string }>) => items.map((l) => (l.hotkey ? `${l.name} (${l.hotkey})` : l.name)).join(', ');

/** A question's settings in a line: its labels, its scale, its bounds. */
export function questionDetails(question: Question): string {
  switch (question.kind) {
    case 'label':
    case 'multi_label':
      return withKeys(question.labels);
    case 'rating':
      return question.points.map((p) => `${p.value} ${p.name}${p.hotkey ? ` (${p.hotkey})` : ''}`).join(', ');
    case 'numeric': {
      const bounds = [question.min !== undefined ? `from ${question.min}` : '', question.max !== undefined ? `to ${question.max}` : '']
        .filter(Boolean)
        .join(' ');
      return [bounds || 'any number', question.unit, question.integer ? 'whole numbers' : ''].filter(Boolean).join(', ');
    }
    case 'text':
      return `up to ${question.maxLength.toLocaleString()} characters${question.prefill !== false ? ', starting from the model’s text' : ''}`;
    case 'spans':
      return `in “${question.field}”: ${withKeys(question.labels)}${question.allowOverlap === false ? '; no overlaps' : ''}`;
    case 'preference':
      return `the better of the first two responses of “${question.of}”, sides drawn per task`;
    case 'generation':
      return `responses up to ${question.maxLength.toLocaleString()} characters, corrected from the model’s first response`;
    case 'ranking':
      return `grades ${question.grades.map((g) => `${g.value} ${g.name}${g.hotkey ? ` (${g.hotkey})` : ''}`).join(', ')}; up to ${question.maxItems ?? 50} candidates, top ${question.k ?? 10}`;
  }
}

/** The questions raters answer, in order: kind, settings, and which one routing reads. */
export function QuestionsSummary({ project }: { project: Pick<Project, 'questions' | 'labels' | 'routingQuestion'> }) {
  const questions = projectQuestions(project);
  return (
    <ol className="question-list" data-testid="questions-summary">
      {questions.map((question) => (
        <li key={question.name}>
          <strong>{question.name}</strong> ({KIND_NAMES[question.kind].toLowerCase()}
          {question.required === false ? ', optional' : ''}
          {question.name === (project.routingQuestion ?? questions[0].name) && questions.length > 1 ? ', routing' : ''}): {questionDetails(question)}
        </li>
      ))}
    </ol>
  );
}

import type { Question, TaskPayload } from '@backflow/contracts';
import { labelWidget } from './label-question';
import { multiLabelWidget } from './multi-label-question';
import { numericWidget } from './numeric-question';
import type { QuestionKind, QuestionOf, QuestionWidget } from './question-widget';
import { rankingWidget, type RankingDraft } from './ranking-question';
import { ratingWidget } from './rating-question';
import { spansWidget, type SpansDraft } from './spans-question';
import { textWidget } from './text-question';
import { generationWidget } from './generation-question';
import { preferenceWidget, type PreferenceDraft } from './preference-question';

/** What a rater has done so far on a question of each kind. */
interface Drafts {
  label: string | null;
  multi_label: string[];
  rating: number | null;
  numeric: string;
  text: string;
  spans: SpansDraft;
  ranking: RankingDraft;
  generation: string;
  preference: PreferenceDraft;
}
type Widgets = { [K in QuestionKind]: QuestionWidget<QuestionOf<K>, Drafts[K]> };

/** Every question kind's widget: the one place that lists them. */
const WIDGETS = {
  label: labelWidget,
  multi_label: multiLabelWidget,
  rating: ratingWidget,
  numeric: numericWidget,
  text: textWidget,
  spans: spansWidget,
  ranking: rankingWidget,
  generation: generationWidget,
  preference: preferenceWidget,
} satisfies Widgets;

/** A question's widget, its draft type erased (a draft only ever meets the widget that made it). */
export const widgetOf = (question: Question) => WIDGETS[question.kind] as unknown as QuestionWidget<Question, unknown>;

/** The one label question a project created with `taskType` and `labels` asks: it answers as `{label}`, as it always did. */
export const LEGACY_QUESTION = 'label';

/** The task's questions; a task from a server that sends none is its labels' one question. */
export function questionsOf(task: Pick<TaskPayload, 'questions' | 'labels'>): Question[] {
  return task.questions ?? [{ name: LEGACY_QUESTION, kind: 'label', labels: task.labels, required: true }];
}

/** A project of one label question named "label": its task looks and answers as before questions existed. */
export const isLegacy = (questions: readonly Question[]) => questions.length === 1 && questions[0].kind === 'label' && questions[0].name === LEGACY_QUESTION;

/** The model's output for a question: the task's `suggestions`, else the routing prediction for a label question with the same labels. */
export function suggestionFor(task: Pick<TaskPayload, 'suggestion' | 'suggestions' | 'labels' | 'machineLabel'>, question: Question): unknown {
  const routing = question.kind === 'label' && question.labels.map((l) => l.name).join('\n') === task.labels.map((l) => l.name).join('\n');
  // a machine's label of the prediction rides with the routing question's suggestion
  const machine = routing && task.machineLabel ? { machine: task.machineLabel } : {};
  const given = task.suggestions?.[question.name];
  if (given !== undefined) return typeof given === 'object' && given !== null ? { ...given, ...machine } : given;
  if (routing && task.suggestion) return { scores: task.suggestion.scores, value: task.suggestion.label, ...machine };
  return routing && task.machineLabel ? machine : undefined;
}

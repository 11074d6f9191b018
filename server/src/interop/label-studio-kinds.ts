import { LABEL_SOURCES, LabelStudioTask } from '@backflow/contracts';
import {
  answersFromResults,
  answersResults,
  answerText,
  checkAnswers,
  decideAnswers,
  objectTags,
  routingOutput,
  suggestionResults,
  suggestionsFromResults,
  takesScores,
  type Answers,
  type LabelStudioResult,
  type Question,
  type ResultContext,
  type ResultIssue,
} from '@backflow/questions';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';
import { flattenFeatures } from './nested-features';
import { emailOf, type ExportedPrediction, type ImportedTaskPlan, metaOf, callerIdOf, taskNameOf, timingOf, type BackflowMeta } from './label-studio-format';
import { timestampOf } from './timestamp';
import { predictionKeyOf } from '../common/ids/prediction-key';
import { uuidV5 } from '../common/ids/uuid-v5';

/**
 * Label Studio tasks of a project that asks several questions, or one of another kind than a
 * label: every question's answer as result items named by the question (`from_name`), in the
 * type its kind takes (`choices`, `rating`, `number`, `textarea`, `labels`), and back. The
 * mapping itself is `@backflow/questions`' label-studio module; this is the task around it.
 */

/** What of a project the mapping reads: its questions and which one the model's output is for. */
export interface ProjectQuestions {
  questions: Question[];
  routingQuestion: string;
}

const routingOf = (project: ProjectQuestions) => project.questions.find((q) => q.name === project.routingQuestion)!;

/** Answers in question order as one text: two answer sets that are the same give the same key. */
const answersKey = (questions: readonly Question[], answers: Answers) => JSON.stringify(questions.map((q) => answers[q.name] ?? null));

/**
 * One Backflow prediction as a Label Studio task: its features as `data` (less the masked
 * ones, unless asked), the model's output for each question as a prediction's results, each
 * rater's answers as an annotation, and the full output (scores, spread, interval) and the
 * final label's answers under `meta.backflow`.
 */
export function toLabelStudioTaskOfQuestions(
  sequence: number,
  p: ExportedPrediction,
  project: ProjectQuestions,
  options: { masked: string[]; raterNumber: (email: string) => number },
): Record<string, unknown> {
  const { questions } = project;
  const routing = routingOf(project);
  const data = options.masked.length ? Object.fromEntries(Object.entries(p.input).filter(([name]) => !options.masked.includes(name))) : p.input;
  const context: ResultContext = { input: p.input, tags: objectTags(questions), showsField: (field) => !options.masked.includes(field) };
  const scores = takesScores(routing) && Object.keys(p.scores).length ? p.scores : null;
  const routingSuggestion = routingOutput(routing, scores, p.suggestions ?? null);
  const outputs: Record<string, unknown> = {
    ...p.suggestions,
    // the model's label as it was, even where it is not the top score (a model with a threshold)
    ...(routingSuggestion !== undefined
      ? { [routing.name]: routing.kind === 'label' ? { ...(routingSuggestion as object), value: p.predictedLabel } : routingSuggestion }
      : {}),
  };
  const label = p.label && { value: p.label.value, source: p.label.source, agreement: p.label.agreement, answers: p.label.answers ?? {} };
  const meta: BackflowMeta = {
    predictionId: p.externalId ?? p.id,
    model: { name: p.modelName, version: p.modelVersion },
    ...(scores ? { scores } : {}),
    ...(p.suggestions && Object.keys(p.suggestions).length ? { suggestions: p.suggestions } : {}),
    slice: p.slice,
    ...(label ? { label } : {}),
  };
  const decidedByReview = label?.source === 'review' ? answersKey(questions, label.answers) : undefined;
  return {
    id: sequence,
    data,
    meta: { backflow: meta },
    created_at: p.occurredAt.toISOString(),
    predictions: [
      {
        model_version: `${p.modelName}@${p.modelVersion}`,
        score: p.confidence,
        result: questions.flatMap((q) => (outputs[q.name] === undefined ? [] : suggestionResults(q, outputs[q.name], context))),
      },
    ],
    annotations: p.annotations.map((a, k) => ({
      id: k + 1,
      completed_by: { id: options.raterNumber(a.email), email: a.email },
      result: answersResults(questions, a.answers ?? {}, context),
      was_cancelled: false,
      ground_truth: decidedByReview !== undefined && decidedByReview === answersKey(questions, a.answers ?? {}),
      lead_time: a.timeSpentMs === null ? null : a.timeSpentMs / 1000,
      created_at: a.createdAt,
    })),
  };
}

/** A refusal of the results at `list` (e.g. `3.annotations.1.result`), with the field it names. */
function refusal(issue: ResultIssue, list: string, where: string, results: readonly LabelStudioResult[]): Error {
  const field = [list, ...(issue.result === undefined ? [] : [issue.result]), ...issue.path].join('.');
  const at = issue.result === undefined ? where : `${where}, result ${issue.result}`;
  if (issue.reason === 'invalid') return InteropErrors.invalidAnswer(field, at, issue.message);
  const result = issue.result === undefined ? undefined : results[issue.result];
  return InteropErrors.unsupportedResult(
    field,
    at,
    issue.message,
    { result: issue.result, type: result?.type, ...(result?.from_name ? { fromName: result.from_name } : {}) },
    false,
  );
}

/**
 * The model's output for the routing question when the task carries none: what says "unknown"
 * (every class as likely, each label at ½, a scale's or a bounded number's whole range as its
 * interval), or nothing for a kind that has no such output.
 */
function unknownOutput(routing: Question): { scores?: Record<string, number>; suggestion?: unknown } | undefined {
  switch (routing.kind) {
    case 'label':
      return { scores: Object.fromEntries(routing.labels.map((l) => [l.name, 1 / routing.labels.length])) };
    case 'multi_label':
      return { scores: Object.fromEntries(routing.labels.map((l) => [l.name, 0.5])) };
    case 'rating': {
      const [low, high] = [routing.points[0].value, routing.points[routing.points.length - 1].value];
      return { suggestion: { value: (low + high) / 2, interval: [low, high] } };
    }
    case 'numeric':
      if (routing.min === undefined || routing.max === undefined) return undefined;
      return { suggestion: { value: (routing.min + routing.max) / 2, interval: [routing.min, routing.max] } };
    default:
      return undefined;
  }
}

/**
 * One Label Studio task as Backflow work in a project of several questions (or of another kind
 * than a label): the prediction (every question's output its first model prediction holds; a
 * Backflow export's full output from `meta.backflow`), each annotation's answers read result by
 * result and checked by the questions' kinds, and the final label: the one Backflow kept, a
 * ground-truth annotation's (the reviewer's), else the project's consensus on the answers.
 */
export function fromLabelStudioTaskOfQuestions(
  task: LabelStudioTask,
  index: number,
  project: ProjectQuestions,
  source: string,
  projectId: string,
  consensus: { agreementThreshold: number },
): ImportedTaskPlan {
  const { questions } = project;
  const routing = routingOf(project);
  const at = `${index}`;
  const meta = metaOf(task);
  const callerId = callerIdOf(task, source);
  const predictionId = predictionKeyOf(projectId, callerId);
  const taskName = taskNameOf(task, index);
  const input = flattenFeatures(task.data, `${at}.data`);

  const modelPrediction = task.predictions[0];
  const fromResults = modelPrediction ? suggestionsFromResults(questions, modelPrediction.result, input) : undefined;
  if (fromResults && !fromResults.ok) throw refusal(fromResults.issue, `${at}.predictions.0.result`, `${taskName}, prediction 0`, modelPrediction.result);
  let suggestions: Record<string, unknown> = fromResults?.value.suggestions ?? {};
  let scores: Record<string, number> | undefined;
  // the model's label as it was, even where it is not the top score (a model with a threshold)
  const predictedLabel = routing.kind === 'label' ? (suggestions[routing.name] as { value?: string } | undefined)?.value : undefined;
  if (isObject(meta.suggestions) || isObject(meta.scores)) {
    // Backflow's own export: the full output (the ingestion path checks it as it checks the API's)
    suggestions = isObject(meta.suggestions) ? meta.suggestions : {};
    if (isObject(meta.scores) && takesScores(routing)) scores = meta.scores;
  } else if (predictedLabel !== undefined && routing.kind === 'label') {
    // Label Studio keeps the chosen class and its score: the rest of the mass is shared by the other classes
    const labels = routing.labels.map((l) => l.name);
    const score = Math.min(1, Math.max(0, fromResults?.value.scores.get(routing.name) ?? modelPrediction.score ?? 1));
    scores = Object.fromEntries(labels.map((l) => [l, l === predictedLabel ? score : (1 - score) / (labels.length - 1)]));
    const { [routing.name]: _, ...others } = suggestions;
    suggestions = others;
  }
  if (suggestions[routing.name] === undefined && scores === undefined) {
    const unknown = unknownOutput(routing);
    if (!unknown) throw InteropErrors.missingPrediction(`${at}.predictions`, taskName, routing.name, routing.kind);
    if (unknown.scores) scores = unknown.scores;
    else suggestions = { ...suggestions, [routing.name]: unknown.suggestion };
  }
  const model = isObject(meta.model) ? meta.model : { name: 'label-studio', version: modelPrediction?.model_version || 'none' };
  const timestamp = timestampOf(task.created_at);
  const prediction = {
    id: callerId,
    model,
    input,
    ...(scores ? { scores } : {}),
    ...(predictedLabel !== undefined ? { predictedLabel } : {}),
    ...(Object.keys(suggestions).length ? { suggestions } : {}),
    ...(isObject(meta.slice) ? { slice: meta.slice } : {}),
    ...(timestamp ? { timestamp } : {}),
    metadata: { labelStudio: { task: task.id ?? null, source } },
  };

  const byRater = new Map<string, ImportedTaskPlan['answers'][number] & { answers: Answers; groundTruth: boolean }>();
  const skipped: ImportedTaskPlan['skipped'] = [];
  task.annotations.forEach((annotation, k) => {
    if (annotation.was_cancelled) {
      skipped.push({ at: `${at}.annotations.${k}`, reason: 'cancelled' });
      return;
    }
    const results = annotation.result as LabelStudioResult[];
    const read = answersFromResults(questions, results, input);
    if (!read.ok) throw refusal(read.issue, `${at}.annotations.${k}.result`, `${taskName}, annotation ${k}`, results);
    if (read.value === undefined) {
      skipped.push({ at: `${at}.annotations.${k}`, reason: 'empty' });
      return;
    }
    const email = emailOf(annotation.completed_by, source);
    // a rater answers a task once: their latest answer stands
    byRater.set(email, {
      id: uuidV5(`label-studio:${projectId}:${predictionId}:${email}`),
      email,
      label: answerText(routing, read.value[routing.name]),
      answers: read.value,
      ...timingOf(annotation),
      groundTruth: annotation.ground_truth === true,
    });
  });
  const answers = [...byRater.values()];
  const plan: ImportedTaskPlan = { prediction, predictionId, answers: answers.map(({ groundTruth: _, ...a }) => a), disputed: false, skipped };
  const share = (decided: Answers) => {
    const key = answersKey(questions, decided);
    return answers.length ? answers.filter((a) => answersKey(questions, a.answers) === key).length / answers.length : 1;
  };

  const kept = meta.label;
  if (isObject(kept) && isObject(kept.answers) && (LABEL_SOURCES as readonly string[]).includes(kept.source)) {
    const checked = checkAnswers(questions, kept.answers, { input });
    if (!checked.ok)
      throw InteropErrors.invalidAnswer(
        [`${at}.meta.backflow.label.answers`, ...checked.issue.path].join('.'),
        `${taskName}, its final label`,
        checked.issue.message,
      );
    const agreement = typeof kept.agreement === 'number' && kept.agreement >= 0 && kept.agreement <= 1 ? kept.agreement : share(checked.value);
    const value = answerText(routing, checked.value[routing.name]);
    plan.label = { value, source: kept.source as NonNullable<ImportedTaskPlan['label']>['source'], agreement, answers: checked.value };
    return plan;
  }
  const groundTruth = answers.find((a) => a.groundTruth);
  if (groundTruth) {
    plan.label = { value: groundTruth.label, source: 'review', agreement: share(groundTruth.answers), answers: groundTruth.answers };
    return plan;
  }
  if (answers.length === 0) return plan;
  // the project's own rule; an imported task gets no more raters, so what it does not agree on goes to review
  const decision = decideAnswers(
    questions,
    answers.map((a) => a.answers),
    consensus.agreementThreshold,
    answers.length,
  );
  if (decision.kind === 'agreed') {
    plan.label = { value: answerText(routing, decision.answers[routing.name]), source: 'consensus', agreement: decision.agreement, answers: decision.answers };
  } else plan.disputed = true;
  return plan;
}

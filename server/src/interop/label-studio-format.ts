import { createHash } from 'node:crypto';
import { type ConsensusRules, decideConsensus } from '@backflow/agreement';
import { LABEL_SOURCES, LabelStudioTask, PREDICTION_ID_PATTERN } from '@backflow/contracts';
import type { Answers } from '@backflow/questions';
import type { PredictionRow } from '../predictions/prediction-validation';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';
import { flattenFeatures } from './nested-features';
import { timestampOf } from './timestamp';
import { predictionKeyOf } from '../common/ids/prediction-key';
import { uuidV5 } from '../common/ids/uuid-v5';

/**
 * Label Studio's JSON export, as its documentation describes it (labelstud.io/guide/task_format
 * and /guide/predictions): a list of tasks with `data`, `predictions[].result/score/model_version`
 * and `annotations[].result/completed_by`. For a project of one label question, Backflow reads
 * and writes choices results: one `<Choices name="label" toName="input">` over the project's
 * labels (a project of other questions: label-studio-kinds.ts). A nested `data` object is read
 * as features with dotted names (`flattenFeatures`).
 */
export const FROM_NAME = 'label';
export const TO_NAME = 'input';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** What Backflow keeps beside Label Studio's fields, under the task's `meta.backflow`, so a round trip loses nothing. */
export interface BackflowMeta {
  predictionId?: string;
  model?: { name: string; version: string };
  scores?: Record<string, number>;
  /** the model's output for every question (a project of several questions, or of another kind) */
  suggestions?: Record<string, unknown>;
  slice?: Record<string, string>;
  /** `answers`: every question's answer (a project of several questions, or of another kind) */
  label?: { value: string; source: string; agreement: number | null; answers?: Answers };
}

/**
 * A stored prediction (as capture keeps it) with its final label and its answers, as the export
 * reads it; `suggestions` and `answers` are every question's (a project of one label question
 * has no use for them).
 */
export type ExportedPrediction = Omit<PredictionRow, 'metadata' | 'suggestions' | 'committee' | 'embedding' | 'routingOutput'> & {
  suggestions?: Record<string, unknown> | null;
  label: { value: string; source: string; agreement: number | null; answers?: Answers } | null;
  annotations: Array<{ id: string; email: string; label: string; timeSpentMs: number | null; createdAt: string; answers?: Answers }>;
};

const choices = (label: string, extra: Record<string, unknown> = {}) => [
  { id: label.slice(0, 10), from_name: FROM_NAME, to_name: TO_NAME, type: 'choices', value: { choices: [label] }, ...extra },
];

/**
 * One Backflow prediction as a Label Studio task: its features as `data` (less the masked
 * ones, unless asked), the model's choice as a prediction, each human answer as an annotation
 * by its rater, and the final label with the full scores under `meta.backflow`.
 */
export function toLabelStudioTask(
  sequence: number,
  p: ExportedPrediction,
  options: { masked: string[]; raterNumber: (email: string) => number },
): Record<string, unknown> {
  const data = options.masked.length ? Object.fromEntries(Object.entries(p.input).filter(([name]) => !options.masked.includes(name))) : p.input;
  const meta: BackflowMeta = {
    // the id the model server sent (a request id stays one), keyed again by the project it is imported into
    predictionId: p.externalId ?? p.id,
    model: { name: p.modelName, version: p.modelVersion },
    scores: p.scores,
    slice: p.slice,
    ...(p.label && { label: { value: p.label.value, source: p.label.source, agreement: p.label.agreement } }),
  };
  return {
    id: sequence,
    data,
    meta: { backflow: meta },
    created_at: p.occurredAt.toISOString(),
    predictions: [{ model_version: `${p.modelName}@${p.modelVersion}`, score: p.confidence, result: choices(p.predictedLabel, { score: p.confidence }) }],
    annotations: p.annotations.map((a, k) => ({
      id: k + 1,
      completed_by: { id: options.raterNumber(a.email), email: a.email },
      result: choices(a.label),
      was_cancelled: false,
      ground_truth: p.label !== null && p.label.source === 'review' && p.label.value === a.label,
      lead_time: a.timeSpentMs === null ? null : a.timeSpentMs / 1000,
      created_at: a.createdAt,
    })),
  };
}

export interface ImportedTaskPlan {
  prediction: Record<string, unknown>;
  predictionId: string;
  /** `label`: the routing question's answer as text; `answers`: every question's (a project of several questions, or of another kind) */
  answers: Array<{ id: string; email: string; label: string; timeSpentMs: number | null; createdAt: Date; answers?: Answers }>;
  /** the final label, when the task was finished; `feedback` when it came from Backflow's feedback rules */
  label?: { value: string; source: 'consensus' | 'review' | 'gold' | 'feedback'; agreement: number; answers?: Answers };
  /** answers that disagree with no reviewer's word: the task waits in review */
  disputed: boolean;
  /** annotations that hold no answer (cancelled, or submitted empty), by where they are in the file */
  skipped: Array<{ at: string; reason: 'cancelled' | 'empty' }>;
}

type Results = LabelStudioTask['annotations'][number]['result'];

/**
 * The one choice a result list makes, or undefined when it makes none (an empty list, or a
 * choices result with nothing chosen). Anything else is refused, naming the task and the
 * result: several choices, a second choices result, or a result of another type (a textarea,
 * a rating, a region…), which Backflow cannot store until question kinds exist.
 */
function choiceOf(results: Results, field: string, where: string): { value: string; at: string; score?: number } | undefined {
  let chosen: { value: string; at: string; score?: number } | undefined;
  results.forEach((result, j) => {
    const at = `${field}.${j}`;
    const named = result.from_name ? ` (from_name "${result.from_name}")` : '';
    const details = { result: j, type: result.type, ...(result.from_name ? { fromName: result.from_name } : {}) };
    if (result.type !== 'choices')
      throw InteropErrors.unsupportedResult(`${at}.type`, `${where}, result ${j}`, `a ${result.type} result${named} cannot be stored`, details);
    const choices = result.value?.choices ?? [];
    if (choices.length > 1) {
      throw InteropErrors.unsupportedResult(
        `${at}.value.choices`,
        `${where}, result ${j}`,
        `${choices.length} choices ${JSON.stringify(choices).slice(0, 200)}${named} (a multi-choice answer) cannot be stored as one`,
        { ...details, choices: choices.length },
      );
    }
    if (choices.length === 0) return;
    if (chosen !== undefined)
      throw InteropErrors.unsupportedResult(`${at}`, `${where}, result ${j}`, `a second choices result${named}: one question per task`, details);
    chosen = { value: choices[0], at: `${at}.value.choices.0`, score: result.score };
  });
  return chosen;
}

/** The rater of an annotation: the Label Studio email when the file has one, else an address made of its user id. */
export function emailOf(completedBy: unknown, source: string): string {
  const candidate = isObject(completedBy) ? completedBy.email : completedBy;
  if (typeof candidate === 'string' && EMAIL.test(candidate)) return candidate.toLowerCase();
  const id = isObject(completedBy) ? completedBy.id : completedBy;
  const key = typeof id === 'number' || typeof id === 'string' ? String(id) : 'unknown';
  // Label Studio's user ids are per instance: the name says which export they came from
  return `label-studio-${key.replace(/[^a-z0-9-]/gi, '').slice(0, 40) || 'user'}@${source}.imported.invalid`;
}

/**
 * The account that takes the answers a file credits to a real person who may not label the
 * project: their address, made into an address of nobody (an import never grants access).
 */
export function standInEmail(email: string): string {
  return `${email
    .replace('@', '.at.')
    .replace(/[^a-z0-9.+-]/gi, '')
    .slice(0, 120)}@stand-in.imported.invalid`;
}

/** What a Backflow export kept under the task's `meta.backflow` (nothing, for a file Label Studio wrote). */
export function metaOf(task: LabelStudioTask): BackflowMeta {
  const backflow = task.meta?.backflow;
  return isObject(backflow) ? backflow : {};
}

/**
 * The prediction a task is, as its model server named it: the id of the Backflow prediction it
 * was exported from (the caller's own, `req-1`, or a UUID), else one derived from the Label
 * Studio project and task. Capture keys it in the importing project (ADR 0043).
 */
export function callerIdOf(task: LabelStudioTask, source: string): string {
  const meta = metaOf(task);
  if (typeof meta.predictionId === 'string' && PREDICTION_ID_PATTERN.test(meta.predictionId)) return meta.predictionId;
  const taskKey = task.id !== undefined ? String(task.id) : createHash('sha256').update(JSON.stringify(task.data)).digest('hex');
  return uuidV5(`label-studio:${source}:${taskKey}`);
}

/** An annotation's time spent (Label Studio's `lead_time`, in seconds) in milliseconds, and its date (the import time when it has none a database can store). */
export const timingOf = (annotation: LabelStudioTask['annotations'][number]) => ({
  timeSpentMs: typeof annotation.lead_time === 'number' ? Math.min(2_147_483_647, Math.round(annotation.lead_time * 1000)) : null,
  createdAt: new Date(timestampOf(annotation.created_at) ?? Date.now()),
});

/** How a refusal names a task: its place in the file, and its Label Studio id. */
export const taskNameOf = (task: LabelStudioTask, index: number) => `task ${index}${task.id !== undefined ? ` (Label Studio id ${task.id})` : ''}`;

/**
 * One Label Studio task as Backflow work: a prediction (in the ingestion API's shape), the
 * answers by rater email, and the final label when the task is finished (by the project's
 * consensus rule when no reviewer's word or kept label decides it). `source` names the
 * Label Studio project the file came from (for ids and imported rater emails); annotation ids
 * are global, so they are derived within the Backflow project too.
 */
export function fromLabelStudioTask(
  task: LabelStudioTask,
  index: number,
  labels: string[],
  source: string,
  projectId: string,
  consensus: Pick<ConsensusRules, 'agreementThreshold'>,
): ImportedTaskPlan {
  const at = `${index}`;
  const meta = metaOf(task);
  const callerId = callerIdOf(task, source);
  const predictionId = predictionKeyOf(projectId, callerId);
  const taskName = taskNameOf(task, index);
  const modelPrediction = task.predictions[0];
  const modelChoice = modelPrediction ? choiceOf(modelPrediction.result, `${at}.predictions.0.result`, `${taskName}, prediction 0`) : undefined;
  const predicted = modelChoice?.value;
  if (modelChoice && !labels.includes(modelChoice.value)) throw InteropErrors.unknownClass(modelChoice.at, modelChoice.value, labels);
  let scores: Record<string, number>;
  if (isObject(meta.scores)) scores = meta.scores;
  else if (predicted !== undefined) {
    // Label Studio keeps the chosen class and its score: the rest of the mass is shared by the other classes
    const raw = modelChoice?.score ?? modelPrediction.score ?? 1;
    const score = Math.min(1, Math.max(0, raw));
    scores = Object.fromEntries(labels.map((l) => [l, l === predicted ? score : (1 - score) / (labels.length - 1)]));
  } else {
    // no model prediction: every class equally likely (routing sees it as fully uncertain)
    scores = Object.fromEntries(labels.map((l) => [l, 1 / labels.length]));
  }
  const model = isObject(meta.model) ? meta.model : { name: 'label-studio', version: modelPrediction?.model_version || 'none' };
  const timestamp = timestampOf(task.created_at);
  const prediction = {
    id: callerId,
    model,
    input: flattenFeatures(task.data, `${at}.data`),
    scores,
    // the model's choice as it was, even where it is not the top score (a model with a threshold)
    ...(predicted !== undefined ? { predictedLabel: predicted } : {}),
    ...(isObject(meta.slice) ? { slice: meta.slice } : {}),
    ...(timestamp ? { timestamp } : {}),
    metadata: { labelStudio: { task: task.id ?? null, source } },
  };

  const byRater = new Map<string, ImportedTaskPlan['answers'][number] & { groundTruth: boolean }>();
  const skipped: ImportedTaskPlan['skipped'] = [];
  task.annotations.forEach((annotation, k) => {
    if (annotation.was_cancelled) {
      skipped.push({ at: `${at}.annotations.${k}`, reason: 'cancelled' });
      return;
    }
    const choice = choiceOf(annotation.result, `${at}.annotations.${k}.result`, `${taskName}, annotation ${k}`);
    if (choice === undefined) {
      skipped.push({ at: `${at}.annotations.${k}`, reason: 'empty' });
      return;
    }
    if (!labels.includes(choice.value)) throw InteropErrors.unknownClass(choice.at, choice.value, labels);
    const label = choice.value;
    const email = emailOf(annotation.completed_by, source);
    // a rater answers a task once: their latest answer stands
    byRater.set(email, {
      id: uuidV5(`label-studio:${projectId}:${predictionId}:${email}`),
      email,
      label,
      ...timingOf(annotation),
      groundTruth: annotation.ground_truth === true,
    });
  });
  const answers = [...byRater.values()];
  const plan: ImportedTaskPlan = { prediction, predictionId, answers: answers.map(({ groundTruth: _, ...a }) => a), disputed: false, skipped };
  const share = (value: string) => (answers.length ? answers.filter((a) => a.label === value).length / answers.length : 1);

  const kept = meta.label;
  if (isObject(kept) && typeof kept.value === 'string' && labels.includes(kept.value) && (LABEL_SOURCES as readonly string[]).includes(kept.source)) {
    const agreement = typeof kept.agreement === 'number' && kept.agreement >= 0 && kept.agreement <= 1 ? kept.agreement : share(kept.value);
    plan.label = { value: kept.value, source: kept.source as NonNullable<ImportedTaskPlan['label']>['source'], agreement };
    return plan;
  }
  const groundTruth = answers.find((a) => a.groundTruth);
  if (groundTruth) {
    plan.label = { value: groundTruth.label, source: 'review', agreement: share(groundTruth.label) };
    return plan;
  }
  if (answers.length === 0) return plan;
  // the project's own rule; an imported task gets no more raters, so what it does not agree on goes to review
  const decision = decideConsensus(
    answers.map((a) => a.label),
    { agreementThreshold: consensus.agreementThreshold, maxAnnotations: answers.length },
  );
  if (decision.kind === 'agreed') plan.label = { value: decision.label, source: 'consensus', agreement: decision.agreement };
  else plan.disputed = true;
  return plan;
}

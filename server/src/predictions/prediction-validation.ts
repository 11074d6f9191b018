import { PredictionInput, RejectedItem } from '@backflow/contracts';
import { fieldOf } from '../common/validation/zod-validation.pipe';
import { parseCommonPrediction } from './prediction-fast-path';

/** What the database stores for one prediction, after validation against its project. */
export interface PredictionRow {
  id: string;
  modelName: string;
  modelVersion: string;
  input: Record<string, unknown>;
  scores: Record<string, number>;
  predictedLabel: string;
  confidence: number;
  slice: Record<string, string>;
  metadata: Record<string, unknown> | null;
  occurredAt: Date;
}

export interface ProjectLabels {
  labels: string[];
  taskType: 'single_label';
}

export type Verdict = { ok: true; row: PredictionRow } | { ok: false; rejection: Omit<RejectedItem, 'index'> };

const SUM_TOLERANCE = 1e-3;
// predictions stamped further ahead than this are a clock or unit bug (seconds vs milliseconds)
const MAX_FUTURE_MS = 24 * 3600 * 1000;

// a batch checks every item against one ProjectLabels (built per batch, never changed): its label set is built once
const labelSets = new WeakMap<ProjectLabels, Set<string>>();

function labelSet(project: ProjectLabels): Set<string> {
  let known = labelSets.get(project);
  if (!known) labelSets.set(project, (known = new Set(project.labels)));
  return known;
}

function reject(code: string, field: string, message: string): Verdict {
  return { ok: false, rejection: { code, field, message: `${field}: ${message}` } };
}

/** Checks one prediction: its shape (the shared contract; a fast path answers for the plainly valid), then the project's rules on scores and labels. */
export function validatePrediction(raw: unknown, project: ProjectLabels, newId: () => string, now = new Date()): Verdict {
  let p = parseCommonPrediction(raw);
  if (p === undefined) {
    const parsed = PredictionInput.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reject('validation/invalid', fieldOf(issue), issue.message);
    }
    p = parsed.data;
  }
  const known = labelSet(project);
  let sum = 0;
  const labels = Object.keys(p.scores);
  for (const label of labels) {
    const score = p.scores[label];
    if (!known.has(label)) return reject('predictions/unknown_label', `scores.${label}`, `"${label}" is not one of the project's labels (${project.labels.join(', ')})`);
    if (!Number.isFinite(score) || score < 0 || score > 1) return reject('predictions/invalid_scores', `scores.${label}`, 'a score must be a finite probability in [0, 1]');
    sum += score;
  }
  if (labels.length === 0) return reject('predictions/invalid_scores', 'scores', 'at least one class score is needed');
  if (project.taskType === 'single_label' && Math.abs(sum - 1) > SUM_TOLERANCE) {
    return reject('predictions/scores_not_normalized', 'scores', `single-label scores must sum to 1 (±${SUM_TOLERANCE}); they sum to ${sum.toFixed(6)}`);
  }
  if (p.predictedLabel !== undefined && !known.has(p.predictedLabel)) {
    return reject('predictions/unknown_label', 'predictedLabel', `"${p.predictedLabel}" is not one of the project's labels`);
  }
  const predictedLabel = p.predictedLabel ?? argmax(p.scores, project.labels);
  const occurredAt = p.timestamp ? new Date(p.timestamp) : now;
  if (occurredAt.getTime() - now.getTime() > MAX_FUTURE_MS) return reject('predictions/timestamp_in_future', 'timestamp', 'more than a day ahead of the server clock');
  return {
    ok: true,
    row: {
      id: p.id ?? newId(),
      modelName: p.model.name,
      modelVersion: p.model.version,
      input: p.input,
      scores: p.scores,
      predictedLabel,
      confidence: p.scores[predictedLabel] ?? 0,
      slice: p.slice ?? {},
      metadata: p.metadata ?? null,
      occurredAt,
    },
  };
}

/** The highest score; ties go to the label listed first in the project. */
export function argmax(scores: Record<string, number>, order: string[]): string {
  let best = order.find((label) => label in scores) ?? Object.keys(scores)[0];
  for (const label of order) if ((scores[label] ?? -1) > (scores[best] ?? -1)) best = label;
  return best;
}

import { createHash } from 'node:crypto';
import type { Question, RoutingPolicy, RoutingPreviewReply } from '@backflow/contracts';
import { routingOutput } from '@backflow/questions';
import { budgetLines, canonicalJson, CLOCK_PERIODS, decide, explorationDraw, targetQuantile, uncertaintyOf } from './routing-policy';

/** The dedupe key of an input: sha-256 of its canonical JSON. */
export function inputFingerprint(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('base64url');
}

export interface StoredPrediction {
  id: string;
  modelName: string;
  modelVersion: string;
  scores: Record<string, number>;
  /** the model's output by question (a prediction of a project that asks several) */
  suggestions?: Record<string, unknown> | null;
  /** other models' class scores for the same input, by member */
  committee?: Record<string, Record<string, number>> | null;
  embedding?: number[] | null;
  predictedLabel: string;
  confidence: number;
  slice: Record<string, string>;
  input: unknown;
  receivedAt: Date;
  /** the current feedback label, when feedback decided one */
  feedbackLabel: string | null;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LISTED_SLICES = 50;

/** The exact (1 − rate) quantile of the scores: what the streaming estimate converges to. */
function exactThreshold(scores: number[], targetRate: number): number {
  const sorted = [...scores].sort((a, b) => a - b);
  const p = targetQuantile(targetRate);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/**
 * Replays stored predictions, oldest first, through a policy: the routing each would have
 * got (thresholds from the exact quantile per model version, dedupe over the window,
 * budgets per clock hour and UTC day of when they were received and per window of predictions
 * in the order replayed; not per request, whose bounds are not stored), and feedback
 * contradictions as the policy would count them.
 */
export function simulateRouting(policy: RoutingPolicy, question: Question, projectId: string, predictions: readonly StoredPrediction[]): RoutingPreviewReply {
  const scored = predictions.map((p) => ({ p, uncertainty: uncertaintyOf(policy, question, routingOutput(question, p.scores, p.suggestions), p.committee) }));
  const byVersion = new Map<string, { model: string; version: string; scores: number[] }>();
  for (const { p, uncertainty } of scored) {
    const key = JSON.stringify([p.modelName, p.modelVersion]);
    const group = byVersion.get(key) ?? { model: p.modelName, version: p.modelVersion, scores: [] };
    group.scores.push(uncertainty);
    byVersion.set(key, group);
  }
  const thresholds = new Map<string, number | undefined>();
  for (const [key, group] of byVersion) {
    thresholds.set(key, policy.threshold ?? (policy.targetRate !== undefined ? exactThreshold(group.scores, policy.targetRate) : undefined));
  }

  const routed = { uncertain: 0, exploration: 0, contradiction: 0 };
  let droppedByBudget = 0;
  let deduplicated = 0;
  const used = new Map<string, number>();
  const routedUntil = new Map<string, number>();
  const slices = new Map<string, { slice: string; predictions: number; routed: number; uncertain: number; exploration: number; contradiction: number }>();
  const windowMs = policy.dedupeWindowMinutes * 60_000;

  for (const [index, { p, uncertainty }] of scored.entries()) {
    const at = p.receivedAt.getTime();
    const sliceEntries = Object.entries(p.slice).map(([key, value]) => `${key}=${value}`);
    for (const name of sliceEntries) {
      const entry = slices.get(name) ?? { slice: name, predictions: 0, routed: 0, uncertain: 0, exploration: 0, contradiction: 0 };
      entry.predictions++;
      slices.set(name, entry);
    }
    const decision = decide(policy, thresholds.get(JSON.stringify([p.modelName, p.modelVersion])), {
      uncertainty,
      slice: p.slice,
      draw: explorationDraw(projectId, p.id),
    });
    const contradicted = p.feedbackLabel !== null && p.feedbackLabel !== p.predictedLabel && p.confidence >= policy.contradictionConfidence;
    // a preview replays the policy alone: no alert boosts, so no drift decisions
    const reason = (decision?.reason === 'drift' ? 'exploration' : decision?.reason) ?? (contradicted ? 'contradiction' : undefined);
    if (!reason) continue;

    const fingerprint = reason === 'contradiction' || windowMs === 0 ? undefined : inputFingerprint(p.input);
    if (fingerprint && (routedUntil.get(fingerprint) ?? -Infinity) > at) {
      deduplicated++;
      continue;
    }
    // a window of predictions by its place in the replay; a request's cap is not replayed (the requests are not known)
    const window = policy.budget.perPredictions && Math.floor(index / policy.budget.perPredictions.predictions);
    const lines = budgetLines(policy, p.slice, window)
      .filter((line) => line.period !== 'batch')
      .map((line) => ({
        ...line,
        key: `${line.period}|${line.scope}|${CLOCK_PERIODS.has(line.period) ? Math.floor(at / (line.period === 'hour' ? HOUR : DAY)) : ''}`,
      }));
    if (!lines.every((line) => (used.get(line.key) ?? 0) < line.cap)) {
      droppedByBudget++;
      continue;
    }
    for (const line of lines) used.set(line.key, (used.get(line.key) ?? 0) + 1);
    if (fingerprint) routedUntil.set(fingerprint, at + windowMs);
    routed[reason]++;
    for (const name of sliceEntries) {
      const entry = slices.get(name)!;
      entry.routed++;
      entry[reason]++;
    }
  }

  const total = routed.uncertain + routed.exploration + routed.contradiction;
  const from = predictions[0]?.receivedAt;
  const to = predictions[predictions.length - 1]?.receivedAt;
  const hours = from && to ? (to.getTime() - from.getTime()) / HOUR : 0;
  return {
    sampled: predictions.length,
    from: from?.toISOString() ?? null,
    to: to?.toISOString() ?? null,
    hours,
    thresholds: [...byVersion].map(([key, group]) => ({ model: group.model, version: group.version, threshold: thresholds.get(key) ?? null })),
    routed: { total, ...routed },
    droppedByBudget,
    deduplicated,
    // what the traffic would ask for, within the hourly and daily caps
    expectedTasksPerHour: Math.min(hours > 0 ? total / hours : total, policy.budget.perHour ?? Infinity, policy.budget.perDay ?? Infinity),
    bySlice: [...slices.values()].sort((a, b) => b.routed - a.routed || a.slice.localeCompare(b.slice)).slice(0, LISTED_SLICES),
  };
}

import type { Question, RoutingPolicy, TaskReason } from '@backflow/contracts';
import { uncertaintyOf as questionUncertainty } from '@backflow/questions';
import { drawPrefix, type DrawPrefix, klToConsensus, unitDraw, voteEntropy } from '@backflow/sampling';

/**
 * Priority = (reason weight + uncertainty) × slice boost. The weight puts contradictions
 * (3) above drift and gold (2) above uncertainty, exploration and the labeling functions'
 * conflicts (`weak`, 1) at equal boost; the
 * uncertainty score in [0, 1] orders tasks within a reason; a slice boost (up to 100)
 * lets a degrading slice overtake the rest.
 */
export const REASON_WEIGHT: Readonly<Record<TaskReason, number>> = { contradiction: 3, drift: 2, gold: 2, uncertain: 1, exploration: 1, weak: 1 };
export const MAX_BOOST = 100;

export function priorityOf(reason: TaskReason, uncertaintyScore: number, boost: number): number {
  return (REASON_WEIGHT[reason] + uncertaintyScore) * boost;
}

/** The product of the boosts whose `key=value` the prediction's slice matches, capped. */
export function sliceBoost(policy: Pick<RoutingPolicy, 'sliceBoosts'>, slice: Readonly<Record<string, string>>): number {
  let boost = 1;
  // most projects boost nothing: then no slice's key needs to be made
  for (const _ in policy.sliceBoosts) {
    for (const key in slice) boost *= policy.sliceBoosts[`${key}=${slice[key]}`] ?? 1;
    break;
  }
  return Math.min(boost, MAX_BOOST);
}

/** A prediction's committee: other models' class scores for the same input, by member. */
export type CommitteeScores = Readonly<Record<string, Readonly<Record<string, number>>>> | null | undefined;

/** The class scores in a label question's output, if it has any. */
function scoresOf(output: unknown): Readonly<Record<string, number>> | undefined {
  if (output === null || typeof output !== 'object' || !('scores' in output)) return undefined;
  const scores = output.scores;
  return scores !== null && typeof scores === 'object' ? (scores as Record<string, number>) : undefined;
}

/**
 * The routing question's uncertainty by the policy's strategy (each kind reads it its own way),
 * clamped to [0, 1] for the column's CHECK. A committee strategy reads the model's scores and its
 * committee's; a committee of one has no disagreement to measure, and the model's entropy stands in.
 */
export function uncertaintyOf(policy: Pick<RoutingPolicy, 'strategy'>, question: Question, output: unknown, committee?: CommitteeScores): number {
  if (output === undefined) return 0;
  if (policy.strategy === 'vote_entropy' || policy.strategy === 'kl_divergence') {
    const scores = scoresOf(output);
    const members: Array<Readonly<Record<string, number>>> = [...(scores ? [scores] : []), ...Object.values(committee ?? {})];
    if (members.length < 2) return questionUncertainty(question, output, 'entropy');
    return policy.strategy === 'vote_entropy' ? voteEntropy(members) : klToConsensus(members);
  }
  return questionUncertainty(question, output, policy.strategy);
}

// the hash of `<project id>:` for the projects drawn for lately (kept few: a process serves a handful)
const projectPrefixes = new Map<string, DrawPrefix>();
const KEPT_PREFIXES = 1_000;

/** The prediction's fixed draw for exploration (`unitDraw` of `<project id>:<prediction id>`): the same prediction always gets the same one. */
export function explorationDraw(projectId: string, predictionId: string): number {
  let prefix = projectPrefixes.get(projectId);
  if (!prefix) {
    if (projectPrefixes.size >= KEPT_PREFIXES) projectPrefixes.clear();
    projectPrefixes.set(projectId, (prefix = drawPrefix(`${projectId}:`)));
  }
  return unitDraw(predictionId, prefix);
}

export interface RoutingCandidate {
  uncertainty: number;
  slice: Readonly<Record<string, string>>;
  /** a uniform draw in [0, 1), fixed per prediction */
  draw: number;
}

export interface RoutingDecision {
  reason: Extract<TaskReason, 'uncertain' | 'exploration' | 'drift'>;
  inclusionProbability: number;
  priority: number;
}

// a slice under an alert is sampled at least at this rate × its boost, even with exploration off
export const ALERT_SAMPLING_FLOOR = 0.01;

/**
 * Uncertain when the score reaches the threshold (included with probability 1); otherwise
 * explored with probability ε × slice boost (capped at 1), which is what the task records
 * so estimates can weight it back to the whole traffic. A slice under a monitoring alert
 * (`alertBoosts`, "key=value" → factor) is boosted further and sampled at least at
 * 1% × boost; what that sampling picks carries reason `drift`.
 */
export function decide(
  policy: RoutingPolicy,
  threshold: number | undefined,
  candidate: RoutingCandidate,
  alertBoosts: Readonly<Record<string, number>> = {},
): RoutingDecision | null {
  const alert = sliceBoost({ sliceBoosts: alertBoosts }, candidate.slice);
  const boost = Math.min(MAX_BOOST, sliceBoost(policy, candidate.slice) * alert);
  if (threshold !== undefined && candidate.uncertainty >= threshold) {
    return { reason: 'uncertain', inclusionProbability: 1, priority: priorityOf('uncertain', candidate.uncertainty, boost) };
  }
  const rate = alert > 1 ? Math.max(policy.explorationRate, ALERT_SAMPLING_FLOOR) : policy.explorationRate;
  const exploration = Math.min(1, rate * boost);
  if (exploration > 0 && candidate.draw < exploration) {
    const reason = alert > 1 ? 'drift' : 'exploration';
    return { reason, inclusionProbability: exploration, priority: priorityOf(reason, candidate.uncertainty, boost) };
  }
  return null;
}

/** The uncertainty quantile a target rate asks for (route scores at or above it). */
export function targetQuantile(targetRate: number): number {
  // a rate too small to tell from 0 in 1 - rate still names a quantile below 1 (the fuzzer sent 1e-300)
  return Math.min(1 - targetRate, 1 - Number.EPSILON);
}

/** A clock period (counted in `routing_budget_usage`), one routing request, or a window of predictions received. */
export type BudgetPeriod = 'hour' | 'day' | 'batch' | 'predictions';
export const CLOCK_PERIODS: ReadonlySet<BudgetPeriod> = new Set(['hour', 'day']);
export const GLOBAL_SCOPE = '*';

export interface BudgetLine {
  scope: string;
  period: BudgetPeriod;
  cap: number;
}

/**
 * The caps a prediction's task counts against: the project's, its slice value's when the budget
 * is per slice, the request's, and the window of predictions it falls in (`window`, its index,
 * when the budget has `perPredictions`).
 */
export function budgetLines(policy: Pick<RoutingPolicy, 'budget'>, slice: Readonly<Record<string, string>>, window?: number): BudgetLine[] {
  const { perHour, perDay, perSlice, perBatch, perPredictions } = policy.budget;
  const lines: BudgetLine[] = [];
  if (perHour !== undefined) lines.push({ scope: GLOBAL_SCOPE, period: 'hour', cap: perHour });
  if (perDay !== undefined) lines.push({ scope: GLOBAL_SCOPE, period: 'day', cap: perDay });
  if (perSlice) {
    const scope = `${perSlice.key}=${slice[perSlice.key] ?? ''}`;
    if (perSlice.perHour !== undefined) lines.push({ scope, period: 'hour', cap: perSlice.perHour });
    if (perSlice.perDay !== undefined) lines.push({ scope, period: 'day', cap: perSlice.perDay });
  }
  if (perBatch !== undefined) lines.push({ scope: GLOBAL_SCOPE, period: 'batch', cap: perBatch });
  if (perPredictions && window !== undefined) lines.push({ scope: windowScope(window), period: 'predictions', cap: perPredictions.tasks });
  return lines;
}

/** The scope of a window of predictions, by its index (received count ÷ window size, rounded down). */
export const windowScope = (window: number) => `#${window}`;

export const budgetKey = (line: Pick<BudgetLine, 'scope' | 'period'>) => `${line.period}|${line.scope}`;

/**
 * Grants budget to candidates in priority order: a candidate gets a task only when every
 * line it counts against has room. `used` is updated in place; returns the granted ones.
 */
export function allocateBudget<T extends { priority: number; lines: BudgetLine[] }>(
  candidates: readonly T[],
  used: Map<string, number>,
  options: { ordered?: boolean } = {},
): T[] {
  const granted: T[] = [];
  // `ordered`: the candidates come in the order to grant them (spread over the embedding space), not by priority
  for (const candidate of options.ordered ? candidates : [...candidates].sort((a, b) => b.priority - a.priority)) {
    if (!candidate.lines.every((line) => (used.get(budgetKey(line)) ?? 0) < line.cap)) continue;
    for (const line of candidate.lines) used.set(budgetKey(line), (used.get(budgetKey(line)) ?? 0) + 1);
    granted.push(candidate);
  }
  return granted;
}

/** A stable hash key of a prediction's input: the same features in any key order give the same key. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

import { majorityVote } from './majority';

/** Where a task stands once it has all the answers it asked for. */
export type ConsensusOutcome =
  | { kind: 'agreed'; label: string; agreement: number }
  /** ask one more rater */
  | { kind: 'escalate'; agreement: number }
  /** a reviewer decides */
  | { kind: 'review'; agreement: number };

export interface ConsensusRules {
  /** the share the majority label needs */
  agreementThreshold: number;
  /** the most answers a task may collect before review */
  maxAnnotations: number;
}

/**
 * The majority rule: the majority label with its agreement ratio (majority count / answers); a
 * tie has no majority. Below the threshold, or tied, the task gets one more rater while it may,
 * then review. The submit's SQL twin (`backflow_consensus`) is held equal to this by a test.
 */
export function decideConsensus(labels: readonly string[], rules: ConsensusRules): ConsensusOutcome {
  const vote = majorityVote(labels);
  const agreement = vote.share;
  if (vote.label !== undefined && agreement >= rules.agreementThreshold) return { kind: 'agreed', label: vote.label, agreement };
  return labels.length < rules.maxAnnotations ? { kind: 'escalate', agreement } : { kind: 'review', agreement };
}

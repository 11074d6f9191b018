import { countProportion, type Estimate } from '@backflow/drift';
import type { Vote } from './labeling-functions';

export interface FunctionAnalysis {
  /** the labels it voted */
  polarity: string[];
  /** the share of predictions it voted on */
  coverage: number;
  /** the share where it and at least one other function voted */
  overlaps: number;
  /** the share where it and at least one other function voted different labels */
  conflicts: number;
  /** predictions with a human label that it voted on, and how many of those votes were the label */
  correct: number;
  incorrect: number;
  /** correct ÷ (correct + incorrect), with its 95% Wilson interval; null without a labelled vote */
  empiricalAccuracy: Estimate | null;
}

/**
 * Snorkel's LF analysis (`LFAnalysis.lf_summary`) of a vote matrix: per function its polarity,
 * coverage, overlaps and conflicts over every prediction, and its empirical accuracy against the
 * human labels given (`gold[i]` for prediction i, undefined when it has none). Also the share of
 * predictions at least one function voted on, and at least two, and two that disagree.
 */
export function analyseLabelingFunctions(
  votes: ReadonlyArray<readonly Vote[]>,
  functions: number,
  gold: ReadonlyArray<string | undefined> = [],
): { functions: FunctionAnalysis[]; coverage: number; overlaps: number; conflicts: number } {
  const n = votes.length;
  const counts = Array.from({ length: functions }, () => ({ polarity: new Set<string>(), voted: 0, overlaps: 0, conflicts: 0, correct: 0, incorrect: 0 }));
  let covered = 0;
  let overlapping = 0;
  let conflicting = 0;
  for (let i = 0; i < n; i++) {
    const row = votes[i];
    const voted: number[] = [];
    for (let j = 0; j < functions; j++) if (row[j] !== null && row[j] !== undefined) voted.push(j);
    const labels = new Set(voted.map((j) => row[j]));
    if (voted.length > 0) covered++;
    if (voted.length > 1) overlapping++;
    if (labels.size > 1) conflicting++;
    for (const j of voted) {
      const c = counts[j];
      c.voted++;
      c.polarity.add(row[j]!);
      if (voted.length > 1) c.overlaps++;
      if (voted.some((k) => k !== j && row[k] !== row[j])) c.conflicts++;
      const truth = gold[i];
      if (truth !== undefined) {
        if (row[j] === truth) c.correct++;
        else c.incorrect++;
      }
    }
  }
  const share = (k: number) => (n > 0 ? k / n : 0);
  return {
    functions: counts.map((c) => ({
      polarity: [...c.polarity].sort(),
      coverage: share(c.voted),
      overlaps: share(c.overlaps),
      conflicts: share(c.conflicts),
      correct: c.correct,
      incorrect: c.incorrect,
      empiricalAccuracy: countProportion(c.correct, c.correct + c.incorrect) ?? null,
    })),
    coverage: share(covered),
    overlaps: share(overlapping),
    conflicts: share(conflicting),
  };
}

/**
 * Whether a labelled estimate of accuracy stands for its traffic, and an estimate that needs no
 * labels beside it (issue 24 d).
 *
 * Routing labels the uncertain predictions (inclusion probability 1) and a random draw of the rest
 * (probability ε). Weighted by 1/p, the labels describe all traffic only when the draw reached the
 * confident part of it: with exploration off, the labels are the uncertain predictions alone, and
 * the estimate describes them, however narrow its interval.
 *
 * The confidence-based estimate (CBPE, as NannyML computes it) is the mean over the window's
 * predictions of the chance each one is right, read off the model's confidence after calibration:
 * P(right | confidence) is measured on human labels per confidence bin, which routing does not bias
 * (it chooses by the score, so within a bin the labelled predictions are like the others); a bin
 * with too few labels falls back on the model's own confidence.
 */

/** Confidence bins of the calibration: ten of equal width. */
export const CALIBRATION_BINS = 10;
/** Labels that weigh like the raw confidence in a bin's calibrated chance: fewer labels lean on the model. */
const PRIOR_LABELS = 5;
/** The share of the window's predictions the labels' Horvitz–Thompson count must reach when few labels were drawn at random. */
export const MIN_COVERAGE = 0.5;

export interface SupportInput {
  /** the labels of the window: their inclusion probabilities (null for a label without a routed task, which counts as chosen for sure) */
  inclusionProbabilities: ReadonlyArray<number | null>;
  /** the group's predictions in the window, or undefined when not known */
  predictions: number | undefined;
  /** labels drawn at random a group needs (the monitoring setting `minLabels`) */
  minExplored: number;
}

export interface EstimateSupport {
  /** labels chosen by a random draw (inclusion probability below 1) */
  explored: number;
  /** Σ 1/p over the labels ÷ the predictions of the window: the share of traffic the labels stand for; null when the count of predictions is not known */
  coverage: number | null;
  /** the estimate stands for the traffic: `explored` ≥ minLabels, or `coverage` ≥ 0.5 */
  supported: boolean;
}

/**
 * The rule: a labelled estimate stands for its traffic when at least `minLabels` of its labels
 * were drawn at random (the confident part of the traffic is in the sample), or when the labels'
 * Horvitz–Thompson count reaches half the window's predictions (every prediction routed, as with
 * threshold 0). Otherwise it rests on too few explored labels.
 */
export function supportOf({ inclusionProbabilities, predictions, minExplored }: SupportInput): EstimateSupport {
  let explored = 0;
  let represented = 0;
  for (const p of inclusionProbabilities) {
    const probability = p ?? 1;
    if (probability < 1) explored++;
    represented += 1 / probability;
  }
  const coverage = predictions ? represented / predictions : null;
  return { explored, coverage, supported: explored >= minExplored || (coverage ?? 0) >= MIN_COVERAGE };
}

const binOf = (confidence: number) => Math.min(CALIBRATION_BINS - 1, Math.max(0, Math.floor(confidence * CALIBRATION_BINS)));

export interface Calibration {
  /** the chance of being right by bin: labels' hit rate, shrunk toward the bin's mean confidence by PRIOR_LABELS */
  chance(confidence: number): number;
  /** whether the bin of this confidence has labels enough (PRIOR_LABELS) to be read from them */
  fromLabels(confidence: number): boolean;
}

/** P(right | confidence) per bin from labelled predictions (the model's predicted label against the human one). */
export function calibrationOf(labelled: ReadonlyArray<{ confidence: number; correct: boolean }>): Calibration {
  const hits = new Array<number>(CALIBRATION_BINS).fill(0);
  const counts = new Array<number>(CALIBRATION_BINS).fill(0);
  for (const l of labelled) {
    const bin = binOf(l.confidence);
    counts[bin]++;
    if (l.correct) hits[bin]++;
  }
  return {
    chance: (confidence) => {
      const bin = binOf(confidence);
      return (hits[bin] + PRIOR_LABELS * confidence) / (counts[bin] + PRIOR_LABELS);
    },
    fromLabels: (confidence) => counts[binOf(confidence)] >= PRIOR_LABELS,
  };
}

export interface ConfidenceBased {
  /** the expected accuracy: the mean calibrated chance of being right */
  value: number;
  /** its 95% interval from the spread of outcomes alone (Σ c(1 − c)), the calibration taken as exact */
  low: number;
  high: number;
  /** the predictions it was worked out over */
  predictions: number;
  /** the share of them whose bin is calibrated from labels; the rest rest on the model's own confidence */
  calibratedShare: number;
}

/** The confidence-based estimate over predictions, each with its calibrated chance of being right and whether labels calibrated it. */
export function confidenceBased(chances: ReadonlyArray<{ chance: number; fromLabels: boolean }>): ConfidenceBased | undefined {
  if (chances.length === 0) return undefined;
  let sum = 0;
  let variance = 0;
  let calibrated = 0;
  for (const { chance, fromLabels } of chances) {
    sum += chance;
    variance += chance * (1 - chance);
    if (fromLabels) calibrated++;
  }
  const n = chances.length;
  const value = sum / n;
  const half = (1.959964 * Math.sqrt(variance)) / n;
  return { value, low: Math.max(0, value - half), high: Math.min(1, value + half), predictions: n, calibratedShare: calibrated / n };
}

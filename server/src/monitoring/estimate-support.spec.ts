import { mulberry32 } from '@backflow/ranking';
import { weightedProportion } from '@backflow/drift';
import { calibrationOf, confidenceBased, supportOf } from './estimate-support';

describe('whether a labelled estimate stands for its traffic', () => {
  it('needs minLabels explored labels, or labels that stand for half the window by their weights', () => {
    // exploration off: 40 uncertain labels (p = 1) of 1,000 predictions
    expect(supportOf({ inclusionProbabilities: Array(40).fill(1), predictions: 1_000, minExplored: 30 })).toEqual({
      explored: 0,
      coverage: 0.04,
      supported: false,
    });
    // 30 explored at ε = 0.01 beside them: enough drawn at random
    const explored = [...Array(40).fill(1), ...Array(30).fill(0.01)];
    expect(supportOf({ inclusionProbabilities: explored, predictions: 10_000, minExplored: 30 })).toMatchObject({ explored: 30, supported: true });
    expect(supportOf({ inclusionProbabilities: explored, predictions: 10_000, minExplored: 30 }).coverage).toBeCloseTo(0.304, 12);
    // every prediction routed (threshold 0): no draw, but the labels are the traffic
    expect(supportOf({ inclusionProbabilities: Array(600).fill(1), predictions: 1_000, minExplored: 30 })).toEqual({
      explored: 0,
      coverage: 0.6,
      supported: true,
    });
    // a label with no routed task counts as chosen for sure; an unknown count of predictions supports nothing
    expect(supportOf({ inclusionProbabilities: [null, null], predictions: undefined, minExplored: 30 })).toEqual({
      explored: 0,
      coverage: null,
      supported: false,
    });
  });
});

describe('the confidence-based estimate (CBPE)', () => {
  it('reads each bin from its labels, shrunk toward the model’s confidence, and the rest from the confidence alone', () => {
    // bin [0.5, 0.6): 10 labels, 4 right; bin [0.9, 1): 2 labels (too few to read from), both right
    const labelled = [
      ...Array.from({ length: 10 }, (_, i) => ({ confidence: 0.55, correct: i < 4 })),
      { confidence: 0.95, correct: true },
      { confidence: 0.95, correct: true },
    ];
    const calibration = calibrationOf(labelled);
    // (4 + 5 × 0.55) / (10 + 5)
    expect(calibration.chance(0.55)).toBeCloseTo(6.75 / 15, 12);
    expect(calibration.fromLabels(0.55)).toBe(true);
    // (2 + 5 × 0.95) / 7
    expect(calibration.chance(0.95)).toBeCloseTo(6.75 / 7, 12);
    expect(calibration.fromLabels(0.95)).toBe(false);
    // no label in [0.7, 0.8): the confidence itself; a confidence of exactly 1 is in the top bin
    expect(calibration.chance(0.72)).toBeCloseTo(0.72, 12);
    expect(calibration.chance(1)).toBeCloseTo((2 + 5) / 7, 12);

    const chances = [0.55, 0.72, 0.95].map((c) => ({ chance: calibration.chance(c), fromLabels: calibration.fromLabels(c) }));
    const estimate = confidenceBased(chances)!;
    const expected = (6.75 / 15 + 0.72 + 6.75 / 7) / 3;
    expect(estimate.value).toBeCloseTo(expected, 12);
    expect(estimate.calibratedShare).toBeCloseTo(1 / 3, 12);
    const spread = chances.reduce((sum, c) => sum + c.chance * (1 - c.chance), 0);
    expect(estimate.value - estimate.low).toBeCloseTo((1.959964 * Math.sqrt(spread)) / 3, 9);
    expect(estimate.high).toBe(1);
    expect(confidenceBased([])).toBeUndefined();
  });

  it('finds the true accuracy of a calibrated model when only its uncertain predictions were labelled, where the weighted labels cannot', () => {
    // a calibrated binary model: right with probability equal to its confidence; 89% right overall
    const random = mulberry32(11);
    const traffic = Array.from({ length: 20_000 }, () => {
      const confidence = random() < 0.8 ? 0.92 + random() * 0.08 : 0.5 + random() * 0.4;
      return { confidence, correct: random() < confidence };
    });
    const truth = traffic.filter((p) => p.correct).length / traffic.length;
    // exploration off: the 5% least confident are labelled (inclusion probability 1)
    const labelled = [...traffic].sort((a, b) => a.confidence - b.confidence).slice(0, 1_000);
    const weighted = weightedProportion(labelled.map((l) => ({ outcome: l.correct ? 1 : 0, weight: 1 })))!;
    expect(truth - weighted.value).toBeGreaterThan(0.25);
    expect(weighted.high).toBeLessThan(truth);
    expect(supportOf({ inclusionProbabilities: labelled.map(() => 1), predictions: traffic.length, minExplored: 30 }).supported).toBe(false);

    const calibration = calibrationOf(labelled);
    const estimate = confidenceBased(traffic.map((p) => ({ chance: calibration.chance(p.confidence), fromLabels: calibration.fromLabels(p.confidence) })))!;
    expect(Math.abs(estimate.value - truth)).toBeLessThan(0.01);
    expect(estimate.low).toBeLessThanOrEqual(truth + 0.005);
    expect(estimate.high).toBeGreaterThanOrEqual(truth - 0.005);
    // the labels calibrate the uncertain bins only: the confident 80% rest on the model's confidence
    expect(estimate.calibratedShare).toBeLessThan(0.25);
  });
});

import { feedbackSignals } from './feedback-signals';

describe('feedbackSignals', () => {
  const from = new Date('2026-12-01T00:00:00Z');

  it('gives each event type its share of a version’s predictions with a Wilson interval, the commonest types first', () => {
    const report = feedbackSignals(
      {
        predictions: [
          { modelVersion: 'v1', predictions: 263 },
          { modelVersion: 'v2', predictions: 10 },
        ],
        events: [
          { modelVersion: 'v1', type: 'thumbs_down', predictions: 81, events: 90, edits: 0, meanDistance: null, sdDistance: null },
          { modelVersion: 'v2', type: 'copy', predictions: 2, events: 2, edits: 0, meanDistance: null, sdDistance: null },
        ],
      },
      7,
      from,
    );
    expect(report.types).toEqual(['thumbs_down', 'copy']);
    const [v1, v2] = report.versions;
    // Newcombe's 81/263: 0.2553 to 0.3662
    expect(v1.events[0]).toMatchObject({ type: 'thumbs_down', predictions: 81, events: 90 });
    expect(v1.events[0].rate.low).toBeCloseTo(0.2553, 4);
    expect(v1.events[0].rate.high).toBeCloseTo(0.3662, 4);
    // a type a version never met is a zero share, with its interval
    expect(v2.events[0]).toMatchObject({ type: 'thumbs_down', predictions: 0, rate: { value: 0, low: 0 } });
    expect(v2.events[0].rate.high).toBeCloseTo(0.2775, 4);
    expect(v1.edits).toBeNull();
  });

  it('pools the edits of every measured type: the mean and its interval as over the raw distances', () => {
    // type a: 0.1 and 0.3 (mean 0.2, sd √0.02); type b: 0.5. Together 0.1, 0.3, 0.5: mean 0.3, sd 0.2
    const report = feedbackSignals(
      {
        predictions: [{ modelVersion: 'v1', predictions: 10 }],
        events: [
          { modelVersion: 'v1', type: 'edit', predictions: 2, events: 2, edits: 2, meanDistance: 0.2, sdDistance: Math.sqrt(0.02) },
          { modelVersion: 'v1', type: 'fix', predictions: 1, events: 1, edits: 1, meanDistance: 0.5, sdDistance: null },
        ],
      },
      7,
      from,
    );
    const edits = report.versions[0].edits!;
    expect(edits.events).toBe(3);
    expect(edits.meanDistance).toBeCloseTo(0.3, 12);
    expect(edits.high - edits.meanDistance).toBeCloseTo((1.959964 * 0.2) / Math.sqrt(3), 5);
  });
});

import { legacyQuestions } from '@backflow/questions';
import { RoutingPolicy } from '@backflow/contracts';
import { StoredPrediction, simulateRouting } from './routing-preview';

const start = Date.UTC(2026, 10, 26, 10, 0, 0);

function predictions(n: number, options: { everyMs?: number; version?: (i: number) => string; input?: (i: number) => unknown } = {}): StoredPrediction[] {
  return Array.from({ length: n }, (_, i) => {
    const top = 0.5 + (0.5 * ((i * 7919) % n)) / n;
    return {
      id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      modelName: 'm',
      modelVersion: options.version?.(i) ?? '1',
      scores: { a: top, b: 1 - top },
      predictedLabel: 'a',
      confidence: top,
      slice: { country: i % 2 ? 'FR' : 'DE' },
      input: options.input?.(i) ?? { i },
      receivedAt: new Date(start + i * (options.everyMs ?? 1_000)),
      feedbackLabel: null,
    };
  });
}

const policy = (overrides: Record<string, unknown>) => RoutingPolicy.parse({ explorationRate: 0, ...overrides });

const [question] = legacyQuestions([{ name: 'ham' }, { name: 'spam' }]);

describe('routing preview', () => {
  it('routes the target rate of each model version by its own quantile', () => {
    const sample = predictions(2_000, { version: (i) => (i < 1_000 ? '1' : '2') });
    const reply = simulateRouting(policy({ targetRate: 0.1 }), question, 'p', sample);
    expect(reply.routed.uncertain).toBeGreaterThanOrEqual(190);
    expect(reply.routed.uncertain).toBeLessThanOrEqual(210);
    expect(reply.thresholds.map((t) => t.version)).toEqual(['1', '2']);
  });

  it('counts by slice, and the expected tasks per hour from the span of the sample', () => {
    const reply = simulateRouting(policy({ threshold: 0 }), question, 'p', predictions(3_601));
    expect(reply.hours).toBeCloseTo(1);
    expect(reply.routed.total).toBe(3_601);
    expect(reply.expectedTasksPerHour).toBeCloseTo(3_601);
    expect(reply.bySlice.map((s) => s.slice).sort()).toEqual(['country=DE', 'country=FR']);
    expect(reply.bySlice.reduce((sum, s) => sum + s.routed, 0)).toBe(3_601);
  });

  it('holds the hourly budget per clock hour and reports what it drops', () => {
    // two hours of traffic, one prediction a minute
    const reply = simulateRouting(policy({ threshold: 0, budget: { perHour: 10 } }), question, 'p', predictions(120, { everyMs: 60_000 }));
    expect(reply.routed.total).toBe(20);
    expect(reply.droppedByBudget).toBe(100);
    expect(reply.expectedTasksPerHour).toBeLessThanOrEqual(10);
  });

  it('holds a budget per window of predictions in the order replayed, and cannot replay a request’s cap', () => {
    const windowed = simulateRouting(policy({ threshold: 0, budget: { perPredictions: { predictions: 50, tasks: 3 } } }), question, 'p', predictions(120));
    // windows of 50, 50 and 20
    expect(windowed.routed.total).toBe(9);
    expect(windowed.droppedByBudget).toBe(111);
    expect(simulateRouting(policy({ threshold: 0, budget: { perBatch: 3 } }), question, 'p', predictions(120)).routed.total).toBe(120);
  });

  it('routes identical inputs once per dedupe window', () => {
    const sample = predictions(120, { everyMs: 60_000, input: () => ({ same: true }) });
    const reply = simulateRouting(policy({ threshold: 0, dedupeWindowMinutes: 30 }), question, 'p', sample);
    expect(reply.routed.total).toBe(4);
    expect(reply.deduplicated).toBe(116);
  });

  it('counts feedback that contradicts a confident prediction', () => {
    const sample = predictions(10).map((p, i) => ({ ...p, feedbackLabel: i < 4 ? 'b' : 'a' }));
    const confident = sample.filter((p, i) => i < 4 && p.confidence >= 0.6).length;
    const reply = simulateRouting(policy({ threshold: 1, contradictionConfidence: 0.6 }), question, 'p', sample);
    expect(reply.routed.contradiction).toBe(confident);
  });

  it('answers an empty project with zeros', () => {
    expect(simulateRouting(policy({}), question, 'p', [])).toMatchObject({ sampled: 0, from: null, routed: { total: 0 }, expectedTasksPerHour: 0 });
  });
});

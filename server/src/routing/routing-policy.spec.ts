import { legacyQuestions } from '@backflow/questions';
import { RoutingPolicy } from '@backflow/contracts';
import { allocateBudget, budgetLines, canonicalJson, decide, explorationDraw, priorityOf, sliceBoost, targetQuantile, uncertaintyOf } from './routing-policy';
import { createP2, unitDraw } from '@backflow/sampling';

const policy = (overrides: Record<string, unknown> = {}) => RoutingPolicy.parse(overrides);

const [question] = legacyQuestions([{ name: 'a' }, { name: 'b' }]);

describe('routing policy', () => {
  it.each([
    ['contradiction outranks the most uncertain prediction', priorityOf('contradiction', 0, 1), priorityOf('uncertain', 1, 1)],
    ['uncertainty orders tasks of one reason', priorityOf('uncertain', 0.9, 1), priorityOf('uncertain', 0.2, 1)],
    ['a boosted slice overtakes an unboosted one', priorityOf('exploration', 0, 3), priorityOf('uncertain', 1, 1)],
    ['drift outranks uncertainty', priorityOf('drift', 0, 1), priorityOf('uncertain', 0.99, 1)],
  ])('%s', (_, higher, lower) => {
    expect(higher).toBeGreaterThan(lower);
  });

  it.each([
    [{}, { country: 'FR' }, 1],
    [{ 'country=FR': 2 }, { country: 'FR', device: 'mobile' }, 2],
    [{ 'country=FR': 2, 'device=mobile': 3 }, { country: 'FR', device: 'mobile' }, 6],
    [{ 'country=FR': 2 }, { country: 'DE' }, 1],
    [{ 'country=FR': 50, 'device=mobile': 50 }, { country: 'FR', device: 'mobile' }, 100],
  ])('slice boosts %j on %j give %d', (sliceBoosts, slice, expected) => {
    expect(sliceBoost(policy({ sliceBoosts }), slice)).toBe(expected);
  });

  it('routes at the threshold as uncertain with inclusion probability 1', () => {
    expect(decide(policy({ threshold: 0.4 }), 0.4, { uncertainty: 0.4, slice: {}, draw: 0.99 })).toMatchObject({
      reason: 'uncertain',
      inclusionProbability: 1,
    });
    expect(decide(policy({ threshold: 0.4, explorationRate: 0 }), 0.4, { uncertainty: 0.39, slice: {}, draw: 0 })).toBeNull();
  });

  it.each([
    [0.01, {}, 0.005, 0.01],
    [0.01, {}, 0.02, null],
    [0.01, { 'country=FR': 4 }, 0.03, 0.04],
    [0.5, { 'country=FR': 4 }, 0.99, 1],
  ])('explores with rate %f and boosts %j: draw %f gives inclusion %p', (explorationRate, sliceBoosts, draw, expected) => {
    const decision = decide(policy({ explorationRate, sliceBoosts }), undefined, { uncertainty: 0.1, slice: { country: 'FR' }, draw });
    expect(decision?.inclusionProbability ?? null).toBe(expected);
    if (decision) expect(decision.reason).toBe('exploration');
  });

  it.each([
    // rate, static boosts, alert boosts, draw → inclusion and reason
    [0.01, {}, { 'country=FR': 5 }, 0.04, 0.05, 'drift'],
    [0.01, {}, { 'country=FR': 5 }, 0.06, null, null],
    // exploration off: an alerted slice is still sampled at 1% × its boost
    [0, {}, { 'country=FR': 20 }, 0.1, 0.2, 'drift'],
    [0, {}, { 'country=DE': 20 }, 0.1, null, null],
    // alert and static boosts multiply
    [0.01, { 'country=FR': 2 }, { 'country=FR': 5 }, 0.09, 0.1, 'drift'],
  ])('with rate %f, boosts %j and alert boosts %j, draw %f gives inclusion %p (%s)', (explorationRate, sliceBoosts, alertBoosts, draw, inclusion, reason) => {
    const decision = decide(policy({ explorationRate, sliceBoosts }), undefined, { uncertainty: 0.1, slice: { country: 'FR' }, draw }, alertBoosts);
    if (inclusion === null) expect(decision).toBeNull();
    else expect(decision).toMatchObject({ reason, inclusionProbability: expect.closeTo(inclusion, 12) });
  });

  it('keeps an uncertain prediction uncertain in an alerted slice, with its priority boosted', () => {
    const plain = decide(policy({ threshold: 0.4 }), 0.4, { uncertainty: 0.5, slice: { country: 'FR' }, draw: 0.99 })!;
    const alerted = decide(policy({ threshold: 0.4 }), 0.4, { uncertainty: 0.5, slice: { country: 'FR' }, draw: 0.99 }, { 'country=FR': 5 })!;
    expect(alerted.reason).toBe('uncertain');
    expect(alerted.priority).toBeCloseTo(plain.priority * 5, 12);
  });

  it('clamps scores into [0, 1] whatever the rounding', () => {
    expect(uncertaintyOf(policy({ strategy: 'entropy' }), question, { scores: { a: 0.5, b: 0.5 } })).toBeLessThanOrEqual(1);
    expect(uncertaintyOf(policy({ strategy: 'least_confidence' }), question, { scores: { a: 1, b: 0 } })).toBe(0);
  });

  it('names the budget lines a prediction counts against', () => {
    const lines = budgetLines(policy({ budget: { perHour: 10, perSlice: { key: 'country', perDay: 3 } } }), { country: 'FR' });
    expect(lines).toEqual([
      { scope: '*', period: 'hour', cap: 10 },
      { scope: 'country=FR', period: 'day', cap: 3 },
    ]);
    expect(budgetLines(policy({ budget: { perSlice: { key: 'country', perDay: 3 } } }), {})).toEqual([{ scope: 'country=', period: 'day', cap: 3 }]);
  });

  it('grants budget by priority and never past a cap', () => {
    const line = (scope: string, cap: number) => ({ scope, period: 'hour' as const, cap });
    const candidates = [
      { name: 'low', priority: 1, lines: [line('*', 2)] },
      { name: 'high', priority: 3, lines: [line('*', 2), line('country=FR', 1)] },
      { name: 'mid', priority: 2, lines: [line('*', 2), line('country=FR', 1)] },
      { name: 'mid-de', priority: 2, lines: [line('*', 2), line('country=DE', 1)] },
    ];
    const used = new Map([['hour|*', 0]]);
    expect(allocateBudget(candidates, used).map((c) => c.name)).toEqual(['high', 'mid-de']);
    expect(used.get('hour|*')).toBe(2);
    expect(allocateBudget(candidates, new Map([['hour|*', 2]]))).toEqual([]);
  });

  it('hashes inputs the same whatever their key order', () => {
    expect(canonicalJson({ b: [1, { y: 2, x: 'é' }], a: true })).toBe(canonicalJson({ a: true, b: [1, { x: 'é', y: 2 }] }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });
});

describe('explorationDraw', () => {
  it("is the draw of '<project>:<prediction>', for several projects in turn", () => {
    const projects = ['4b1f0c3e-0000-4000-8000-000000000001', '4b1f0c3e-0000-4000-8000-000000000002'];
    for (let i = 0; i < 200; i++) {
      const project = projects[i % 2];
      const prediction = `${i.toString(16).padStart(8, '0')}-1111-4111-8111-111111111111`;
      expect(explorationDraw(project, prediction)).toBe(unitDraw(`${project}:${prediction}`));
    }
  });
});

describe('targetQuantile', () => {
  it('names a quantile the estimator takes for any rate the contract allows below 1 (found by the fuzzer: 1e-300 gave a 500)', () => {
    for (const rate of [1e-300, 5e-324, 0.01, 0.5, 0.999]) expect(() => createP2(targetQuantile(rate))).not.toThrow();
  });
});

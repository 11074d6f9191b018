import { bradleyTerry, headToHead, type Comparison } from './bradley-terry';
import { mulberry32 } from './random';

const games = (a: string, b: string, winner: Comparison['winner'], times: number): Comparison[] => Array.from({ length: times }, () => ({ a, b, winner }));

describe('Bradley–Terry', () => {
  it('matches the hand computation for two players: log-odds ln(7/3), standard error 1/√(n·p·(1−p))', () => {
    const fit = bradleyTerry([...games('v2', 'v1', 'a', 7), ...games('v1', 'v2', 'a', 3)], { reference: 'v1', prior: 0 })!;
    expect(fit.converged).toBe(true);
    const [v2, v1] = fit.strengths;
    expect(v2.player).toBe('v2');
    expect(v2.logStrength).toBeCloseTo(Math.log(7 / 3), 9);
    expect(v2.standardError).toBeCloseTo(1 / Math.sqrt(10 * 0.7 * 0.3), 9);
    expect(v2.low).toBeCloseTo(Math.log(7 / 3) - 1.959963984540054 / Math.sqrt(2.1), 9);
    expect(v2.winProbability.value).toBeCloseTo(0.7, 9);
    expect([v2.comparisons, v2.wins]).toEqual([10, 7]);
    expect(v1).toMatchObject({ player: 'v1', logStrength: 0, standardError: 0, comparisons: 10, wins: 3 });
  });

  it('counts a tie as half a win to each side, and weighs each comparison', () => {
    // v2: one win and one tie against v1 → 1.5 against 0.5
    const tie = bradleyTerry(
      [
        { a: 'v1', b: 'v2', winner: 'b' },
        { a: 'v1', b: 'v2', winner: 'tie' },
      ],
      { reference: 'v1', prior: 0 },
    )!;
    expect(tie.strengths[0].logStrength).toBeCloseTo(Math.log(3), 9);
    // a comparison of weight 3 counts as three
    const weighted = bradleyTerry(
      [
        { a: 'x', b: 'y', winner: 'a', weight: 3 },
        { a: 'x', b: 'y', winner: 'b' },
      ],
      { reference: 'y', prior: 0 },
    )!;
    expect(weighted.strengths[0]).toMatchObject({ player: 'x' });
    expect(weighted.strengths[0].logStrength).toBeCloseTo(Math.log(3), 9);
  });

  it('solves the likelihood equations with three players: each one’s expected wins equal its wins', () => {
    const comparisons = [
      ...games('a', 'b', 'a', 5),
      ...games('a', 'b', 'b', 2),
      ...games('b', 'c', 'a', 4),
      ...games('c', 'b', 'a', 3),
      ...games('a', 'c', 'a', 6),
      ...games('a', 'c', 'tie', 2),
    ];
    const fit = bradleyTerry(comparisons, { prior: 0 })!;
    const theta = new Map(fit.strengths.map((s) => [s.player, s.logStrength]));
    for (const player of ['a', 'b', 'c']) {
      let expected = 0;
      let observed = 0;
      for (const c of comparisons) {
        if (c.a !== player && c.b !== player) continue;
        const other = c.a === player ? c.b : c.a;
        expected += 1 / (1 + Math.exp(theta.get(other)! - theta.get(player)!));
        observed += c.winner === 'tie' ? 0.5 : (c.winner === 'a') === (c.a === player) ? 1 : 0;
      }
      expect(expected).toBeCloseTo(observed, 6);
    }
    expect(fit.strengths.map((s) => s.player)).toEqual(['a', 'b', 'c']);
  });

  it('keeps a player who won everything finite with the prior, and recovers known strengths within their intervals', () => {
    const sweep = bradleyTerry(games('v2', 'v1', 'a', 5), { reference: 'v1' })!;
    expect(Number.isFinite(sweep.strengths[0].logStrength)).toBe(true);
    expect(sweep.strengths[0].logStrength).toBeGreaterThan(1);

    const truth = new Map([
      ['v1', 0],
      ['v2', 0.4],
      ['v3', 1.1],
      ['v4', -0.3],
    ]);
    const random = mulberry32(11);
    const players = [...truth.keys()];
    let covered = 0;
    const trials = 40;
    for (let trial = 0; trial < trials; trial++) {
      const comparisons: Comparison[] = [];
      for (let n = 0; n < 600; n++) {
        const a = players[Math.floor(random() * 4)];
        let b = players[Math.floor(random() * 4)];
        while (b === a) b = players[Math.floor(random() * 4)];
        const p = 1 / (1 + Math.exp(truth.get(b)! - truth.get(a)!));
        comparisons.push({ a, b, winner: random() < p ? 'a' : 'b' });
      }
      const fit = bradleyTerry(comparisons, { reference: 'v1', prior: 0 })!;
      const v3 = fit.strengths.find((s) => s.player === 'v3')!;
      if (v3.low <= 1.1 && 1.1 <= v3.high) covered++;
      if (trial === 0) expect(fit.strengths.map((s) => s.player)).toEqual(['v3', 'v2', 'v1', 'v4']);
    }
    // a 95% interval: about 38 of 40
    expect(covered).toBeGreaterThanOrEqual(34);
  });

  it('gives the challenger’s direct win rate over the champion with its interval', () => {
    const record = [...games('v2', 'v1', 'a', 6), ...games('v1', 'v2', 'a', 3), { a: 'v1', b: 'v2', winner: 'tie' as const }, ...games('v3', 'v1', 'a', 4)];
    const h = headToHead(record, 'v2', 'v1')!;
    expect(h.comparisons).toBe(10);
    expect(h.winRate).toBeCloseTo(6.5 / 10, 12);
    expect(h.low).toBeLessThan(0.65);
    expect(h.high).toBeGreaterThan(0.65);
    expect(headToHead(record, 'v3', 'v2')).toBeUndefined();
    expect(bradleyTerry([])).toBeUndefined();
    expect(() => bradleyTerry(record, { reference: 'v9' })).toThrow(/v9/);
  });
});

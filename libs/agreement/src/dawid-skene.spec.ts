import { dawidSkene, RaterAnswer } from './dawid-skene';
import { majorityVote } from './majority';
import { ANAESTHESIA } from './fixtures/dawid-skene-1979';

/** A small deterministic generator (mulberry32), so the simulation is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Dawid-Skene', () => {
  const classes = ['1', '2', '3', '4'];
  const answers: RaterAnswer[] = Object.entries(ANAESTHESIA).flatMap(([patient, observers]) =>
    Object.entries(observers).flatMap(([observer, labels]) => labels.map((label) => ({ item: patient, rater: observer, label: String(label) }))),
  );

  it('fits the anaesthesia data of Dawid & Skene (1979, Table 1) as EM must', () => {
    const fit = dawidSkene(answers, classes, { smoothing: 0, tolerance: 1e-5 });
    expect(fit.converged).toBe(true);
    // EM never lowers the likelihood
    for (let i = 1; i < fit.logLikelihood.length; i++) expect(fit.logLikelihood[i]).toBeGreaterThanOrEqual(fit.logLikelihood[i - 1] - 1e-9);
    expect(fit.priors.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const matrix of fit.confusion.values()) for (const row of matrix) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // every patient whose seven answers all agree keeps that class
    for (const [patient, observers] of Object.entries(ANAESTHESIA)) {
      const all = new Set(Object.values(observers).flat());
      if (all.size === 1) expect(fit.labels.get(patient)).toBe(String([...all][0]));
    }
  });

  it('stops at the iteration cap when not converged', () => {
    const fit = dawidSkene(answers, classes, { maxIterations: 2, tolerance: 0 });
    expect(fit.iterations).toBe(2);
    expect(fit.converged).toBe(false);
  });

  it('beats majority vote on simulated raters of known, unequal accuracy, and recovers their accuracy', () => {
    const draw = random(7);
    const simClasses = ['ham', 'spam', 'phish'];
    const accuracy: Record<string, number> = { expert: 0.95, a: 0.55, b: 0.5, c: 0.45, d: 0.55 };
    const truth = new Map<string, string>();
    const simulated: RaterAnswer[] = [];
    for (let i = 0; i < 600; i++) {
      const item = `item-${i}`;
      const label = simClasses[Math.floor(draw() * 3)];
      truth.set(item, label);
      for (const [rater, p] of Object.entries(accuracy)) {
        // a wrong answer is one of the other two classes, the first twice as often (raters confuse in patterns)
        const others = simClasses.filter((c) => c !== label);
        const answer = draw() < p ? label : draw() < 2 / 3 ? others[0] : others[1];
        simulated.push({ item, rater, label: answer });
      }
    }
    const fit = dawidSkene(simulated, simClasses);
    const byItem = new Map<string, string[]>();
    for (const a of simulated) byItem.set(a.item, [...(byItem.get(a.item) ?? []), a.label]);
    const share = (decide: (item: string) => string | undefined) => [...truth].filter(([item, label]) => decide(item) === label).length / truth.size;
    const majority = share((item) => majorityVote(byItem.get(item)!).label);
    const ds = share((item) => fit.labels.get(item));
    expect(ds).toBeGreaterThan(majority + 0.1);
    expect(ds).toBeGreaterThan(0.9);
    // each rater's estimated accuracy (the diagonal weighted by the priors) within 0.05 of the truth
    for (const [rater, p] of Object.entries(accuracy)) {
      const estimated = fit.confusion.get(rater)!.reduce((sum, row, j) => sum + fit.priors[j] * row[j], 0);
      expect(Math.abs(estimated - p)).toBeLessThan(0.05);
    }
  });

  it('rejects an answer outside the classes', () => {
    expect(() => dawidSkene([{ item: 'x', rater: 'r', label: 'z' }], ['a', 'b'])).toThrow(/not one of the classes/);
  });
});

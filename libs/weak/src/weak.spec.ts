import {
  analyseLabelingFunctions,
  compileLabelingFunction,
  fitLabelModel,
  propagate,
  propagationIndex,
  unsafePattern,
  voteMatrix,
  type LabelingFunctionDefinition,
  type Vote,
} from './index';

const mail = (subject: string, extra: Record<string, unknown> = {}) => ({
  input: { subject, ...extra },
  slice: { country: 'FR' },
  scores: { spam: 0.7, ham: 0.3 },
});

describe('labeling functions', () => {
  it('vote their label when the condition holds and abstain otherwise, for each kind of condition', () => {
    const lf = (when: LabelingFunctionDefinition['when'], label = 'spam') => compileLabelingFunction({ name: 'f', label, when });
    const keywords = lf({ kind: 'keywords', on: { feature: 'subject' }, keywords: ['free', 'prix gratuit'] });
    expect(keywords(mail('FREE money'))).toBe('spam');
    expect(keywords(mail('un prix gratuit!'))).toBe('spam');
    // a whole word only: not inside "freedom" nor "carefree"
    expect(keywords(mail('freedom for the carefree'))).toBeNull();
    expect(lf({ kind: 'keywords', on: { feature: 'subject' }, keywords: ['free'], caseSensitive: true })(mail('FREE'))).toBeNull();
    // no letter around it in any script: "élu" is not "lu"
    expect(lf({ kind: 'keywords', on: { feature: 'subject' }, keywords: ['lu'] })(mail('élu'))).toBeNull();

    const regex = lf({ kind: 'regex', on: { feature: 'subject' }, pattern: '\\$\\d+', flags: 'i' });
    expect(regex(mail('win $500'))).toBe('spam');
    expect(regex(mail('win five dollars'))).toBeNull();
    // a list of texts: any of them
    expect(regex({ ...mail(''), input: { subject: ['hello', 'now $3'] } })).toBe('spam');

    const threshold = lf({ kind: 'threshold', on: { feature: 'links' }, min: 5, max: 50 }, 'spam');
    expect(threshold(mail('x', { links: 5 }))).toBe('spam');
    expect(threshold(mail('x', { links: '12' }))).toBe('spam');
    expect(threshold(mail('x', { links: 50 }))).toBeNull();
    expect(threshold(mail('x', { links: 'many' }))).toBeNull();
    expect(threshold(mail('x'))).toBeNull();

    const member = lf({ kind: 'in', on: { slice: 'country' }, values: ['FR', 'BE'] }, 'ham');
    expect(member(mail('x'))).toBe('ham');
    expect(member({ ...mail('x'), slice: { country: 'DE' } })).toBeNull();
    expect(lf({ kind: 'in', on: { feature: 'tags' }, values: ['promo'] })(mail('x', { tags: ['news', 'promo'] }))).toBe('spam');
    // an inherited name is not a feature
    expect(lf({ kind: 'in', on: { feature: 'constructor' }, values: [Object] as never })(mail('x'))).toBeNull();

    const band = lf({ kind: 'score', of: 'spam', min: 0.6, max: 0.8 });
    expect(band(mail('x'))).toBe('spam');
    expect(band({ ...mail('x'), scores: { spam: 0.9 } })).toBeNull();
    expect(compileLabelingFunction({ name: 'off', label: 'spam', when: { kind: 'score', of: 'spam' }, enabled: false })(mail('x'))).toBeNull();
    // each function's vote on each prediction
    expect(voteMatrix([keywords, member], [mail('free'), { ...mail('hello'), slice: { country: 'DE' } }])).toEqual([
      ['spam', 'ham'],
      [null, null],
    ]);
  });

  it('refuses a pattern that could backtrack catastrophically, an invalid one, and unknown flags', () => {
    expect(unsafePattern('(a+)+$')).toMatch(/backtrack catastrophically/);
    expect(unsafePattern('(x|x)*y*(.*)*')).toMatch(/backtrack/);
    expect(unsafePattern('([a-z')).toMatch(/^not a regular expression/);
    expect(unsafePattern('free', 'g')).toMatch(/flags/);
    expect(unsafePattern('free', 'ii')).toMatch(/flags/);
    expect(unsafePattern('a'.repeat(501))).toMatch(/at most 500/);
    expect(unsafePattern('\\bfree\\b', 'iu')).toBeUndefined();
    expect(() => compileLabelingFunction({ name: 'f', label: 'spam', when: { kind: 'regex', on: { feature: 's' }, pattern: '(a*)*b' } })).toThrow(/refused/);
  });
});

/** A seeded uniform draw in [0, 1). */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the label model', () => {
  // five functions of known accuracy and coverage over two classes, 30% spam
  const functions = [
    { accuracy: 0.95, coverage: 0.3 },
    { accuracy: 0.85, coverage: 0.5 },
    { accuracy: 0.75, coverage: 0.6 },
    { accuracy: 0.9, coverage: 0.2 },
    { accuracy: 0.65, coverage: 0.7 },
  ];
  const classes = ['ham', 'spam'];
  function simulate(seed: number, n: number) {
    const random = mulberry32(seed);
    const truth: string[] = [];
    const votes: Vote[][] = [];
    for (let i = 0; i < n; i++) {
      const y = random() < 0.3 ? 'spam' : 'ham';
      truth.push(y);
      votes.push(functions.map((f) => (random() < f.coverage ? (random() < f.accuracy ? y : y === 'spam' ? 'ham' : 'spam') : null)));
    }
    return { truth, votes };
  }

  it('recovers each function’s accuracy within 0.03 and the class balance within 0.02, from the votes alone', () => {
    for (const seed of [1, 2, 3]) {
      const { votes, truth } = simulate(seed, 20_000);
      const model = fitLabelModel(votes, functions.length, classes);
      expect(model.converged).toBe(true);
      model.accuracies.forEach((accuracy, j) => expect(Math.abs(accuracy! - functions[j].accuracy)).toBeLessThan(0.03));
      expect(Math.abs(model.priors[1] - truth.filter((t) => t === 'spam').length / truth.length)).toBeLessThan(0.02);
      // its labels beat majority vote on the predictions some function voted on
      let modelRight = 0;
      let majorityRight = 0;
      let voted = 0;
      votes.forEach((row, i) => {
        const cast = row.filter((v): v is string => v !== null);
        if (cast.length === 0) return;
        voted++;
        if (model.predict(row).label === truth[i]) modelRight++;
        const spam = cast.filter((v) => v === 'spam').length;
        const majority = spam * 2 > cast.length ? 'spam' : spam * 2 < cast.length ? 'ham' : 'ham';
        if (majority === truth[i]) majorityRight++;
      });
      expect(modelRight).toBeGreaterThan(majorityRight);
      expect(modelRight / voted).toBeGreaterThan(0.85);
    }
  });

  it('tells the classes apart with functions that only ever vote one label, by how often they vote', () => {
    // one function votes spam on 60% of spam and 5% of ham; the other votes ham on 70% of ham and 10% of spam
    const random = mulberry32(9);
    const votes: Vote[][] = [];
    const truth: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const y = random() < 0.4 ? 'spam' : 'ham';
      truth.push(y);
      votes.push([random() < (y === 'spam' ? 0.6 : 0.05) ? 'spam' : null, random() < (y === 'ham' ? 0.7 : 0.1) ? 'ham' : null]);
    }
    const model = fitLabelModel(votes, 2, classes);
    // precision of "spam": 0.4 × 0.6 / (0.4 × 0.6 + 0.6 × 0.05) = 0.889; of "ham": 0.6 × 0.7 / (0.6 × 0.7 + 0.4 × 0.1) = 0.913
    expect(model.accuracies[0]).toBeCloseTo(0.889, 1);
    expect(model.accuracies[1]).toBeCloseTo(0.913, 1);
    expect(model.propensities[0][1]).toBeCloseTo(0.6, 1);
    // the spam vote alone: most probably spam; nothing voted: leaning to ham (no ham vote is a sign of spam)
    expect(model.predict(['spam', null]).label).toBe('spam');
    expect(model.predict([null, 'ham']).probability).toBeGreaterThan(0.9);
    expect(model.predict([null, null]).posteriors[1]).toBeGreaterThan(0.4);
  });
});

describe('LF analysis', () => {
  it('gives Snorkel’s coverage, overlaps, conflicts and empirical accuracy, as worked out by hand', () => {
    const votes: Vote[][] = [
      ['spam', 'spam', null],
      ['spam', 'ham', null],
      [null, 'ham', 'ham'],
      [null, null, null],
      ['spam', null, 'ham'],
    ];
    const gold = ['spam', 'ham', 'ham', undefined, 'spam'];
    const report = analyseLabelingFunctions(votes, 3, gold);
    // function 0 voted on rows 0, 1, 4: all overlap another; 1 and 4 conflict; right on 0 and 4, wrong on 1
    expect(report.functions[0]).toMatchObject({ polarity: ['spam'], coverage: 0.6, overlaps: 0.6, conflicts: 0.4, correct: 2, incorrect: 1 });
    expect(report.functions[0].empiricalAccuracy?.value).toBeCloseTo(2 / 3, 12);
    expect(report.functions[0].empiricalAccuracy?.n).toBe(3);
    // function 1 voted on 0, 1, 2: overlaps on all three, conflicts on row 1; right on all three
    expect(report.functions[1]).toMatchObject({ polarity: ['ham', 'spam'], coverage: 0.6, overlaps: 0.6, conflicts: 0.2, correct: 3, incorrect: 0 });
    expect(report.functions[2]).toMatchObject({ polarity: ['ham'], coverage: 0.4, overlaps: 0.4, conflicts: 0.2, correct: 1, incorrect: 1 });
    expect(report).toMatchObject({ coverage: 0.8, overlaps: 0.8, conflicts: 0.4 });
    // no human label: no accuracy
    expect(analyseLabelingFunctions(votes, 3).functions[0].empiricalAccuracy).toBeNull();
  });
});

describe('label propagation', () => {
  it('gives a point the similarity-weighted label of its nearest labelled neighbours within reach', () => {
    // a toy graph: two labelled groups on the axes, one stray label among the first
    const index = propagationIndex([
      { label: 'spam', embedding: [1, 0.05, 0] },
      { label: 'spam', embedding: [1, 0, 0.05] },
      { label: 'ham', embedding: [1, 0.1, 0.1] },
      { label: 'ham', embedding: [0, 1, 0] },
      { label: 'ham', embedding: [0.05, 1, 0] },
      // another dimension: left out
      { label: 'spam', embedding: [1, 0] },
    ]);
    expect(index.labels).toEqual(['spam', 'spam', 'ham', 'ham', 'ham']);
    const near = propagate(index, [1, 0.02, 0.02], { k: 3, maxDistance: 0.05 })!;
    expect(near).toMatchObject({ label: 'spam', neighbours: 3 });
    // the two spam neighbours' similarity over all three's
    const sim = (a: number[], b: number[]) => {
      const dot = a.reduce((s, x, i) => s + x * b[i], 0);
      return dot / Math.hypot(...a) / Math.hypot(...b);
    };
    const q = [1, 0.02, 0.02];
    const [s1, s2, h] = [sim(q, [1, 0.05, 0]), sim(q, [1, 0, 0.05]), sim(q, [1, 0.1, 0.1])];
    expect(near.confidence).toBeCloseTo((s1 + s2) / (s1 + s2 + h), 6);
    // k = 1: the nearest alone
    expect(propagate(index, [0.02, 1, 0], { k: 1, maxDistance: 0.05 })).toMatchObject({ label: 'ham', confidence: 1, neighbours: 1 });
    // nothing within reach, a zero vector, another dimension: no label
    expect(propagate(index, [0, 0, 1], { k: 3, maxDistance: 0.05 })).toBeUndefined();
    expect(propagate(index, [0, 0, 0], { k: 3, maxDistance: 0.05 })).toBeUndefined();
    expect(propagate(index, [1, 0], { k: 3, maxDistance: 0.05 })).toBeUndefined();
  });
});

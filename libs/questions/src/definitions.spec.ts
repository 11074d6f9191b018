import { LabelQuestion, MultiLabelQuestion, NumericQuestion, Question, QuestionName, RatingQuestion, SpansQuestion, TextQuestion } from './definitions';
import { Questions, legacyQuestions } from './questions';

/** The issues zod found, as [path, message] pairs. */
function issuesOf(result: { success: boolean; error?: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } }) {
  expect(result.success).toBe(false);
  return result.error!.issues.map((issue) => [issue.path, issue.message]);
}

const labels = (...names: string[]) => names.map((name) => ({ name }));

describe('question names', () => {
  it.each(['a', 'sentiment', 'topic_2', 'a'.repeat(63)])('accepts %j', (name) => {
    expect(QuestionName.safeParse(name).success).toBe(true);
  });

  // an exported feature name: lowercase, starts with a letter, at most 63 characters
  it.each(['', 'A', 'Sentiment', '1a', '_a', 'a-b', 'a b', 'é', 'a'.repeat(64)])('refuses %j', (name) => {
    expect(QuestionName.safeParse(name).success).toBe(false);
  });
});

describe('label question settings', () => {
  it('takes two labels and makes the question required by default', () => {
    const question = LabelQuestion.parse({ name: 'sentiment', kind: 'label', labels: labels('neg', 'pos') });
    expect(question.required).toBe(true);
    expect(question.labels.map((l) => l.name)).toEqual(['neg', 'pos']);
  });

  it('refuses a single label', () => {
    expect(issuesOf(LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: labels('pos') }))).toEqual([[['labels'], 'at least two labels']]);
  });

  it('refuses a label named twice, pointing at the second', () => {
    const result = LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: labels('neg', 'pos', 'neg') });
    expect(issuesOf(result)).toEqual([[['labels', 2, 'name'], 'label "neg" appears twice']]);
  });

  it('refuses labels a rater cannot tell apart: differing only in case or Unicode form', () => {
    const cased = LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: labels('Spam', 'spam') });
    expect(issuesOf(cased)).toEqual([
      [['labels', 1, 'name'], 'label "spam" is "Spam" to a rater (they differ only in case or Unicode form); give each its own name'],
    ]);
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    expect(LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: labels(composed, decomposed) }).success).toBe(false);
    expect(LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: labels(composed, 'cafe') }).success).toBe(true);
  });

  it('refuses a label named "$value", which a feedback rule reads as the event’s value', () => {
    expect(issuesOf(LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: labels('ok', '$value') }))[0][0]).toEqual(['labels', 1, 'name']);
  });

  it('refuses a hotkey used twice, pointing at the second', () => {
    const result = LabelQuestion.safeParse({
      name: 'sentiment',
      kind: 'label',
      labels: [
        { name: 'neg', hotkey: 'n' },
        { name: 'neu', hotkey: 'u' },
        { name: 'pos', hotkey: 'n' },
      ],
    });
    expect(issuesOf(result)).toEqual([[['labels', 2, 'hotkey'], 'hotkey "n" is used twice']]);
  });

  it.each([
    ['an uppercase hotkey', { name: 'neg', hotkey: 'N' }, ['labels', 0, 'hotkey']],
    ['a two-character hotkey', { name: 'neg', hotkey: 'ne' }, ['labels', 0, 'hotkey']],
    ['a leading space', { name: ' neg' }, ['labels', 0, 'name']],
    ['a trailing space', { name: 'neg ' }, ['labels', 0, 'name']],
    ['an empty name', { name: '' }, ['labels', 0, 'name']],
    ['an unknown key', { name: 'neg', colour: 'red' }, ['labels', 0]],
  ])('refuses a label with %s', (_what, label, path) => {
    const result = LabelQuestion.safeParse({ name: 'sentiment', kind: 'label', labels: [label, { name: 'pos' }] });
    // an empty name breaks two rules at once: every issue points at the label's field
    const paths = issuesOf(result).map(([p]) => p);
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toEqual(path);
  });

  it('refuses a name that is not an identifier and an unknown setting', () => {
    expect(issuesOf(LabelQuestion.safeParse({ name: 'Sentiment', kind: 'label', labels: labels('a', 'b') })).map(([p]) => p)).toEqual([['name']]);
    expect(issuesOf(LabelQuestion.safeParse({ name: 's', kind: 'label', labels: labels('a', 'b'), maxSpread: 1 })).map(([p]) => p)).toEqual([[]]);
  });
});

describe('multi-label question settings', () => {
  it('takes a single label (present or not is still a question)', () => {
    expect(MultiLabelQuestion.safeParse({ name: 'flags', kind: 'multi_label', labels: labels('nsfw') }).success).toBe(true);
  });

  it('refuses no labels and a repeated label', () => {
    expect(issuesOf(MultiLabelQuestion.safeParse({ name: 'flags', kind: 'multi_label', labels: [] }))).toEqual([[['labels'], 'at least one label']]);
    expect(issuesOf(MultiLabelQuestion.safeParse({ name: 'flags', kind: 'multi_label', labels: labels('a', 'a') })).map(([p]) => p)).toEqual([
      ['labels', 1, 'name'],
    ]);
  });
});

describe('rating question settings', () => {
  const points = (...values: number[]) => values.map((value, index) => ({ value, name: `point ${index}` }));

  it('takes rising points and lets answers one point from the median agree by default', () => {
    const question = RatingQuestion.parse({ name: 'stars', kind: 'rating', points: points(1, 2, 3, 4, 5) });
    expect(question.maxSpread).toBe(1);
  });

  it.each([
    ['a fall', [1, 3, 2], ['points', 2, 'value']],
    ['a repeat', [1, 1], ['points', 1, 'value']],
    ['a fall after a rise', [-1, 0, 5, 4, 6], ['points', 3, 'value']],
  ])('refuses points with %s, pointing at the offending one', (_what, values, path) => {
    const result = RatingQuestion.safeParse({ name: 'stars', kind: 'rating', points: points(...values) });
    expect(issuesOf(result)).toEqual([[path, 'point values rise strictly, in scale order']]);
  });

  it('refuses a single point, a fractional value, a repeated point name and a maxSpread past 10', () => {
    expect(issuesOf(RatingQuestion.safeParse({ name: 'stars', kind: 'rating', points: points(1) }))).toEqual([[['points'], 'at least two points']]);
    expect(issuesOf(RatingQuestion.safeParse({ name: 'stars', kind: 'rating', points: points(1, 1.5) })).map(([p]) => p)).toEqual([['points', 1, 'value']]);
    const sameName = [
      { value: 1, name: 'bad' },
      { value: 2, name: 'bad' },
    ];
    expect(issuesOf(RatingQuestion.safeParse({ name: 'stars', kind: 'rating', points: sameName })).map(([p]) => p)).toEqual([['points', 1, 'name']]);
    expect(issuesOf(RatingQuestion.safeParse({ name: 'stars', kind: 'rating', points: points(1, 2), maxSpread: 11 })).map(([p]) => p)).toEqual([['maxSpread']]);
  });
});

describe('numeric question settings', () => {
  it('defaults to real numbers, no absolute tolerance and 5% relative tolerance', () => {
    const question = NumericQuestion.parse({ name: 'price', kind: 'numeric' });
    expect(question).toMatchObject({ integer: false, tolerance: 0, relativeTolerance: 0.05, required: true });
  });

  it('takes min equal to max, refuses min above max on max', () => {
    expect(NumericQuestion.safeParse({ name: 'price', kind: 'numeric', min: 3, max: 3 }).success).toBe(true);
    expect(issuesOf(NumericQuestion.safeParse({ name: 'price', kind: 'numeric', min: 5, max: 1 }))).toEqual([[['max'], 'min is at most max']]);
    // the same check when the question comes through the union of kinds
    expect(issuesOf(Question.safeParse({ name: 'price', kind: 'numeric', min: 5, max: 1 }))).toEqual([[['max'], 'min is at most max']]);
  });

  it.each([
    ['an infinite min', { min: -Infinity }, ['min']],
    ['a negative tolerance', { tolerance: -1 }, ['tolerance']],
    ['a relative tolerance above 1', { relativeTolerance: 1.5 }, ['relativeTolerance']],
    ['a zero uncertainty scale', { uncertaintyScale: 0 }, ['uncertaintyScale']],
    ['an infinite decision threshold', { decisionThresholds: [1, Infinity] }, ['decisionThresholds', 1]],
  ])('refuses %s', (_what, settings, path) => {
    expect(issuesOf(NumericQuestion.safeParse({ name: 'price', kind: 'numeric', ...settings })).map(([p]) => p)).toEqual([path]);
  });
});

describe('text and spans question settings', () => {
  it('text defaults to 10 000 characters and a prefilled box; a zero maxLength is refused', () => {
    expect(TextQuestion.parse({ name: 'caption', kind: 'text' })).toMatchObject({ maxLength: 10_000, prefill: true });
    expect(issuesOf(TextQuestion.safeParse({ name: 'caption', kind: 'text', maxLength: 0 })).map(([p]) => p)).toEqual([['maxLength']]);
  });

  it('spans need the field they point into, and allow overlap by default', () => {
    expect(SpansQuestion.parse({ name: 'ents', kind: 'spans', field: 'body', labels: labels('PER') }).allowOverlap).toBe(true);
    expect(issuesOf(SpansQuestion.safeParse({ name: 'ents', kind: 'spans', labels: labels('PER') })).map(([p]) => p)).toEqual([['field']]);
  });

  it('refuses an unknown kind', () => {
    expect(Question.safeParse({ name: 'x', kind: 'ranking' }).success).toBe(false);
  });
});

describe("a project's questions", () => {
  const sentiment = { name: 'sentiment', kind: 'label', labels: labels('neg', 'pos') };
  const everyKind = [
    sentiment,
    { name: 'topics', kind: 'multi_label', labels: labels('sports', 'politics') },
    { name: 'stars', kind: 'rating', points: labels('x', 'y').map((p, i) => ({ ...p, value: i + 1 })) },
    { name: 'price', kind: 'numeric', min: 0 },
    { name: 'caption', kind: 'text', required: false },
    { name: 'ents', kind: 'spans', field: 'body', labels: labels('PER') },
  ];

  it('takes one question of each kind', () => {
    expect(Questions.safeParse(everyKind).success).toBe(true);
  });

  it('takes the one label question of a legacy project', () => {
    const legacy = legacyQuestions(labels('ham', 'spam'));
    expect(legacy).toEqual([{ name: 'label', kind: 'label', labels: labels('ham', 'spam'), required: true }]);
    expect(Questions.safeParse(legacy).success).toBe(true);
  });

  it('refuses no questions', () => {
    expect(issuesOf(Questions.safeParse([]))).toEqual([[[], 'at least one question']]);
  });

  it('refuses a name used twice, once', () => {
    const result = Questions.safeParse([sentiment, { name: 'sentiment', kind: 'text' }]);
    expect(issuesOf(result)).toEqual([[[1, 'name'], 'question "sentiment" appears twice']]);
  });

  it.each(['weight', 'label_source', 'prediction_id', 'model_version'])('refuses a question whose column is the fixed column %j', (name) => {
    const result = Questions.safeParse([sentiment, { name, kind: 'numeric' }]);
    expect(issuesOf(result)).toEqual([[[1, 'name'], `"${name}" is an exported column every example has: name the question otherwise`]]);
  });

  it('takes a spans question named weight (its columns are weight_start, weight_end, weight_label)', () => {
    expect(Questions.safeParse([{ name: 'weight', kind: 'spans', field: 'body', labels: labels('PER') }]).success).toBe(true);
  });

  it.each([
    // a label question `a` exports a and a_name
    [
      'a label question and a question named <name>_name',
      [
        { name: 'a', kind: 'label', labels: labels('x', 'y') },
        { name: 'a_name', kind: 'text' },
      ],
      'a_name',
      'a',
    ],
    [
      'the same, the other way round',
      [
        { name: 'a_name', kind: 'text' },
        { name: 'a', kind: 'label', labels: labels('x', 'y') },
      ],
      'a_name',
      'a_name',
    ],
    // a multi-label question `t` exports t and t_multi_hot
    [
      'a multi-label question and <name>_multi_hot',
      [
        { name: 't', kind: 'multi_label', labels: labels('x') },
        { name: 't_multi_hot', kind: 'numeric' },
      ],
      't_multi_hot',
      't',
    ],
    // a spans question `e` exports e_start, e_end and e_label; a label question `e_label` exports e_label and e_label_name
    [
      'a spans question and a label question <name>_label',
      [
        { name: 'e', kind: 'spans', field: 'body', labels: labels('PER') },
        { name: 'e_label', kind: 'label', labels: labels('x', 'y') },
      ],
      'e_label',
      'e',
    ],
  ])('refuses %s: their export columns collide', (_what, questions, column, other) => {
    expect(issuesOf(Questions.safeParse(questions))).toEqual([[[1, 'name'], `its exported column "${column}" is also one of question "${other}"`]]);
  });
});

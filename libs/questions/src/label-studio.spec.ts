import { Questions } from './questions';
import {
  answersFromResults,
  answersResults,
  codePointOffset,
  labelStudioConfig,
  objectTags,
  suggestionResults,
  suggestionsFromResults,
  utf16Offset,
  type LabelStudioResult,
} from './label-studio';

// "😀" is one code point and two UTF-16 code units: every offset after it differs by one
const BODY = 'Ada met 😀 Babbage & Co';
const input = { body: BODY, n: 1 };

const questions = Questions.parse([
  { name: 'topics', kind: 'multi_label', labels: [{ name: 'sports', hotkey: '1' }, { name: 'tech' }, { name: 'politics' }] },
  { name: 'sentiment', kind: 'label', labels: [{ name: 'neg' }, { name: 'pos', description: 'glad, "pleased"' }], required: false },
  { name: 'quality', kind: 'rating', points: [-2, -1, 0, 1, 2].map((value) => ({ value, name: `q${value}` })) },
  { name: 'price', kind: 'numeric', min: 0, max: 100 },
  { name: 'note', kind: 'text', required: false },
  { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }] },
]);
const tags = objectTags(questions);
const context = { input, tags };

const answers = {
  topics: ['sports', 'tech'],
  sentiment: 'pos',
  quality: -1,
  price: 12.5,
  note: 'two lines\nand “quotes” 😀',
  ents: [
    { start: 0, end: 3, label: 'PER' },
    { start: 10, end: 17, label: 'PER' },
    { start: 10, end: 22, label: 'ORG' },
  ],
};

describe('offsets: code points ↔ UTF-16 code units', () => {
  it.each([
    // code points, UTF-16
    [0, 0],
    [8, 8], // the emoji starts at 8 in both
    [9, 10], // and takes two units
    [10, 11],
    [22, 23], // the end
  ])('code point %d is UTF-16 unit %d', (points, units) => {
    expect(utf16Offset(BODY, points)).toBe(units);
    expect(codePointOffset(BODY, units)).toBe(points);
  });

  it('has no code point between the halves of a surrogate pair', () => {
    expect(codePointOffset(BODY, 9)).toBeUndefined();
  });
});

describe('labelStudioConfig', () => {
  it('asks each question by its name with the matching control, the spans over their field', () => {
    expect(labelStudioConfig(questions)).toBe(
      [
        '<View>',
        '  <Choices name="topics" toName="body" choice="multiple">',
        '    <Choice value="sports" hotkey="1"/>',
        '    <Choice value="tech"/>',
        '    <Choice value="politics"/>',
        '  </Choices>',
        '  <Choices name="sentiment" toName="body" choice="single">',
        '    <Choice value="neg"/>',
        '    <Choice value="pos" hint="glad, &quot;pleased&quot;"/>',
        '  </Choices>',
        '  <Rating name="quality" toName="body" maxRating="5" required="true"/>',
        '  <Number name="price" toName="body" min="0" max="100" step="any" required="true"/>',
        '  <TextArea name="note" toName="body" maxSubmissions="1" editable="true"/>',
        '  <Labels name="ents" toName="body">',
        '    <Label value="PER"/>',
        '    <Label value="ORG"/>',
        '  </Labels>',
        '  <Text name="body" value="$body"/>',
        '</View>',
        '',
      ].join('\n'),
    );
  });

  it('shows $text as "input" when no question points into a field', () => {
    const one = Questions.parse([{ name: 'label', kind: 'label', labels: [{ name: 'ham' }, { name: 'spam' }] }]);
    expect(labelStudioConfig(one)).toBe(
      [
        '<View>',
        '  <Text name="input" value="$text"/>',
        '  <Choices name="label" toName="input" choice="single" required="true">',
        '    <Choice value="ham"/>',
        '    <Choice value="spam"/>',
        '  </Choices>',
        '</View>',
        '',
      ].join('\n'),
    );
  });

  it('names a field’s text tag apart from the questions', () => {
    const clash = Questions.parse([
      { name: 'body', kind: 'text' },
      { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }] },
      { name: 'more', kind: 'spans', field: 'meta.title', labels: [{ name: 'PER' }] },
    ]);
    const t = objectTags(clash);
    expect(t.texts).toEqual([
      { name: 'body_text', field: 'body' },
      { name: 'text_2', field: 'meta.title' },
    ]);
    expect(clash.map((q) => t.toName(q))).toEqual(['body_text', 'body_text', 'text_2']);
  });
});

describe('answers → results → answers', () => {
  const results = answersResults(questions, answers, context);

  it('writes each kind as its result type, spans in UTF-16 offsets with their text', () => {
    expect(results.map((r) => [r.from_name, r.to_name, r.type, r.value])).toEqual([
      ['topics', 'body', 'choices', { choices: ['sports', 'tech'] }],
      ['sentiment', 'body', 'choices', { choices: ['pos'] }],
      ['quality', 'body', 'rating', { rating: 2 }], // −1 is the scale's second point
      ['price', 'body', 'number', { number: 12.5 }],
      ['note', 'body', 'textarea', { text: ['two lines\nand “quotes” 😀'] }],
      ['ents', 'body', 'labels', { start: 0, end: 3, text: 'Ada', labels: ['PER'] }],
      ['ents', 'body', 'labels', { start: 11, end: 18, text: 'Babbage', labels: ['PER'] }],
      ['ents', 'body', 'labels', { start: 11, end: 23, text: 'Babbage & Co', labels: ['ORG'] }],
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
  });

  it('reads them back value for value', () => {
    expect(answersFromResults(questions, results, input)).toEqual({ ok: true, value: answers });
  });

  it('leaves a span’s text out when its field is not shown', () => {
    const hidden = answersResults(questions, answers, { ...context, showsField: () => false });
    expect(hidden.filter((r) => r.type === 'labels').map((r) => r.value)).toEqual([
      { start: 0, end: 3, labels: ['PER'] },
      { start: 11, end: 18, labels: ['PER'] },
      { start: 11, end: 23, labels: ['ORG'] },
    ]);
    expect(answersFromResults(questions, hidden, input)).toEqual({ ok: true, value: answers });
  });

  it('reads a region of several labels as one span each, several submissions as lines, one choice for a multi-label question', () => {
    const read = answersFromResults(
      questions,
      [
        { from_name: 'topics', type: 'choices', value: { choices: ['tech'] } },
        { from_name: 'quality', type: 'rating', value: { rating: 5 } },
        { from_name: 'price', type: 'number', value: { number: 3 } },
        { from_name: 'note', type: 'textarea', value: { text: ['one', 'two'] } },
        { from_name: 'ents', type: 'labels', value: { start: 11, end: 18, text: 'Babbage', labels: ['ORG', 'PER'] } },
      ],
      input,
    );
    expect(read).toEqual({
      ok: true,
      value: {
        topics: ['tech'],
        quality: 2,
        price: 3,
        note: 'one\ntwo',
        ents: [
          { start: 10, end: 17, label: 'PER' },
          { start: 10, end: 17, label: 'ORG' },
        ],
      },
    });
  });

  it('answers a required multi-label or spans question without a result with nothing chosen; nothing at all is no answer', () => {
    const read = answersFromResults(
      questions,
      [
        { from_name: 'quality', type: 'rating', value: { rating: 1 } },
        { from_name: 'price', type: 'number', value: { number: 0 } },
      ],
      input,
    );
    expect(read).toEqual({ ok: true, value: { topics: [], quality: -2, price: 0, ents: [] } });
    expect(answersFromResults(questions, [], input)).toEqual({ ok: true, value: undefined });
    expect(answersFromResults(questions, [{ from_name: 'sentiment', type: 'choices', value: { choices: [] } }], input)).toEqual({ ok: true, value: undefined });
  });
});

describe('answersFromResults refuses, naming the result and the path under it', () => {
  const base: LabelStudioResult[] = [
    { from_name: 'quality', type: 'rating', value: { rating: 3 } },
    { from_name: 'price', type: 'number', value: { number: 5 } },
  ];
  it.each([
    [
      'a result for no question',
      { from_name: 'comment', type: 'textarea', value: { text: ['x'] } },
      'unsupported',
      2,
      ['from_name'],
      /answers none of the project's questions/,
    ],
    [
      'a result type its question does not take',
      { from_name: 'note', type: 'choices', value: { choices: ['x'] } },
      'unsupported',
      2,
      ['type'],
      /"note" is text, answered by textarea/,
    ],
    [
      'several choices for a label question',
      { from_name: 'sentiment', type: 'choices', value: { choices: ['neg', 'pos'] } },
      'invalid',
      2,
      ['value', 'choices'],
      /takes one label/,
    ],
    [
      'a label the question does not have',
      { from_name: 'sentiment', type: 'choices', value: { choices: ['meh'] } },
      'invalid',
      2,
      ['value', 'choices', 0],
      /meh/,
    ],
    [
      'a multi-label choice the question does not have',
      { from_name: 'topics', type: 'choices', value: { choices: ['tech', 'art'] } },
      'invalid',
      2,
      ['value', 'choices', 1],
      /"art"/,
    ],
    ['a star count past the scale', { from_name: 'quality', type: 'rating', value: { rating: 6 } }, 'invalid', 0, ['value', 'rating'], /from 1 to 5/],
    [
      'a span past the text',
      { from_name: 'ents', type: 'labels', value: { start: 11, end: 99, labels: ['PER'] } },
      'invalid',
      2,
      ['value', 'end'],
      /23 UTF-16/,
    ],
    [
      'a span inside the emoji',
      { from_name: 'ents', type: 'labels', value: { start: 9, end: 12, labels: ['PER'] } },
      'invalid',
      2,
      ['value', 'start'],
      /surrogate/,
    ],
    [
      'a span counted in code points (its text does not match)',
      { from_name: 'ents', type: 'labels', value: { start: 10, end: 17, text: 'Babbage', labels: ['PER'] } },
      'invalid',
      2,
      ['value', 'text'],
      /UTF-16/,
    ],
    [
      'a span label the question does not have',
      { from_name: 'ents', type: 'labels', value: { start: 0, end: 3, labels: ['PER', 'LOC'] } },
      'invalid',
      2,
      ['value', 'labels', 1],
      /"LOC"/,
    ],
    ['a second answer to one question', { from_name: 'price', type: 'number', value: { number: 6 } }, 'unsupported', 2, [], /a second number result/],
    [
      'a star count that is no whole number',
      { from_name: 'quality', type: 'rating', value: { rating: 1.5 } },
      'invalid',
      0,
      ['value', 'rating'],
      /from 1 to 5/,
    ],
  ] as const)('%s', (_name, extra, reason, result, path, message) => {
    // a rating replaces the first result (a second would be refused as such)
    const list = extra.type === 'rating' && result === 0 ? [extra as LabelStudioResult, base[1]] : [...base, extra as LabelStudioResult];
    const read = answersFromResults(questions, list, input);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect([read.issue.reason, read.issue.result, read.issue.path]).toEqual([reason, result, path]);
    expect(read.issue.message).toMatch(message);
  });

  it('names a number out of bounds at its value, and a missing required answer by its question', () => {
    const bounds = answersFromResults(questions, [base[0], { from_name: 'price', type: 'number', value: { number: 101 } }], input);
    expect(bounds).toEqual({ ok: false, issue: { result: 1, path: ['value', 'number'], message: 'at most 100', reason: 'invalid' } });
    const missing = answersFromResults(questions, [base[1]], input);
    expect(missing).toEqual({ ok: false, issue: { path: [], message: 'question "quality": an answer is required', reason: 'invalid' } });
  });
});

describe('suggestions → results → suggestions', () => {
  const suggestions = {
    topics: { scores: { sports: 0.9, tech: 0.2, politics: 0.6 } },
    quality: { value: 0.6, std: 0.3 },
    price: { value: 42, interval: [40, 45] as [number, number] },
    note: { value: 'draft 😀', confidence: 0.8 },
    ents: { spans: [{ start: 10, end: 17, label: 'PER', score: 0.7 }] },
  };
  const results = questions.flatMap((q) => (q.name in suggestions ? suggestionResults(q, suggestions[q.name as keyof typeof suggestions], context) : []));

  it('writes what the model predicts, with its confidence as each result’s score', () => {
    expect(results.map((r) => [r.from_name, r.type, r.value, r.score])).toEqual([
      ['topics', 'choices', { choices: ['sports', 'politics'] }, expect.closeTo((0.9 + 0.8 + 0.6) / 3, 12)],
      ['quality', 'rating', { rating: 4 }, expect.any(Number)], // 0.6 is nearest the point 1, the fourth
      ['price', 'number', { number: 42 }, expect.any(Number)],
      ['note', 'textarea', { text: ['draft 😀'] }, 0.8],
      ['ents', 'labels', { start: 11, end: 18, text: 'Babbage', labels: ['PER'] }, 0.7],
    ]);
  });

  it('reads back what Label Studio can hold: the predicted answer, a text’s confidence and each span’s score', () => {
    const read = suggestionsFromResults(questions, results, input);
    expect(read.ok && read.value.suggestions).toEqual({
      topics: { value: ['sports', 'politics'] },
      quality: { value: 1 },
      price: { value: 42 },
      note: { value: 'draft 😀', confidence: 0.8 },
      ents: { spans: [{ start: 10, end: 17, label: 'PER', score: 0.7 }] },
    });
    expect(read.ok && read.value.scores.get('note')).toBe(0.8);
  });

  it('refuses a span score that is no probability at the result’s score', () => {
    const read = suggestionsFromResults(questions, [{ from_name: 'ents', type: 'labels', value: { start: 0, end: 3, labels: ['PER'] }, score: 3 }], input);
    expect(read).toEqual({ ok: false, issue: { result: 0, path: ['score'], message: 'a probability in [0, 1]', reason: 'invalid' } });
  });
});

import { FeedbackRules } from '@backflow/contracts';
import { Questions } from '@backflow/questions';
import { absenceClosesAt, decideAnswer, decideAnswerByAbsence, decideByAbsence, decideFromEvents, editDistances, routeRequest } from './feedback-rules';

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 26, 12, minutes));
const labels = ['relevant', 'irrelevant', 'spam'];
const rules: FeedbackRules = {
  rules: [
    { eventType: 'click', label: 'relevant', windowMinutes: 30, priority: 0 },
    { eventType: 'purchase', label: 'relevant', windowMinutes: 60, priority: 5 },
    { eventType: 'dismiss', label: 'irrelevant', windowMinutes: 30, priority: 1 },
    { eventType: 'rating', valueEquals: 1, label: 'irrelevant', windowMinutes: 60, priority: 2 },
    { eventType: 'correction', label: '$value', windowMinutes: 1440, priority: 10 },
  ],
  absence: { label: 'irrelevant', windowMinutes: 30 },
};
const event = (id: string, type: string, minute: number, value?: unknown) => ({ id, type, value, occurredAt: at(minute) });

describe('decideFromEvents', () => {
  it.each([
    ['no events', [], undefined],
    ['a click inside the window', [event('e1', 'click', 10)], { label: 'relevant', rule: 'rules[0]', eventId: 'e1' }],
    ['a click after the window', [event('e1', 'click', 31)], undefined],
    [
      'a click a little before the prediction (clock skew)',
      [{ id: 'e1', type: 'click', value: undefined, occurredAt: new Date(at(0).getTime() - 30_000) }],
      { label: 'relevant', rule: 'rules[0]', eventId: 'e1' },
    ],
    ['an event type no rule names', [event('e1', 'hover', 1)], undefined],
    [
      'dismiss (priority 1) beats click (priority 0)',
      [event('e1', 'click', 1), event('e2', 'dismiss', 2)],
      { label: 'irrelevant', rule: 'rules[2]', eventId: 'e2' },
    ],
    [
      'purchase (priority 5) beats a later dismiss',
      [event('e1', 'purchase', 1), event('e2', 'dismiss', 20)],
      { label: 'relevant', rule: 'rules[1]', eventId: 'e1' },
    ],
    ['equal priority: the latest event', [event('e1', 'click', 1), event('e2', 'click', 5)], { label: 'relevant', rule: 'rules[0]', eventId: 'e2' }],
    ['a value condition that holds', [event('e1', 'rating', 3, 1)], { label: 'irrelevant', rule: 'rules[3]', eventId: 'e1' }],
    ['a value condition that fails', [event('e1', 'rating', 3, 5)], undefined],
    [
      'a correction to a project label',
      [event('e1', 'correction', 100, 'spam'), event('e2', 'purchase', 1)],
      { label: 'spam', rule: 'rules[4]', eventId: 'e1' },
    ],
    ['a correction to an unknown label', [event('e1', 'correction', 100, 'bacon')], undefined],
    [
      'ground truth outranks every rule, however late',
      [event('e1', 'correction', 100, 'spam'), event('e2', 'truth', 600_000, 'relevant')],
      { label: 'relevant', rule: 'truth', eventId: 'e2' },
    ],
    [
      'the latest ground truth wins',
      [event('e1', 'truth', 1, 'spam'), event('e2', 'truth', 5, 'irrelevant')],
      { label: 'irrelevant', rule: 'truth', eventId: 'e2' },
    ],
    [
      'ground truth naming no label is ignored',
      [event('e1', 'truth', 1, 'bacon'), event('e2', 'click', 2)],
      { label: 'relevant', rule: 'rules[0]', eventId: 'e2' },
    ],
  ])('%s', (_, events, expected) => {
    expect(decideFromEvents(at(0), events, rules, labels)).toEqual(expected);
  });
});

describe('absence', () => {
  it('labels by absence when the project says so, at the end of its window', () => {
    expect(decideByAbsence(rules)).toEqual({ label: 'irrelevant', rule: 'absence', eventId: null });
    expect(absenceClosesAt(at(0), rules)).toEqual(at(30));
    expect(decideByAbsence({ rules: [] })).toBeUndefined();
    expect(absenceClosesAt(at(0), { rules: [] })).toBeUndefined();
  });
});

describe('decideAnswer: feedback of other kinds', () => {
  const [tags, stars, price, summary] = Questions.parse([
    { name: 'tags', kind: 'multi_label', labels: [{ name: 'trail' }, { name: 'road' }, { name: 'hills' }] },
    { name: 'stars', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `${value}` })) },
    { name: 'price', kind: 'numeric', min: 0 },
    { name: 'summary', kind: 'text' },
  ]);
  const tagRules: FeedbackRules = {
    rules: [
      { eventType: 'tag_removed', answer: { remove: '$value' }, windowMinutes: 60, priority: 0 },
      { eventType: 'tag_added', answer: { add: '$value' }, windowMinutes: 60, priority: 0 },
      { eventType: 'retagged', answer: ['road'], windowMinutes: 60, priority: 0 },
    ],
  };

  it('edits the model’s label set in time order: a removed tag is a negative for that label', () => {
    // the model said trail and hills (its text form, one label per line)
    const decision = decideAnswer(at(0), [event('e2', 'tag_added', 2, 'road'), event('e1', 'tag_removed', 1, 'hills')], tagRules, tags, 'trail\nhills');
    expect(decision).toEqual({ answer: ['trail', 'road'], label: 'trail\nroad', rule: 'rules[1]', eventId: 'e2' });
  });

  it('applies only the edits after a rule that gives the whole set, and ignores a value naming no label', () => {
    const events = [
      event('e1', 'tag_added', 1, 'hills'),
      event('e2', 'retagged', 2),
      event('e3', 'tag_added', 3, 'trail'),
      event('e4', 'tag_added', 4, 'bogs'),
    ];
    expect(decideAnswer(at(0), events, tagRules, tags, 'trail')).toEqual({ answer: ['trail', 'road'], label: 'trail\nroad', rule: 'rules[1]', eventId: 'e3' });
  });

  it('makes an event’s value a rating, a number or a text, and skips a value that does not fit', () => {
    const rated: FeedbackRules = { rules: [{ eventType: 'rated', answer: '$value', windowMinutes: 60, priority: 0 }] };
    expect(decideAnswer(at(0), [event('e1', 'rated', 1, 4), event('e2', 'rated', 2, 7)], rated, stars, '3')).toEqual({
      answer: 4,
      label: '4',
      rule: 'rules[0]',
      eventId: 'e1',
    });
    expect(decideAnswer(at(0), [event('e1', 'rated', 1, 12.5)], rated, price, '10')).toMatchObject({ answer: 12.5, label: '12.5' });
    expect(decideAnswer(at(0), [event('e1', 'rated', 1, 'Hill reps, 6 km')], rated, summary, 'A run')).toMatchObject({ answer: 'Hill reps, 6 km' });
  });

  it('takes a truth event’s value when it fits the question, and an absence answer when the window closes', () => {
    expect(decideAnswer(at(0), [event('e1', 'truth', 1, 'x'), event('e2', 'truth', 2, 5)], { rules: [] }, stars, '3')).toMatchObject({
      answer: 5,
      rule: 'truth',
    });
    expect(decideAnswerByAbsence({ rules: [], absence: { answer: { remove: 'trail' }, windowMinutes: 30 } }, tags, 'trail\nroad')).toEqual({
      answer: ['road'],
      label: 'road',
      rule: 'absence',
      eventId: null,
    });
    expect(decideAnswerByAbsence({ rules: [], absence: { answer: 1, windowMinutes: 30 } }, stars, '3')).toMatchObject({ answer: 1, label: '1' });
  });
});

describe('decideAnswer: a ranking graded by the events on its candidates', () => {
  const [runs] = Questions.parse([{ name: 'runs', kind: 'ranking', grades: [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` })) }]);
  const graded: FeedbackRules = {
    rules: [
      { eventType: 'click', grade: 1, windowMinutes: 30, priority: 0 },
      { eventType: 'completion', grade: 3, windowMinutes: 60, priority: 0 },
      { eventType: 'hide', grade: 0, windowMinutes: 60, priority: 5 },
    ],
    absence: { grade: 0, windowMinutes: 60 },
  };
  const shown = 'b\na\nc';
  const on = (id: string, type: string, minute: number, item: string | null) => ({ ...event(id, type, minute), item });

  it.each([
    ['no event', [], undefined],
    [
      'a click on an item of the list; the others at the lowest grade',
      [on('e1', 'click', 1, 'a')],
      { grades: { a: 1, b: 0, c: 0 }, rule: 'rules[0]', eventId: 'e1' },
    ],
    [
      'a completion beats a click of the same item',
      [on('e1', 'click', 1, 'a'), on('e2', 'completion', 2, 'a')],
      { grades: { a: 3, b: 0, c: 0 }, rule: 'rules[1]', eventId: 'e2' },
    ],
    [
      'a higher-priority hide beats a completion',
      [on('e1', 'completion', 1, 'c'), on('e2', 'hide', 2, 'c')],
      { grades: { a: 0, b: 0, c: 0 }, rule: 'rules[2]', eventId: 'e2' },
    ],
    ['a click after its window', [on('e1', 'click', 31, 'a')], undefined],
    ['an item the list does not hold, or none', [on('e1', 'click', 1, 'z'), on('e2', 'click', 1, null)], undefined],
    ['several items', [on('e1', 'click', 1, 'c'), on('e2', 'completion', 5, 'b')], { grades: { a: 0, b: 3, c: 1 }, rule: 'rules[1]', eventId: 'e2' }],
  ])('%s', (_what, events, expected) => {
    const decision = decideAnswer(at(0), events, graded, runs, shown);
    if (!expected) return expect(decision).toBeUndefined();
    const answer = Object.entries(expected.grades)
      .map(([item, grade]) => ({ item, grade }))
      .sort((x, y) => (x.item < y.item ? -1 : 1));
    expect(decision).toEqual({ answer, label: answer.map((g) => `${g.item}:${g.grade}`).join('\n'), rule: expected.rule, eventId: expected.eventId });
  });

  it('grades every candidate at the absence grade when the window closes with no event', () => {
    expect(decideAnswerByAbsence(graded, runs, shown)).toEqual({
      answer: [
        { item: 'a', grade: 0 },
        { item: 'b', grade: 0 },
        { item: 'c', grade: 0 },
      ],
      label: 'a:0\nb:0\nc:0',
      rule: 'absence',
      eventId: null,
    });
    expect(decideAnswerByAbsence({ rules: graded.rules }, runs, shown)).toBeUndefined();
  });
});

describe('routeRequest and editDistances', () => {
  const routing: FeedbackRules = {
    rules: [
      { eventType: 'thumbs_down', route: true, windowMinutes: 30, priority: 0 },
      { eventType: 'regenerate', route: true, windowMinutes: 10, priority: 0 },
      { eventType: 'fix', answer: '$value', windowMinutes: 60, priority: 0 },
    ],
  };

  it('asks for raters on the latest event of a route rule inside its window, and labels nothing', () => {
    expect(routeRequest(at(0), [], routing)).toBeUndefined();
    expect(routeRequest(at(0), [event('e1', 'regenerate', 11)], routing)).toBeUndefined();
    expect(routeRequest(at(0), [event('e1', 'regenerate', 9), event('e2', 'thumbs_down', 20)], routing)).toEqual({ rule: 'rules[0]', eventId: 'e2' });
    const question = Questions.parse([{ name: 'reply', kind: 'generation' }])[0];
    expect(decideAnswer(at(0), [event('e1', 'thumbs_down', 1)], routing, question, 'Run 5 km.')).toBeUndefined();
  });

  it('measures edits of a text or generation: events named edit, and those a rule reads as the answer; once', () => {
    const [generation, label] = Questions.parse([
      { name: 'reply', kind: 'generation' },
      { name: 'topic', kind: 'label', labels: [{ name: 'a' }, { name: 'b' }] },
    ]);
    const facts = [{ id: 'p1', predictedLabel: 'abcd' }];
    const events = [
      { ...event('e1', 'edit', 1, 'abXd'), predictionId: 'p1' },
      { ...event('e2', 'fix', 1, ''), predictionId: 'p1' },
      { ...event('e3', 'edit', 1, 'abcd'), predictionId: 'p1', editDistance: 0 },
      { ...event('e4', 'copy', 1, 'abXd'), predictionId: 'p1' },
      { ...event('e5', 'edit', 1, 'abXd'), predictionId: 'p2' },
    ];
    expect(editDistances(generation, routing, facts, events)).toEqual([
      { eventId: 'e1', distance: 0.25 },
      { eventId: 'e2', distance: 1 },
    ]);
    expect(editDistances(label, routing, facts, events)).toEqual([]);
  });
});

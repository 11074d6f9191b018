import { Question, type Answers, type QuestionInput } from './definitions';
import {
  answerColumns,
  answerText,
  checkAnswers,
  checkSuggestions,
  confidenceOf,
  decideAnswers,
  legacyQuestions,
  routingOutput,
  routingQuestionOf,
  takesScores,
  uncertaintyOf,
} from './questions';

const parse = (...inputs: QuestionInput[]) => inputs.map((input) => Question.parse(input));
const labels = (...names: string[]) => names.map((name) => ({ name }));

const [sentiment, topics, stars, price, note, ents] = parse(
  { name: 'sentiment', kind: 'label', labels: labels('neg', 'neu', 'pos') },
  { name: 'topics', kind: 'multi_label', labels: labels('sports', 'politics', 'science') },
  { name: 'stars', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `${value}` })) },
  { name: 'price', kind: 'numeric', min: 0, integer: false },
  { name: 'note', kind: 'text', required: false },
  { name: 'ents', kind: 'spans', field: 'body', labels: labels('PER', 'ORG') },
);
const everyKind = [sentiment, topics, stars, price, note, ents];
const body = { input: { body: 'Ada 😀 Bob' } }; // 9 code points

describe('checkAnswers', () => {
  const complete = { sentiment: 'pos', topics: ['science', 'sports'], stars: 4, price: 2.5, note: ' fine ', ents: [{ start: 6, end: 9, label: 'PER' }] };

  it('returns every answer as its kind checked it', () => {
    expect(checkAnswers(everyKind, complete, body)).toEqual({
      ok: true,
      value: { sentiment: 'pos', topics: ['sports', 'science'], stars: 4, price: 2.5, note: ' fine ', ents: [{ start: 6, end: 9, label: 'PER' }] },
    });
  });

  it('leaves out a question that is not required and not answered (absent or null)', () => {
    const { note: _note, ...rest } = complete;
    for (const raw of [rest, { ...rest, note: null }]) {
      const checked = checkAnswers(everyKind, raw, body);
      expect(checked.ok && Object.keys(checked.value)).toEqual(['sentiment', 'topics', 'stars', 'price', 'ents']);
    }
  });

  it.each([
    ['a bad second label', { topics: ['sports', 'art'] }, ['topics', 1]],
    [
      'a span past the end of its field',
      {
        ents: [
          { start: 0, end: 3, label: 'PER' },
          { start: 6, end: 10, label: 'PER' },
        ],
      },
      ['ents', 1, 'end'],
    ],
    ['a rating between points', { stars: 3.5 }, ['stars']],
    ['a negative price', { price: -1 }, ['price']],
    ['a required question unanswered', { sentiment: undefined }, ['sentiment']],
    ['a required question answered null', { stars: null }, ['stars']],
    ['a question the project does not ask', { mood: 'happy' }, ['mood']],
  ])('refuses %s, with the question name first in the path', (_what, change, path) => {
    const checked = checkAnswers(everyKind, { ...complete, ...change }, body);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });

  it('names the questions it asks when it refuses an unknown one, and refuses what is no object', () => {
    expect(checkAnswers([sentiment, note], { sentiment: 'pos', mood: 'happy' })).toEqual({
      ok: false,
      issue: { path: ['mood'], message: 'the project asks no question "mood" (sentiment, note)' },
    });
    expect(checkAnswers([sentiment], ['pos']).ok).toBe(false);
    expect(checkAnswers([sentiment], 'pos').ok).toBe(false);
  });

  it('reads a legacy project the way it reads any label question', () => {
    const legacy = legacyQuestions(labels('ham', 'spam'));
    expect(checkAnswers(legacy, { label: 'spam' })).toEqual({ ok: true, value: { label: 'spam' } });
    expect(checkAnswers(legacy, {})).toEqual({ ok: false, issue: { path: ['label'], message: 'an answer is required' } });
  });
});

describe('checkSuggestions', () => {
  it("checks each question's model output by its kind, any subset of the questions", () => {
    expect(checkSuggestions(everyKind, { stars: { value: 3.2 }, note: { value: 'x', confidence: 0.5 } })).toEqual({
      ok: true,
      value: { stars: { value: 3.2 }, note: { value: 'x', confidence: 0.5 } },
    });
    expect(checkSuggestions(everyKind, {})).toEqual({ ok: true, value: {} });
  });

  it.each([
    ['an unknown question', { mood: { value: 'x' } }, ['mood']],
    ['scores off 1', { sentiment: { scores: { neg: 0.5, pos: 0.6 } } }, ['sentiment', 'scores']],
    ['an unknown label in the scores', { sentiment: { scores: { spam: 1 } } }, ['sentiment', 'scores', 'spam']],
    ['a span past the field', { ents: { spans: [{ start: 0, end: 10, label: 'PER' }] } }, ['ents', 'spans', 0, 'end']],
  ])('refuses %s at %j', (_what, raw, path) => {
    const checked = checkSuggestions(everyKind, raw, body);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });
});

describe('uncertaintyOf, confidenceOf and the routing question', () => {
  it("reads each kind's uncertainty by the strategy", () => {
    expect(uncertaintyOf(sentiment, { scores: { neg: 0.1, neu: 0.2, pos: 0.7 } }, 'margin')).toBeCloseTo(0.5, 12);
    expect(uncertaintyOf(note, { value: 'x', confidence: 0.25 }, 'entropy')).toBe(0.75);
    expect(confidenceOf(note, { value: 'x', confidence: 0.25 })).toBe(0.25);
  });

  it('finds the routing question by name, and throws for a name it does not have', () => {
    expect(routingQuestionOf(everyKind, 'stars')).toBe(stars);
    expect(() => routingQuestionOf(everyKind, 'mood')).toThrow('no question "mood"');
  });

  it('only label and multi-label questions take class scores', () => {
    expect(everyKind.filter(takesScores).map((q) => q.name)).toEqual(['sentiment', 'topics']);
  });

  it("routingOutput adds the class scores to a scored kind's suggestion, and leaves the others alone", () => {
    const scores = { neg: 0.2, pos: 0.8 };
    expect(routingOutput(sentiment, scores, { sentiment: { value: 'pos' } })).toEqual({ value: 'pos', scores });
    expect(routingOutput(sentiment, scores, null)).toEqual({ scores });
    expect(routingOutput(sentiment, {}, { sentiment: { value: 'pos' } })).toEqual({ value: 'pos' });
    expect(routingOutput(sentiment, null, { sentiment: { value: 'pos' } })).toEqual({ value: 'pos' });
    expect(routingOutput(stars, scores, { stars: { value: 4 } })).toEqual({ value: 4 });
    expect(routingOutput(stars, null, undefined)).toBeUndefined();
  });
});

describe('decideAnswers', () => {
  it('agrees when every question does, with the smallest agreement of them', () => {
    // sentiment: pos 2 of 3; topics: sports 3/3, science 1/3 (out by 2/3); note given once of 3: dropped
    const sets: Answers[] = [
      { sentiment: 'pos', topics: ['sports'], note: 'meh' },
      { sentiment: 'pos', topics: ['sports'] },
      { sentiment: 'neg', topics: ['sports', 'science'] },
    ];
    expect(decideAnswers([sentiment, topics, note], sets, 0.6, 5)).toEqual({
      kind: 'agreed',
      answers: { sentiment: 'pos', topics: ['sports'] },
      agreement: 2 / 3,
    });
  });

  it('keeps a question that is not required when more than half gave it', () => {
    // note given by 2 of 3, the same once trimmed: agreement 1 on it
    const sets: Answers[] = [{ sentiment: 'pos', note: 'ok ' }, { sentiment: 'pos', note: 'ok' }, { sentiment: 'pos' }];
    expect(decideAnswers([sentiment, note], sets, 0.6, 5)).toEqual({ kind: 'agreed', answers: { sentiment: 'pos', note: 'ok' }, agreement: 1 });
  });

  it('drops a question that is not required when exactly half gave it', () => {
    // the fourth rater's note is null: not given either
    const sets = [{ sentiment: 'pos', note: 'a' }, { sentiment: 'pos', note: 'b' }, { sentiment: 'pos' }, { sentiment: 'pos', note: null }] as Answers[];
    expect(decideAnswers([sentiment, note], sets, 0.6, 5)).toEqual({ kind: 'agreed', answers: { sentiment: 'pos' }, agreement: 1 });
  });

  it('does not agree when a kept question that is not required splits', () => {
    // note given by 2 of 3 and different: a tie on it
    const sets: Answers[] = [{ sentiment: 'pos', note: 'a' }, { sentiment: 'pos', note: 'b' }, { sentiment: 'pos' }];
    expect(decideAnswers([sentiment, note], sets, 0.6, 5)).toEqual({ kind: 'escalate', agreement: 0.5 });
  });

  it('asks one more rater while fewer than maxAnnotations answered, then sends to review', () => {
    const sets: Answers[] = [
      { sentiment: 'pos', stars: 4 },
      { sentiment: 'neg', stars: 4 },
    ];
    expect(decideAnswers([sentiment, stars], sets, 0.6, 3)).toEqual({ kind: 'escalate', agreement: 0.5 });
    expect(decideAnswers([sentiment, stars], sets, 0.6, 2)).toEqual({ kind: 'review', agreement: 0.5 });
  });

  it('one undecided question holds back the rest, and the agreement is the lowest', () => {
    // sentiment unanimous; stars [1, 5]: lower median 1, 5 is four points away: 1/2; price [10, 10]: 1
    const sets: Answers[] = [
      { sentiment: 'pos', stars: 1, price: 10 },
      { sentiment: 'pos', stars: 5, price: 10 },
    ];
    expect(decideAnswers([sentiment, stars, price], sets, 0.75, 4)).toEqual({ kind: 'escalate', agreement: 0.5 });
    expect(decideAnswers([sentiment, stars, price], sets, 0.5, 4)).toEqual({
      kind: 'agreed',
      answers: { sentiment: 'pos', stars: 1, price: 10 },
      agreement: 0.5,
    });
  });

  it('with no answers, escalates at agreement 0 (review once nobody more may be asked)', () => {
    expect(decideAnswers([sentiment], [], 0.6, 3)).toEqual({ kind: 'escalate', agreement: 0 });
    expect(decideAnswers([sentiment], [], 0.6, 0)).toEqual({ kind: 'review', agreement: 0 });
  });

  it('decides spans and a label set together', () => {
    const per = [{ start: 0, end: 3, label: 'PER' }];
    const sets: Answers[] = [
      { ents: per, topics: [] },
      { ents: per, topics: [] },
      { ents: [], topics: ['science'] },
    ];
    // ents: 3 points kept of 3 marked: 1; topics: science out 2/3
    expect(decideAnswers([ents, topics], sets, 0.6, 3)).toEqual({ kind: 'agreed', answers: { ents: per, topics: [] }, agreement: 2 / 3 });
  });
});

describe('answerText', () => {
  const per = { start: 0, end: 5, label: 'PER' };
  const org = { start: 6, end: 9, label: 'ORG' };
  it.each([
    { question: sentiment, answer: 'pos', text: 'pos' },
    { question: note, answer: ' as typed \n', text: ' as typed \n' },
    { question: stars, answer: 4, text: '4' },
    { question: price, answer: 2.5, text: '2.5' },
    { question: price, answer: -0.001, text: '-0.001' },
    { question: topics, answer: ['sports', 'science'], text: 'sports\nscience' },
    { question: topics, answer: [], text: '' },
    { question: ents, answer: [per, org], text: '0:5:PER\n6:9:ORG' },
    { question: ents, answer: [], text: '' },
  ])('of a $question.kind answer $answer is $text', ({ question, answer, text }) => {
    expect(answerText(question, answer)).toBe(text);
  });
});

describe('answerColumns', () => {
  const columns = answerColumns(everyKind);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const answers = (raw: Record<string, unknown>) => {
    const checked = checkAnswers(everyKind, raw, { input: { body: 'Ada met Bob at Acme' } });
    if (!checked.ok) throw new Error(checked.issue.message);
    return checked.value;
  };
  const full = answers({
    sentiment: 'neu',
    topics: ['science', 'sports'],
    stars: 4,
    price: 2.5,
    note: 'fine',
    ents: [
      { start: 15, end: 19, label: 'ORG' },
      { start: 8, end: 11, label: 'PER' },
      { start: 0, end: 3, label: 'PER' },
    ],
  });

  it("lists every question's columns in question order, with their types", () => {
    expect(columns.map((c) => [c.question, c.name, c.type, c.list])).toEqual([
      ['sentiment', 'sentiment', 'int', false],
      ['sentiment', 'sentiment_name', 'bytes', false],
      ['topics', 'topics', 'int', true],
      ['topics', 'topics_multi_hot', 'int', true],
      ['stars', 'stars', 'int', false],
      ['price', 'price', 'float', false],
      ['note', 'note', 'bytes', false],
      ['ents', 'ents_start', 'int', true],
      ['ents', 'ents_end', 'int', true],
      ['ents', 'ents_label', 'int', true],
    ]);
  });

  it('gives index columns the domain of their labels', () => {
    expect(byName.get('sentiment')!.domain).toEqual({ min: 0, max: 2 });
    expect(byName.get('topics')!.domain).toEqual({ min: 0, max: 2 });
    expect(byName.get('ents_label')!.domain).toEqual({ min: 0, max: 1 });
    expect(byName.get('stars')!.domain).toBeUndefined();
  });

  it('encodes each kind', () => {
    expect(Object.fromEntries(columns.map((c) => [c.name, c.values(full)]))).toEqual({
      sentiment: [1],
      sentiment_name: ['neu'],
      topics: [0, 2], // sports, science: indexes ascending
      topics_multi_hot: [1, 0, 1],
      stars: [4],
      price: [2.5],
      note: ['fine'],
      // sorted by start: Ada [0, 3) PER, Bob [8, 11) PER, Acme [15, 19) ORG
      ents_start: [0, 8, 15],
      ents_end: [3, 11, 19],
      ents_label: [0, 0, 1],
    });
  });

  it('gives no values for an unanswered question, and empty lists for an empty answer', () => {
    const partial = answers({ sentiment: 'pos', topics: [], stars: 1, price: 0, ents: [] });
    expect(byName.get('note')!.values(partial)).toBeUndefined();
    expect(byName.get('price')!.values(partial)).toEqual([0]);
    expect(byName.get('topics')!.values(partial)).toEqual([]);
    expect(byName.get('topics_multi_hot')!.values(partial)).toEqual([0, 0, 0]);
    expect(byName.get('ents_start')!.values(partial)).toEqual([]);
  });
});

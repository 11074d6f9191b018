import fc from 'fast-check';
import { Question, SpansQuestion, type Answer, type Answers, type Span } from './definitions';
import { sortSpans } from './kinds/spans';
import { trimText } from './kinds/text';
import { decideAnswers, kindOf } from './questions';

const labels = (...names: string[]) => names.map((name) => ({ name }));

const sentiment = Question.parse({ name: 'sentiment', kind: 'label', labels: labels('neg', 'neu', 'pos') });
const topics = Question.parse({ name: 'topics', kind: 'multi_label', labels: labels('sports', 'politics', 'science') });
const note = Question.parse({ name: 'note', kind: 'text', required: false });
const reply = Question.parse({ name: 'reply', kind: 'generation' });
const better = Question.parse({ name: 'better', kind: 'preference', of: 'reply' });
const preferenceAnswer = fc.record({ preferred: fc.constantFrom('first', 'second', 'tie', 'both_bad'), left: fc.constantFrom('first', 'second') });
const ents = SpansQuestion.parse({ name: 'ents', kind: 'spans', field: 'body', labels: labels('PER', 'ORG') });

const threshold = fc.double({ min: 0, max: 1, noNaN: true });
// +0: a −0 answer would sort level with 0 and make "the same value" depend on the order
const number = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.double({ min: -1_000, max: 1_000, noNaN: true }).map((x) => x + 0),
);

const labelAnswer = fc.constantFrom('neg', 'neu', 'pos');
const topicsAnswer = fc.subarray(['sports', 'politics', 'science']);
const textAnswer = fc.constantFrom('Paris', ' Paris', 'Paris\n', 'Lyon', 'lyon', 'Nice\t');
const spansAnswer = fc
  .uniqueArray(
    fc.record({ start: fc.nat(15), length: fc.integer({ min: 1, max: 5 }), label: fc.constantFrom('PER', 'ORG') }).map(({ start, length, label }) => ({
      start,
      end: start + length,
      label,
    })),
    { selector: (s) => `${s.start}:${s.end}:${s.label}`, maxLength: 4 },
  )
  .map((spans) => sortSpans(ents, spans));

interface Case {
  kind: string;
  question: fc.Arbitrary<Question>;
  answer: fc.Arbitrary<Answer>;
}

const cases: Case[] = [
  { kind: 'label', question: fc.constant(sentiment), answer: labelAnswer },
  { kind: 'multi_label', question: fc.constant(topics), answer: topicsAnswer },
  {
    kind: 'rating',
    question: fc
      .integer({ min: 0, max: 4 })
      .map((maxSpread) => Question.parse({ name: 'stars', kind: 'rating', maxSpread, points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `${value}` })) })),
    answer: fc.constantFrom(1, 2, 3, 4, 5),
  },
  {
    kind: 'numeric',
    question: fc
      .record({ tolerance: fc.double({ min: 0, max: 10, noNaN: true }), relativeTolerance: fc.double({ min: 0, max: 1, noNaN: true }) })
      .map((tolerances) => Question.parse({ name: 'price', kind: 'numeric', ...tolerances })),
    answer: number,
  },
  { kind: 'text', question: fc.constant(note), answer: textAnswer },
  { kind: 'generation', question: fc.constant(reply), answer: textAnswer },
  { kind: 'preference', question: fc.constant(better), answer: preferenceAnswer },
  { kind: 'spans', question: fc.constant(ents), answer: spansAnswer },
];

/** Answer lists with a reordering of each. */
const shuffled = <T>(lists: fc.Arbitrary<T[]>) =>
  lists.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })));

describe.each(cases)('$kind consensus, for any answers', ({ question: questions, answer }) => {
  const answerLists = shuffled(fc.array(answer, { maxLength: 7 }));

  it('is the same again, and the same whatever order the raters came in', () => {
    fc.assert(
      fc.property(questions, answerLists, threshold, (question, [answers, reordered], t) => {
        const kind = kindOf(question);
        const before = structuredClone(answers);
        const decision = kind.consensus(question, answers, t);
        expect(answers).toEqual(before);
        expect(kind.consensus(question, answers, t)).toEqual(decision);
        expect(kind.consensus(question, reordered, t)).toEqual(decision);
      }),
    );
  });

  it('has an agreement in [0, 1], at least the threshold when it decides, 0 with no answers', () => {
    fc.assert(
      fc.property(questions, answerLists, threshold, (question, [answers], t) => {
        const decision = kindOf(question).consensus(question, answers, t);
        expect(decision.agreement).toBeGreaterThanOrEqual(0);
        expect(decision.agreement).toBeLessThanOrEqual(1);
        if (decision.decided) expect(decision.agreement).toBeGreaterThanOrEqual(t);
        if (answers.length === 0) expect(decision).toEqual({ decided: false, agreement: 0 });
      }),
    );
  });
});

describe('a decided value is one the raters gave', () => {
  it.each([
    ['label', sentiment, labelAnswer],
    ['text', note, textAnswer],
    ['generation', reply, textAnswer],
  ] as const)('%s: the most given answer (trimmed), untied', (_kind, question, answer) => {
    fc.assert(
      fc.property(fc.array(answer, { minLength: 1, maxLength: 7 }), threshold, (answers, t) => {
        const decision = kindOf(question).consensus(question, answers, t);
        const given = answers.map(trimText);
        const count = (value: string) => given.filter((a) => a === value).length;
        if (!decision.decided) return;
        const top = count(decision.value as string);
        expect(decision.agreement).toBe(top / answers.length);
        for (const other of new Set(given)) if (other !== decision.value) expect(count(other)).toBeLessThan(top);
      }),
    );
  });

  it('numeric and rating: an answer someone gave (never an average), kept by at least the median', () => {
    for (const { question: questions, answer } of cases.filter((c) => c.kind === 'numeric' || c.kind === 'rating')) {
      fc.assert(
        fc.property(questions, fc.array(answer, { minLength: 1, maxLength: 7 }), (question, answers) => {
          const decision = kindOf(question).consensus(question, answers, 0);
          expect(decision.decided).toBe(true);
          if (decision.decided) expect(answers).toContain(decision.value);
          expect(decision.agreement).toBeGreaterThanOrEqual(1 / answers.length);
        }),
      );
    }
  });

  it('multi_label: the labels more than half the raters chose, in the question order', () => {
    fc.assert(
      fc.property(fc.array(topicsAnswer, { minLength: 1, maxLength: 7 }), (answers) => {
        const decision = kindOf(topics).consensus(topics, answers, 0);
        const majority = ['sports', 'politics', 'science'].filter((name) => 2 * answers.filter((a) => a.includes(name)).length > answers.length);
        const split = ['sports', 'politics', 'science'].some((name) => 2 * answers.filter((a) => a.includes(name)).length === answers.length);
        expect(decision).toEqual(split ? { decided: false, agreement: 0.5 } : { decided: true, value: majority, agreement: decision.agreement });
      }),
    );
  });

  it('spans: sorted, each point of each kept span marked by more than half the raters, none merged across a gap', () => {
    fc.assert(
      fc.property(fc.array(spansAnswer, { minLength: 1, maxLength: 7 }), (answers) => {
        const decision = kindOf(ents).consensus(ents, answers, 0);
        if (!decision.decided) throw new Error('a threshold of 0 always decides spans');
        const spans = decision.value as Span[];
        expect(spans).toEqual(sortSpans(ents, spans));
        const votes = (pos: number, label: string) => answers.filter((a) => a.some((s) => s.label === label && s.start <= pos && pos < s.end)).length;
        for (const s of spans) {
          for (let pos = s.start; pos < s.end; pos++) expect(2 * votes(pos, s.label)).toBeGreaterThan(answers.length);
          // a kept span is a maximal run: the points either side were not kept
          expect(2 * votes(s.start - 1, s.label)).toBeLessThanOrEqual(answers.length);
          expect(2 * votes(s.end, s.label)).toBeLessThanOrEqual(answers.length);
        }
      }),
    );
  });
});

describe('decideAnswers, for any answer sets', () => {
  const questions = [sentiment, topics, note];
  const answerSet: fc.Arbitrary<Answers> = fc.record(
    { sentiment: labelAnswer, topics: topicsAnswer, note: textAnswer },
    { requiredKeys: ['sentiment', 'topics'] },
  );

  it('is the same whatever order the raters came in, with an agreement in [0, 1]', () => {
    fc.assert(
      fc.property(shuffled(fc.array(answerSet, { maxLength: 6 })), threshold, fc.integer({ min: 0, max: 8 }), ([sets, reordered], t, maxAnnotations) => {
        const decision = decideAnswers(questions, sets, t, maxAnnotations);
        expect(decideAnswers(questions, reordered, t, maxAnnotations)).toEqual(decision);
        expect(decision.agreement).toBeGreaterThanOrEqual(0);
        expect(decision.agreement).toBeLessThanOrEqual(1);
        if (decision.kind === 'agreed') expect(decision.agreement).toBeGreaterThanOrEqual(t);
        else expect(decision.kind).toBe(sets.length < maxAnnotations ? 'escalate' : 'review');
      }),
    );
  });

  it('keeps the note exactly when it is decided among more than half the raters', () => {
    fc.assert(
      fc.property(fc.array(answerSet, { minLength: 1, maxLength: 6 }), (sets) => {
        const decision = decideAnswers(questions, sets, 0, 10);
        if (decision.kind !== 'agreed') return;
        const given = sets.filter((s) => s.note !== undefined).length;
        if (2 * given <= sets.length) expect(decision.answers).not.toHaveProperty('note');
        else expect(decision.answers).toHaveProperty('note');
      }),
    );
  });
});

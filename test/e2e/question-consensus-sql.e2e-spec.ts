import { answerText, decideAnswers, Questions, type Answers, type Question } from '@backflow/questions';
import { createDatabase, withClient } from '../helpers/test-database';

// A submit decides every question's consensus inside PostgreSQL (backflow_decide_answers, with
// backflow_question_consensus per kind); decideAnswers (libs/questions) is the reference. The two
// must agree on every answer set, threshold and maximum, and write an answer as the same text.
const QUESTIONS: Question[] = Questions.parse([
  { name: 'kind', kind: 'label', labels: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
  { name: 'topics', kind: 'multi_label', labels: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] },
  { name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `p${value}` })) },
  { name: 'price', kind: 'numeric', min: -10, max: 100 },
  { name: 'note', kind: 'text' },
  { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }] },
  { name: 'remark', kind: 'text', required: false },
  { name: 'results', kind: 'ranking', grades: [0, 1, 2, 3].map((value) => ({ value, name: `g${value}` })) },
  { name: 'reply', kind: 'generation' },
  { name: 'better', kind: 'preference', of: 'reply' },
]);

// a seeded generator, so a failure reproduces
let seed = 11;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];

function randomAnswers(): Answers {
  const spans = Array.from({ length: Math.floor(next() * 3) }, () => {
    const start = Math.floor(next() * 10);
    return { start, end: start + 1 + Math.floor(next() * 4), label: pick(['PER', 'ORG']) };
  });
  const unique = [...new Map(spans.map((s) => [`${s.start}:${s.end}:${s.label}`, s])).values()].sort(
    (p, q) => p.start - q.start || p.end - q.end || (p.label === q.label ? 0 : p.label === 'PER' ? -1 : 1),
  );
  const answers: Answers = {
    kind: pick(['a', 'a', 'b', 'c']),
    topics: ['x', 'y', 'z'].filter(() => next() < 0.5),
    quality: pick([1, 2, 3, 4, 4, 5]),
    price: pick([10, 10.2, 10.4, 50, 0, -3, 12.5]),
    note: pick(['fine', ' fine ', 'fine\n', 'ok', 'bad']),
    ents: unique,
    reply: pick(['Paris.', ' Paris.', 'Paris.\n', 'It is Paris.', 'Lyon.']),
    better: { preferred: pick(['first', 'first', 'second', 'tie', 'both_bad'] as const), left: pick(['first', 'first', 'second'] as const) },
  };
  if (next() < 0.5) answers.remark = pick(['yes', 'no']);
  // ids whose order differs between a locale and bytes (upper case first, punctuation); now and then an item left ungraded
  answers.results = ['a1', 'B2', 'Z9', 'm:x', '_q']
    .filter(() => next() < 0.9)
    .sort()
    .map((item) => ({ item, grade: pick([0, 1, 2, 2, 3]) }));
  return answers;
}

describe('question consensus in SQL and in TypeScript', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    database = await createDatabase();
  });
  afterAll(() => database.drop());

  it('decide 500 answer sets of ten questions of every kind alike', async () => {
    const cases = Array.from({ length: 500 }, () => {
      // raters who mostly agree, so every outcome occurs
      const base = randomAnswers();
      const answers = Array.from({ length: 1 + Math.floor(next() * 4) }, () => (next() < 0.6 ? base : randomAnswers()));
      return { answers, threshold: pick([0.5, 0.6, 2 / 3, 1]), max: 1 + Math.floor(next() * 5) };
    });
    const rows = await withClient(database.url, async (client) => {
      const result = await client.query<{ kind: string; answers: Answers | null; agreement: number }>(
        `SELECT d.kind, d.answers, d.agreement
           FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS c(item, i),
                LATERAL backflow_decide_answers($1::jsonb, ARRAY(SELECT jsonb_array_elements(c.item->'answers')), (c.item->>'threshold')::float8, (c.item->>'max')::int) AS d
          ORDER BY c.i`,
        [JSON.stringify(QUESTIONS), JSON.stringify(cases)],
      );
      return result.rows;
    });
    expect(rows).toHaveLength(cases.length);
    const kinds = new Set<string>();
    rows.forEach((row, index) => {
      const { answers, threshold, max } = cases[index];
      const expected = decideAnswers(QUESTIONS, answers, threshold, max);
      kinds.add(expected.kind);
      expect({ index, kind: row.kind, agreement: row.agreement, answers: row.answers }).toEqual({
        index,
        kind: expected.kind,
        agreement: expected.agreement,
        answers: expected.kind === 'agreed' ? expected.answers : null,
      });
    });
    expect([...kinds].sort()).toEqual(['agreed', 'escalate', 'review']);
  });

  it('write each kind of answer as the same text', async () => {
    const samples = Array.from({ length: 100 }, randomAnswers);
    const pairs = samples.flatMap((answers) =>
      QUESTIONS.filter((q) => answers[q.name] !== undefined).map((q) => ({ kind: q.kind, answer: answers[q.name], expected: answerText(q, answers[q.name]) })),
    );
    const texts = await withClient(database.url, async (client) => {
      const result = await client.query<{ text: string }>(
        `SELECT backflow_answer_text(c.item->>'kind', c.item->'answer') AS text FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(item, i) ORDER BY c.i`,
        [JSON.stringify(pairs)],
      );
      return result.rows.map((r) => r.text);
    });
    expect(texts).toEqual(pairs.map((p) => p.expected));
  });
});

import { decideConsensus } from '@backflow/agreement';
import { createDatabase, withClient } from '../helpers/test-database';

// A submit decides consensus inside PostgreSQL (backflow_consensus); decideConsensus is the
// reference. The two must agree on every answer list, threshold and maximum.
describe('consensus in SQL and in TypeScript', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    database = await createDatabase();
  });
  afterAll(() => database.drop());

  function cases(): Array<{ labels: string[]; threshold: number; max: number }> {
    const fixed = [
      { labels: ['ham'], threshold: 0.6, max: 4 },
      { labels: ['ham', 'ham', 'spam'], threshold: 0.6, max: 4 },
      { labels: ['ham', 'spam'], threshold: 0.6, max: 4 },
      { labels: ['ham', 'spam'], threshold: 0.6, max: 2 },
      { labels: ['ham', 'spam', 'promo', 'ham'], threshold: 0.6, max: 4 },
      { labels: ['a', 'a', 'b', 'b', 'c'], threshold: 0.3, max: 9 },
      { labels: ['a', 'b', 'c'], threshold: 1 / 3, max: 3 },
      { labels: ['a', 'a', 'a'], threshold: 1, max: 3 },
    ];
    // a seeded generator, so a failure reproduces
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const random = Array.from({ length: 600 }, () => ({
      labels: Array.from({ length: 1 + Math.floor(next() * 7) }, () => ['a', 'b', 'c', 'd'][Math.floor(next() * (1 + Math.floor(next() * 4)))]),
      threshold: [0.5, 0.6, 2 / 3, 0.75, 1, 1 / 3][Math.floor(next() * 6)],
      max: 1 + Math.floor(next() * 8),
    }));
    return [...fixed, ...random];
  }

  it('agree on 608 answer lists', async () => {
    const all = cases();
    const rows = await withClient(database.url, async (client) => {
      const result = await client.query<{ i: number; kind: string; label: string | null; agreement: number }>(
        `SELECT c.i, d.kind, d.label, d.agreement
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(item, i),
                LATERAL backflow_consensus(ARRAY(SELECT jsonb_array_elements_text(c.item->'labels')), (c.item->>'threshold')::float8, (c.item->>'max')::int) AS d
          ORDER BY c.i`,
        [JSON.stringify(all)],
      );
      return result.rows;
    });
    expect(rows).toHaveLength(all.length);
    const kinds = new Set<string>();
    rows.forEach((row, index) => {
      const { labels, threshold, max } = all[index];
      const expected = decideConsensus(labels, { agreementThreshold: threshold, maxAnnotations: max });
      kinds.add(expected.kind);
      expect({ labels, threshold, max, kind: row.kind, label: row.label ?? undefined, agreement: row.agreement }).toEqual({
        labels,
        threshold,
        max,
        kind: expected.kind,
        label: expected.kind === 'agreed' ? expected.label : undefined,
        agreement: expected.agreement,
      });
    });
    // the cases reach every outcome
    expect([...kinds].sort()).toEqual(['agreed', 'escalate', 'review']);
  });
});

import { Pool, types } from 'pg';
import { copyRows, parseCopyLine } from '../../server/src/common/database/copy-rows';
import { parseExactJson } from '../../server/src/common/json/exact-json';
import { createDatabase } from '../helpers/test-database';

// COPY … TO STDOUT read as rows (the export's reader) on a real PostgreSQL: every value as a query returns it.
describe('copyRows', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let pool: Pool;
  const parsers = [Number, String, Number, parseExactJson];

  beforeAll(async () => {
    database = await createDatabase({ empty: true });
    pool = new Pool({ connectionString: database.url, max: 3 });
    pool.on('error', () => undefined);
    await pool.query(`CREATE TABLE things (id int PRIMARY KEY, note text, score float8, doc jsonb)`);
    const notes = [
      'tab\there',
      'line\nbreak and\r\ncarriage',
      'back\\slash \\N \\t literally',
      '\\N',
      '',
      'bell\u0007 form\f vertical\v backspace\b',
      'é ✓ 𝄞 日本語',
      `${'long ✓ '.repeat(3_000)}end`,
      null,
    ];
    await pool.query(
      `INSERT INTO things
       SELECT i, ($1::text[])[1 + i % array_length($1::text[], 1)],
              CASE i % 4 WHEN 0 THEN 0.1 WHEN 1 THEN -1e-300 WHEN 2 THEN 'Infinity'::float8 ELSE NULL END,
              CASE WHEN i % 5 = 0 THEN NULL
                   ELSE jsonb_build_object('n', i, 'big', 9007199254740993 + i, 'text', 'a"b\\c' || chr(10) || '✓', 'list', jsonb_build_array(1.5, null, true)) END
         FROM generate_series(1, 5000) i`,
      [notes],
    );
    // a row longer than the chunks COPY's output arrives in
    await pool.query(`UPDATE things SET note = repeat('w✓', 150000) WHERE id = 17`);
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  const exact = {
    getTypeParser: ((oid: number, format?: 'text') => (oid === 3802 ? parseExactJson : types.getTypeParser(oid, format))) as typeof types.getTypeParser,
  };

  it('reads every row and value as a query returns them, across chunks and batches', async () => {
    const expected = (await pool.query({ text: `SELECT id, note, score, doc FROM things ORDER BY id`, rowMode: 'array', types: exact })).rows;
    const batches: unknown[][][] = [];
    for await (const rows of copyRows(pool, `SELECT id, note, score, doc FROM things ORDER BY id`, parsers, 777)) batches.push(rows);
    expect(batches.slice(0, -1).every((rows) => rows.length === 777)).toBe(true);
    const read = batches.flat();
    expect(read).toHaveLength(5000);
    expect(read).toEqual(expected);
    // long integers in jsonb stay exact
    expect((read[0][3] as { big: bigint }).big).toBe(9007199254740994n);
  });

  it('closes the connection when the reader stops early, and the pool goes on', async () => {
    for await (const rows of copyRows(pool, `SELECT id, note, score, doc FROM things, generate_series(1, 20) ORDER BY id`, parsers, 100)) {
      expect(rows).toHaveLength(100);
      break;
    }
    // the stopped statement is gone: no backend is left running the COPY
    for (let i = 0; i < 50; i++) {
      const running = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT id, note%' AND pid <> pg_backend_pid()`);
      if (running.rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT id, note%' AND pid <> pg_backend_pid()`);
    expect(running.rows[0].n).toBe(0);
    let rows = 0;
    for await (const batch of copyRows(pool, `SELECT id, note, score, doc FROM things`, parsers, 1000)) rows += batch.length;
    expect(rows).toBe(5000);
  });

  it('fails with the statement, and the pool goes on', async () => {
    const reading = async () => {
      for await (const rows of copyRows(pool, `SELECT id, note, score, doc FROM things WHERE 1 / (id - 4000) IS NOT NULL`, parsers, 100)) void rows;
    };
    await expect(reading()).rejects.toThrow(/division by zero/);
    expect((await pool.query(`SELECT count(*)::int AS n FROM things`)).rows[0].n).toBe(5000);
  });

  it("runs the query with the work_mem asked for, and leaves the pool's connections at their own", async () => {
    const single = new Pool({ connectionString: database.url, max: 1 });
    try {
      const before = (await single.query(`SHOW work_mem`)).rows[0].work_mem;
      expect(before).not.toBe('48MB');
      const read: unknown[][] = [];
      for await (const rows of copyRows(single, `SELECT current_setting('work_mem'), count(*) FROM things`, [String, Number], 10, { workMem: '48MB' }))
        read.push(...rows);
      expect(read).toEqual([['48MB', 5000]]);
      // the same connection, back in the pool: the setting was the transaction's only
      expect((await single.query(`SHOW work_mem`)).rows[0].work_mem).toBe(before);
      expect((await single.query(`SELECT now() = statement_timestamp() AS fresh`)).rows[0].fresh).toBe(true);
      // a refused value fails the read and keeps the pool usable
      const refused = async () => {
        for await (const rows of copyRows(single, `SELECT 1`, [Number], 10, { workMem: 'a lot' })) void rows;
      };
      await expect(refused()).rejects.toThrow(/work_mem/);
      expect((await single.query(`SHOW work_mem`)).rows[0].work_mem).toBe(before);
    } finally {
      await single.end();
    }
  });

  it('refuses a line whose field count is not the columns', () => {
    expect(() => parseCopyLine('1\ta', parsers)).toThrow('COPY row has 2 fields, expected 4');
    expect(parseCopyLine('1\t\\N\t2.5\t{"a": "x\\\\ny"}', parsers)).toEqual([1, null, 2.5, { a: 'x\ny' }]);
  });
});

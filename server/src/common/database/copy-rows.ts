import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** How one column of a COPY row becomes a value (its text as PostgreSQL prints it; NULL never reaches it). */
export type ColumnParser = (text: string) => unknown;

// the backslash sequences COPY … TO in text format writes (it never writes octal or hex ones)
const ESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
const ESCAPE = /\\(.)/gs;
const NEWLINE = 0x0a;
const unescape = (field: string): string => (field.includes('\\') ? field.replace(ESCAPE, (_, c: string) => ESCAPED[c] ?? c) : field);

/**
 * One line of COPY's text format as values: fields split on tabs, `\N` as null, backslash
 * sequences undone, each field through its column's parser.
 */
export function parseCopyLine(line: string, parsers: readonly ColumnParser[]): unknown[] {
  const fields = line.split('\t');
  if (fields.length !== parsers.length) throw new Error(`COPY row has ${fields.length} fields, expected ${parsers.length}`);
  const values = new Array<unknown>(fields.length);
  for (let i = 0; i < fields.length; i++) values[i] = fields[i] === '\\N' ? null : parsers[i](unescape(fields[i]));
  return values;
}

/**
 * The rows of `COPY (query) TO STDOUT` in batches, each column through its parser. Unlike a
 * cursor, whose execution may be suspended and so is never parallel, COPY runs the query with
 * PostgreSQL's parallel workers (a large join and sort gives its first row seconds sooner);
 * the socket's backpressure keeps the rows not yet read in PostgreSQL, not in this process.
 * Stopping early (the consumer returns or throws) closes the connection, which ends the
 * statement in PostgreSQL (a COPY out cannot be stopped on a connection kept open).
 *
 * COPY takes no bind parameters: `sql` must carry its values as literals (quote them with
 * `client.escapeLiteral`). `workMem`: the query's `work_mem` (a large sort or hash join kept in
 * memory rather than spilled to temporary files), set for its transaction only. `withLines`: each
 * row's line of text follows its values (one more element), for a reader that passes it on.
 */
export async function* copyRows(
  pool: Pool,
  sql: string,
  parsers: readonly ColumnParser[],
  batch: number,
  { workMem, withLines = false }: { workMem?: string; withLines?: boolean } = {},
): AsyncGenerator<unknown[][]> {
  const parse = withLines
    ? (line: string) => {
        const values = parseCopyLine(line, parsers);
        values.push(line);
        return values;
      }
    : (line: string) => parseCopyLine(line, parsers);
  const client = await pool.connect();
  let ended = false;
  // the start of a row the last chunk cut
  let pending: Buffer | undefined;
  let rows: unknown[][] = [];
  try {
    if (workMem) {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('work_mem', $1, true)`, [workMem]);
    }
    const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      if (pending) {
        const end = chunk.indexOf(NEWLINE);
        if (end === -1) {
          pending = Buffer.concat([pending, chunk]);
          continue;
        }
        rows.push(parse(Buffer.concat([pending, chunk.subarray(0, end)]).toString('utf8')));
        pending = undefined;
        start = end + 1;
      }
      // each line decoded on its own (a newline byte is never inside a UTF-8 sequence): a value
      // kept from a row (a string of 13 characters or more is a slice of the string it was cut
      // from) keeps its line alive, not the whole chunk
      for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        rows.push(parse(chunk.toString('utf8', start, end)));
        start = end + 1;
        if (rows.length >= batch) {
          yield rows;
          rows = [];
        }
      }
      if (start < chunk.length) pending = Buffer.from(chunk.subarray(start));
    }
    if (workMem) await client.query('COMMIT');
    ended = true;
  } finally {
    // not read to its end (stopped, or failed, its settings too): the connection is closed, never back into the pool
    client.release(ended ? undefined : new Error('rows not read to their end'));
  }
  if (pending) throw new Error('COPY output ended inside a row');
  if (rows.length > 0) yield rows;
}

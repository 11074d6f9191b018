import type { DataSource, EntityManager } from 'typeorm';

// days remembered per project before the memory starts again (a backfill over years)
const MAX_KNOWN_DAYS = 4_096;

const DAY_MS = 86_400_000;
// the last day asked for: a batch's rows mostly share their day, and formatting a date is the costly part
let lastDay = Number.NaN;
let lastDayText = '';

/** The start of an instant's hour: the unit of rollups and of windows read against them. */
export const hourFloor = (at: Date) => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);

/** The UTC day of an instant, `YYYY-MM-DD`: the partition key of a time-partitioned table. */
export function utcDay(at: Date): string {
  const day = Math.floor(at.getTime() / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayText;
}

const DIGIT_0 = 0x30;

/** The number written by `length` ASCII digits at `at`, or -1 if one of them is not a digit. */
function digitsAt(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i++) {
    const digit = text.charCodeAt(i) - DIGIT_0;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The instant an ISO 8601 timestamp names, as `new Date(text)` reads it. The form `toISOString`
 * writes (`YYYY-MM-DDTHH:mm:ss.sssZ`, what most clients send) is read by arithmetic, several
 * times faster than the date parser; anything else (an offset, other precisions, a date that
 * does not exist) goes to `new Date`.
 */
export function instantOf(text: string): Date {
  if (
    text.length === 24 &&
    text[4] === '-' &&
    text[7] === '-' &&
    text[10] === 'T' &&
    text[13] === ':' &&
    text[16] === ':' &&
    text[19] === '.' &&
    text[23] === 'Z'
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hours = digitsAt(text, 11, 2);
    const minutes = digitsAt(text, 14, 2);
    const seconds = digitsAt(text, 17, 2);
    const ms = digitsAt(text, 20, 3);
    // (Date.UTC reads the years 0 to 99 as 1900 to 1999; the parser does not)
    if (
      year >= 100 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      hours >= 0 &&
      hours <= 23 &&
      minutes >= 0 &&
      minutes <= 59 &&
      seconds >= 0 &&
      seconds <= 59 &&
      ms >= 0
    ) {
      const at = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds, ms));
      // a day past the month's end rolls over in Date.UTC, and is no date to the parser
      if (at.getUTCDate() === day) return at;
    }
  }
  return new Date(text);
}

const twoDigits = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * An instant as `toISOString` writes it (`YYYY-MM-DDTHH:mm:ss.sssZ`), with the day's text
 * cached by `utcDay`: the time of day is arithmetic, and a batch's rows mostly share a day.
 */
export function isoInstant(at: Date): string {
  const time = at.getTime();
  let rest = time - Math.floor(time / DAY_MS) * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1_000);
  const ms = rest - seconds * 1_000;
  return `${utcDay(at)}T${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/**
 * Makes sure a partition of a time-partitioned table (`backflow_time_partitions`) covers every
 * day a write needs before it is made: daily partitions for a project with retention, monthly
 * without. The days already covered are remembered per process, so a write of today's rows costs
 * nothing; the owner forgets a project's days when it removes partitions. Inside a transaction
 * (`manager`) it runs on that transaction's connection, never waiting for a second one: the
 * partition commits with the rows, and attaching it takes only a SHARE UPDATE EXCLUSIVE lock, so
 * other writers go on (a second maker of the same project's partitions waits for the first to
 * commit). A partition made in a transaction that rolls back is remembered wrongly; the write
 * that then finds none makes it again (`isMissingPartition`, then `force`).
 */
export class TimePartitions {
  private readonly known = new Map<string, Set<string>>();

  /**
   * `table`: the partitioned table; `registry`: the owner's list of its partitions;
   * `ensureFunction`: the owner's SQL function (project uuid, days date[], daily boolean).
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly names: { table: string; registry: string; ensureFunction: string },
  ) {}

  async ensure(
    project: { id: string; retention: unknown },
    rows: ReadonlyArray<{ occurredAt: Date }>,
    options: { force?: boolean; manager?: EntityManager } = {},
  ): Promise<void> {
    let known = this.known.get(project.id);
    const days = [...new Set(rows.map((row) => utcDay(row.occurredAt)))];
    const missing = options.force || !known ? days : days.filter((day) => !known!.has(day));
    if (missing.length === 0) return;
    await (options.manager ?? this.dataSource.manager).query(`SELECT ${this.names.ensureFunction}($1, $2::date[], $3)`, [
      project.id,
      missing,
      Boolean(project.retention),
    ]);
    if (!known || known.size > MAX_KNOWN_DAYS) this.known.set(project.id, (known = new Set()));
    for (const day of missing) known.add(day);
  }

  /**
   * Writes rows (`write`, in the caller's transaction) into partitions made for their days
   * first, under one savepoint: a partition removed since this process last looked is made
   * again and the write tried once more; any other failure `recover` takes (it returns the
   * fallback to run, e.g. a slower write for a unique violation) rolls back to the savepoint
   * and runs it. One savepoint for both, so a batch costs two statements more, not four.
   */
  async write<T>(
    manager: EntityManager,
    project: { id: string; retention: unknown },
    rows: ReadonlyArray<{ occurredAt: Date }>,
    write: () => Promise<T>,
    recover?: (error: unknown) => (() => Promise<T>) | undefined,
  ): Promise<T> {
    await this.ensure(project, rows, { manager });
    await manager.query('SAVEPOINT time_partitions');
    let written: T;
    try {
      written = await write();
    } catch (error) {
      const fallback = isMissingPartition(error) ? undefined : recover?.(error);
      if (!isMissingPartition(error) && !fallback) throw error;
      await manager.query('ROLLBACK TO SAVEPOINT time_partitions');
      if (fallback) written = await fallback();
      else {
        await this.ensure(project, rows, { force: true, manager });
        written = await write();
      }
    }
    await manager.query('RELEASE SAVEPOINT time_partitions');
    return written;
  }

  /**
   * Drops the project's partitions that end by `before` (YYYY-MM-DD), whole, one transaction
   * each; the project's table is locked with a one-second timeout, so writers never wait longer
   * (a partition not had in time is left for the next call). Returns how many it dropped.
   */
  async dropBefore(projectId: string, before: string): Promise<number> {
    const due: Array<{ name: string }> = await this.dataSource.query(
      `SELECT name FROM ${this.names.registry} WHERE project_id = $1 AND to_on <= $2::date ORDER BY from_on`,
      [projectId, before],
    );
    let dropped = 0;
    for (const { name } of due) {
      const done = await this.dataSource.transaction(async (manager) => {
        await manager.query(`SET LOCAL lock_timeout = '1s'`);
        try {
          await manager.query(`LOCK TABLE ${quoteIdent(this.parentOf(projectId))} IN ACCESS EXCLUSIVE MODE`);
        } catch (error) {
          if ((error as { code?: string }).code === '55P03') return false;
          throw error;
        }
        await manager.query(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
        await manager.query(`DELETE FROM ${this.names.registry} WHERE name = $1`, [name]);
        return true;
      });
      if (done) dropped++;
    }
    if (dropped) this.forget(projectId);
    return dropped;
  }

  /**
   * A deleted project's table: detached without blocking writers (CONCURRENTLY, outside a
   * transaction), then dropped with its partitions; never row by row.
   */
  async dropProject(projectId: string): Promise<void> {
    const parent = this.parentOf(projectId);
    const [{ attached }]: Array<{ attached: boolean }> = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2)) AS attached`,
      [parent, this.names.table],
    );
    if (attached) await this.dataSource.query(`ALTER TABLE ${quoteIdent(this.names.table)} DETACH PARTITION ${quoteIdent(parent)} CONCURRENTLY`);
    await this.dataSource.query(`DROP TABLE IF EXISTS ${quoteIdent(parent)}`);
    await this.dataSource.query(`DELETE FROM ${this.names.registry} WHERE project_id = $1`, [projectId]);
    this.forget(projectId);
  }

  private parentOf(projectId: string): string {
    return `${this.names.table}_${projectId.replace(/-/g, '')}`;
  }

  /** Forgets what this process knew of a project's partitions (some were removed). */
  forget(projectId: string): void {
    this.known.delete(projectId);
  }
}

/** A write that found no partition for one of its rows (one was removed since this process last looked). */
export const isMissingPartition = (error: unknown) =>
  (error as { code?: string }).code === '23514' && /no partition of relation/.test((error as Error).message ?? '');

/** The day before a `YYYY-MM-DD` day. */
const previousDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/**
 * The ids among rows sent without a timestamp (`timestamped === false`) that `table` holds on the
 * day before their arrival: such a row takes its arrival time, so a retry after midnight has
 * another day (and so another key) than its first try. One probe per id into one partition.
 */
export async function storedTheDayBefore(
  manager: EntityManager,
  table: string,
  idType: 'uuid' | 'text',
  projectId: string,
  rows: ReadonlyArray<{ id: string; occurredAt: Date; timestamped?: boolean }>,
): Promise<Set<string>> {
  const untimed = rows.filter((row) => row.timestamped === false);
  if (untimed.length === 0) return new Set();
  const found: Array<{ id: string }> = await manager.query(
    `SELECT t.id FROM ${table} t JOIN unnest($2::${idType}[], $3::date[]) AS u(id, day) ON t.id = u.id AND t.occurred_on = u.day - 1
      WHERE t.project_id = $1 AND t.occurred_on = ANY($4::date[])`,
    [projectId, untimed.map((r) => r.id), untimed.map((r) => utcDay(r.occurredAt)), [...new Set(untimed.map((r) => previousDay(utcDay(r.occurredAt))))]],
  );
  return new Set(found.map((r) => r.id));
}

/** A name quoted as an SQL identifier. */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

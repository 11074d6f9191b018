import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import { DataSource, EntityManager } from 'typeorm';
import type { RestoreReply, RetentionReply } from '@backflow/contracts';
import { DomainEvents } from '../common/events/domain-events';
import { JobsService } from '../common/jobs/jobs.service';
import { LOGGER } from '../common/logging/logger';
import { STORES, type Stores } from '../common/storage/storage.module';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { routingQuestion } from '../projects/project-questions';
import { archivedFiles, archivePredictions, readArchived, type ArchivedPrediction } from './prediction-archive';
import { PredictionsService } from './predictions.service';
import { PredictionPartitions } from './prediction-partitions';
import { PredictionRollups } from './prediction-rollups';
import { quoteIdent } from '../common/database/time-partitions';

const DAY_MS = 86_400_000;
// how long the swap of a partition may wait for the project's table (capture queues behind the
// waiting lock, so never longer), how many times it tries, and the pause between tries
const SWAP_LOCK_TIMEOUT = '200ms';
const SWAP_ATTEMPTS = 10;
const SWAP_PAUSE_MS = 300;
// advisory-lock class of a project's partition being retired: one at a time per project. Two runs
// (the hourly job and one asked for) retiring partitions at once could each hold the project's
// table (read while settling and counting) and ask for it whole to swap: a deadlock, and a 500
// from the run PostgreSQL chose (the 20-million month, 5 December, day 11)
const RETIRING_LOCK = 0x6266_0030;
// how much earlier than a partition's retirement a prediction stored in it since may have been stamped as received
const LATE_MARGIN = '1 hour';
// rows read for the archive at a time (a day may not fit in memory)
const ARCHIVE_BATCH_ROWS = 2_000;
// archived rows stored again at a time, each batch in its own transaction
const RESTORE_BATCH_ROWS = 5_000;

interface Partition {
  name: string;
  fromOn: string;
  toOn: string;
}

/**
 * The ids of the project's predictions retention may not remove (`$1` is the project): those with
 * a task, a label (so an export may hold it), an absence window still open, or feedback events
 * not yet applied to them. Read as one set and joined to a partition, so a partition costs a probe
 * per needed prediction, not four per row (3.5 s against 0.1 s for a day of 667,000).
 */
const NEEDED_IDS = `SELECT prediction_id AS id FROM tasks_read WHERE project_id = $1 AND prediction_id IS NOT NULL
  UNION SELECT prediction_id FROM labels_read WHERE project_id = $1
  UNION SELECT prediction_id FROM feedback_windows_read WHERE project_id = $1
  UNION SELECT prediction_id FROM feedback_events_read WHERE project_id = $1 AND applied_at IS NULL AND prediction_id IS NOT NULL`;
/** Of those, the ids feedback waits for: needed only until the window closes or the event is applied. */
const WAITING_IDS = `SELECT prediction_id AS id FROM feedback_windows_read WHERE project_id = $1
  UNION SELECT prediction_id FROM feedback_events_read WHERE project_id = $1 AND applied_at IS NULL AND prediction_id IS NOT NULL`;

/**
 * Retention (issue 22): the partitions of a project's predictions that lie wholly before its
 * cutoff (`retention.days` before now) are dropped, or rewritten with only the predictions
 * something still needs, never emptied row by row; with `retention.archive`, what goes is
 * written to the archive first. Per partition, one transaction holds it locked (EXCLUSIVE: reads
 * go on, a write or row lock on an old prediction waits) while its hours are settled, its needed
 * rows counted, the others archived and the needed ones copied into a rewrite; only then is the
 * project's table itself locked (ONLY: not its other partitions, which autovacuum or a reader may
 * be holding), waited for at most 200 ms a try (capture queues behind a waiting lock, so never
 * longer) and tried again from a savepoint, and the partition is dropped or swapped for its
 * rewrite. A partition whose table stayed busy through every try is left for the next run. Before
 * any of it, the hours are rolled up (`PredictionRollups.roll`), and each
 * partition's hours are settled under the partition's lock: monitoring reads the rollups of
 * settled hours instead of their raw rows. A scheduled job runs it hourly; `POST …/retention/run`
 * runs it now.
 */
@Injectable()
export class RetentionService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partitions: PredictionPartitions,
    private readonly rollups: PredictionRollups,
    private readonly predictions: PredictionsService,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
    private readonly events: DomainEvents,
    @Inject(STORES) private readonly stores: Stores,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.jobs.schedule('retention', '17 * * * *', () => this.runAll());
    this.events.on('project.deleted', ({ projectId }) => this.dropProject(projectId));
  }

  /** A deleted project's predictions: its table detached without blocking capture, then dropped whole. */
  dropProject(projectId: string): Promise<void> {
    return this.partitions.dropProject(projectId);
  }

  private async runAll(): Promise<void> {
    // partitions of projects deleted while no process was there to drop them
    const orphans: Array<{ project_id: string }> = await this.dataSource.query(
      `SELECT DISTINCT project_id FROM prediction_partitions pp WHERE NOT EXISTS (SELECT 1 FROM projects_read p WHERE p.id = pp.project_id)`,
    );
    for (const { project_id } of orphans) await this.dropProject(project_id);
    const ids: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM projects_read WHERE retention_settings IS NOT NULL`);
    for (const { id } of ids) {
      const project = await this.projects.findById(id);
      if (!project?.retention) continue;
      const reply = await this.run(project);
      if (reply.dropped || reply.archived) this.logger.info({ project: project.slug, ...reply }, 'retention removed old predictions');
    }
  }

  /**
   * Reads archived predictions back (the days from `from` to `to`): each file's predictions are
   * stored again and routed under the current policy, as routing's backfill would route them.
   */
  async restore(project: ProjectEntity, from: string, to: string): Promise<RestoreReply> {
    const reply: RestoreReply = { files: 0, read: 0, restored: 0, tasks: 0 };
    for (const key of await archivedFiles(this.stores.archive, project.slug, from, to)) {
      // a transaction per batch: a restore stopped midway is run again, and what it had stored counts as duplicates
      for await (const rows of readArchived(this.stores.archive, key, RESTORE_BATCH_ROWS)) {
        const { restored, tasks } = await this.predictions.restore(project, rows);
        reply.read += rows.length;
        reply.restored += restored;
        reply.tasks += tasks;
      }
      reply.files++;
    }
    return reply;
  }

  /** Runs retention for one project now: what it dropped, kept (old but needed), archived, and the archive files written. */
  async run(project: ProjectEntity, now = new Date()): Promise<RetentionReply> {
    const reply: RetentionReply = { dropped: 0, kept: 0, archived: 0, files: [], partitions: 0, deferred: 0 };
    const retention = project.retention;
    if (!retention) return reply;
    const cutoff = new Date(now.getTime() - retention.days * DAY_MS).toISOString().slice(0, 10);
    // every hour is rolled up before any raw row of it can go; a partition whose hours are not all rolled waits
    await this.rollups.roll(project.id, now);
    const past: Array<Partition & { retiredAt: string | null }> = await this.dataSource.query(
      `SELECT name, to_char(from_on, 'YYYY-MM-DD') AS "fromOn", to_char(to_on, 'YYYY-MM-DD') AS "toOn", retired_at::text AS "retiredAt"
         FROM prediction_partitions
        WHERE project_id = $1 AND to_on <= $2::date
          AND to_on::timestamp AT TIME ZONE 'UTC' <= (SELECT rolled_through FROM prediction_rollup_state WHERE project_id = $1)
        ORDER BY from_on`,
      [project.id, cutoff],
    );
    const due: Partition[] = [];
    // a partition left holding only what tasks and labels keep is passed by, until a prediction is stored in it again
    for (const partition of past) if (partition.retiredAt === null || (await this.storedSince(project.id, partition))) due.push(partition);
    let firstDeferred: string | undefined;
    for (const partition of due) {
      const done = await this.retire(project, partition, retention.archive);
      if (!done) {
        reply.deferred++;
        firstDeferred ??= partition.fromOn;
        continue;
      }
      reply.partitions++;
      reply.dropped += done.dropped;
      reply.kept += done.kept;
      reply.archived += done.archived;
      reply.files.push(...done.files.map((key) => this.stores.archive.location(key)));
    }
    if (reply.partitions) this.partitions.forget(project.id);
    // what other modules keep only for the removed predictions can go (the days before the first partition still due; every
    // day past the cutoff when none is, retired ones passed by included)
    if (past.length) this.events.emit('predictions.retired', { projectId: project.id, before: reply.deferred ? firstDeferred! : cutoff });
    return reply;
  }

  /**
   * Whether a prediction was stored in a retired partition since (sent late, or restored): a probe
   * of its `received_at` index. `received_at` is the start of the storing transaction, which may
   * have begun before the retirement and waited for the partition's lock: hence the margin. False
   * when another run renamed or dropped the partition meanwhile (it saw to it).
   */
  private async storedSince(projectId: string, partition: Partition & { retiredAt: string | null }): Promise<boolean> {
    try {
      const [row]: Array<{ stored: boolean }> = await this.dataSource.query(
        `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(partition.name)} WHERE project_id = $1 AND received_at > $2::timestamptz - interval '${LATE_MARGIN}') AS stored`,
        [projectId, partition.retiredAt],
      );
      return row.stored;
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') return false;
      throw error;
    }
  }

  /**
   * One partition, in one transaction that holds it locked throughout (EXCLUSIVE: reads go on, a
   * write to an old prediction waits): settled, counted, archived, its needed rows copied to a
   * rewrite; then the swap, the only step under the project table's lock, tried again (from a
   * savepoint) while capture or a reader holds that table. Undefined when it could not be had.
   */
  private async retire(
    project: ProjectEntity,
    partition: Partition,
    archive: boolean,
  ): Promise<{ dropped: number; kept: number; archived: number; files: string[] } | undefined> {
    const parent = quoteIdent(`predictions_${project.id.replace(/-/g, '')}`);
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RETIRING_LOCK, project.id]);
        // the hourly job and a run asked for by the API may reach the same day: the first retires it (renaming or removing
        // its partition) and the second, waiting its turn, finds it done (its rewrite holds only what is needed)
        const [current]: Array<{ name: string }> = await manager.query(
          `SELECT name FROM prediction_partitions WHERE project_id = $1 AND from_on = $2::date FOR UPDATE`,
          [project.id, partition.fromOn],
        );
        if (!current) return { dropped: 0, kept: 0, archived: 0, files: [] };
        const day = { ...partition, name: current.name };
        const leaf = quoteIdent(day.name);
        await manager.query(`LOCK TABLE ${leaf} IN EXCLUSIVE MODE`);
        // a ranking's clicks are kept by position with the hour's other outcomes
        const ranking = routingQuestion(project).kind === 'ranking' ? project.routingQuestion : null;
        await this.rollups.settle(manager, project.id, new Date(`${day.fromOn}T00:00:00Z`), new Date(`${day.toOn}T00:00:00Z`), ranking);
        const counts = await countNeeded(manager, project.id, leaf);
        if (counts.total === counts.needed) {
          await retired(manager, day.name, counts);
          return { dropped: 0, kept: counts.needed, archived: 0, files: [] };
        }
        let files: string[] = [];
        if (archive) {
          const client = (await manager.queryRunner!.connect()) as PoolClient;
          files = await archivePredictions(this.stores.archive, project.slug, day.name, unneededRows(client, project.id, leaf));
        }
        // the rewrite is filled before the project's table is locked: under that lock only the swap itself runs
        const rewrite = `${day.name.slice(0, 55)}_k${Date.now().toString(36).slice(-5)}`;
        if (counts.needed > 0) {
          await manager.query(`CREATE TABLE ${quoteIdent(rewrite)} (LIKE predictions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
          await manager.query(`INSERT INTO ${quoteIdent(rewrite)} SELECT p.* FROM ${leaf} p WHERE p.project_id = $1 AND p.id IN (${NEEDED_IDS})`, [project.id]);
        }
        for (let attempt = 1; ; attempt++) {
          if (await this.swap(manager, parent, leaf, day, counts.needed > 0 ? rewrite : undefined)) break;
          if (attempt === SWAP_ATTEMPTS) throw new PartitionBusy();
          await new Promise((resolve) => setTimeout(resolve, SWAP_PAUSE_MS));
        }
        if (counts.needed > 0) await retired(manager, rewrite, counts);
        return { dropped: counts.total - counts.needed, kept: counts.needed, archived: archive ? counts.total - counts.needed : 0, files };
      });
    } catch (error) {
      if (error instanceof PartitionBusy) return undefined;
      throw error;
    }
  }

  /**
   * Drops the partition, or swaps it for its rewrite, under the project table's own lock (ONLY:
   * not its other partitions, which autovacuum or a reader may hold). False, with nothing done,
   * when that lock (or the partition's, which a reader may hold) was not had within `SWAP_LOCK_TIMEOUT`.
   */
  private async swap(manager: EntityManager, parent: string, leaf: string, partition: Partition, rewrite: string | undefined): Promise<boolean> {
    await manager.query('SAVEPOINT retention_swap');
    try {
      await manager.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT}'`);
      await manager.query(`LOCK TABLE ONLY ${parent} IN ACCESS EXCLUSIVE MODE`);
      await manager.query(`ALTER TABLE ${parent} DETACH PARTITION ${leaf}`);
      await manager.query(`DROP TABLE ${leaf}`);
      if (rewrite) {
        await manager.query(
          `ALTER TABLE ${parent} ATTACH PARTITION ${quoteIdent(rewrite)} FOR VALUES FROM (${quoteLiteral(partition.fromOn)}) TO (${quoteLiteral(partition.toOn)})`,
        );
        await manager.query(`UPDATE prediction_partitions SET name = $2 WHERE name = $1`, [partition.name, rewrite]);
      } else {
        await manager.query(`DELETE FROM prediction_partitions WHERE name = $1`, [partition.name]);
      }
      // the lock timeout ends with the savepoint's work; the rest of the transaction waits as it did
      await manager.query(`SET LOCAL lock_timeout = DEFAULT`);
      await manager.query('RELEASE SAVEPOINT retention_swap');
      return true;
    } catch (error) {
      // not had in time, or (a writer that read the table before asking for it whole, as the swap does) a deadlock: PostgreSQL
      // refused this request, the other goes on, and the swap is tried again
      const code = (error as { code?: string }).code;
      if (code !== '55P03' && code !== '40P01') throw error;
      await manager.query('ROLLBACK TO SAVEPOINT retention_swap');
      return false;
    }
  }
}

/** The project's table stayed busy through every try: the partition's transaction is rolled back and it waits for the next run. */
class PartitionBusy extends Error {}

/**
 * A partition's predictions, those something needs, and of these the ones only feedback still
 * waits for (an open absence window, an event not yet applied: no task or label keeps them).
 */
async function countNeeded(manager: EntityManager, projectId: string, leaf: string): Promise<{ total: number; needed: number; waiting: number }> {
  const [row]: Array<{ total: number; needed: number; waiting: number }> = await manager.query(
    `WITH needed AS MATERIALIZED (${NEEDED_IDS}),
          waiting AS MATERIALIZED (${WAITING_IDS})
     SELECT (SELECT count(*) FROM ${leaf})::int AS total,
            (SELECT count(*) FROM ${leaf} p JOIN needed n ON p.project_id = $1 AND p.id = n.id)::int AS needed,
            (SELECT count(*) FROM ${leaf} p JOIN waiting w ON p.project_id = $1 AND p.id = w.id
              WHERE NOT EXISTS (SELECT 1 FROM tasks_read t WHERE t.project_id = $1 AND t.prediction_id = p.id)
                AND NOT EXISTS (SELECT 1 FROM labels_read l WHERE l.project_id = $1 AND l.prediction_id = p.id))::int AS waiting`,
    [projectId],
  );
  return row;
}

/**
 * Marks a partition left holding only what something needs: when tasks and labels keep all of it
 * (nothing removes those), later runs pass it by until a prediction is stored in it again; when
 * feedback still waits for some of it, the next run looks again.
 */
async function retired(manager: EntityManager, partition: string, counts: { waiting: number }): Promise<void> {
  await manager.query(`UPDATE prediction_partitions SET retired_at = CASE WHEN $2 THEN now() END WHERE name = $1`, [partition, counts.waiting === 0]);
}

/**
 * The predictions of a partition nothing needs, as the archive writes them, a batch at a time in
 * day and time order (a cursor on the retention's transaction: its lock keeps them as counted).
 */
async function* unneededRows(client: PoolClient, projectId: string, leaf: string): AsyncGenerator<ArchivedPrediction[]> {
  const cursor = client.query(
    // the times as text (microseconds past 2^53 would round as numbers), made bigints here
    new Cursor<Omit<ArchivedPrediction, 'occurred_at' | 'received_at'> & { occurred_at: string | bigint; received_at: string | bigint }>(
      `WITH needed AS MATERIALIZED (${NEEDED_IDS})
       SELECT p.id::text, p.model_name, p.model_version, p.input::text AS input, p.scores::text AS scores, p.predicted_label, p.confidence,
              p.slice::text AS slice, p.metadata::text AS metadata,
              (extract(epoch FROM p.occurred_at) * 1000000)::bigint::text AS occurred_at,
              (extract(epoch FROM p.received_at) * 1000000)::bigint::text AS received_at,
              p.uncertainty, p.suggestions::text AS suggestions, p.committee::text AS committee, array_to_json(p.embedding)::text AS embedding, p.external_id,
              to_char(p.occurred_on, 'YYYY-MM-DD') AS occurred_on
         FROM ${leaf} p WHERE NOT EXISTS (SELECT 1 FROM needed n WHERE n.id = p.id) ORDER BY p.occurred_on, p.occurred_at, p.id`,
      [projectId],
    ),
  );
  try {
    for (let rows = await cursor.read(ARCHIVE_BATCH_ROWS); rows.length > 0; rows = await cursor.read(ARCHIVE_BATCH_ROWS)) {
      for (const row of rows) {
        row.occurred_at = BigInt(row.occurred_at);
        row.received_at = BigInt(row.received_at);
      }
      yield rows as ArchivedPrediction[];
    }
  } finally {
    await cursor.close();
  }
}

const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { TASK_REASONS, type PredictionIngestReply, type RejectedItem, type RoutedCounts, type SinglePredictionReply } from '@backflow/contracts';
import { routingOutput } from '@backflow/questions';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TransactionEvents } from '../common/events/transaction-events';
import { poolOf } from '../database/data-source';
import { type AfterCommit, inTransaction } from '../common/database/transaction';
import { ItemVerdict, partition, readNdjson, StreamTooLargeError } from '../common/ingest/batch';
import type { ProjectEntity } from '../projects/project.entity';
import { areValuesClean } from '../common/validation/json-hazards';
import { routingQuestion } from '../projects/project-questions';
import { ProjectLabels, validatePrediction } from './prediction-validation';
import { PredictionErrors } from './predictions.errors';
import './predictions.events';
import { isUniqueViolation, PredictionFacts, PredictionsRepository, ScoredPrediction } from './predictions.repository';
import { RoutingService } from '../routing/routing.service';
import { PredictionPartitions } from './prediction-partitions';
import { isMissingPartition } from '../common/database/time-partitions';

/**
 * How a batch is written: `first` in a transaction that has written nothing yet (a failure
 * throws `WriteAgain`), `careful` row-wise with ON CONFLICT (after such a failure), `within`
 * a caller's transaction (COPY under a savepoint, falling back to ON CONFLICT).
 */
type WriteMode = 'first' | 'careful' | 'within';

/** A first-write COPY that met a stored id or a missing partition: its transaction is rolled back and the batch written again carefully. */
class WriteAgain extends Error {
  constructor(cause: unknown) {
    super('the batch is written again', { cause });
  }
}

interface Stored {
  accepted: number;
  afterCommit: AfterCommit[];
  /** what routing made of them */
  routed: RoutedCounts;
}

const nothingRouted = (): RoutedCounts => ({
  tasks: 0,
  byReason: Object.fromEntries(TASK_REASONS.map((reason) => [reason, 0])) as RoutedCounts['byReason'],
  droppedByBudget: 0,
  deduplicated: 0,
});
const nothingStored = (): Stored => ({ accepted: 0, afterCommit: [], routed: nothingRouted() });

// rows written per INSERT while a stream is read
const STREAM_CHUNK = 1_000;
// rejections listed in one reply; the count is always complete
const MAX_LISTED_REJECTIONS = 1_000;

@Injectable()
export class PredictionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: PredictionsRepository,
    private readonly routing: RoutingService,
    private readonly events: TransactionEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly partitions: PredictionPartitions,
  ) {}

  private get pool(): Pool {
    return poolOf(this.dataSource);
  }

  /** Validates one item and scores it by the project's routing strategy; `valuesChecked`: the body's raw text held no escape that makes unstorable text and no number that underflows. */
  private validator(project: ProjectEntity, valuesChecked = false) {
    const labels: ProjectLabels = {
      projectId: project.id,
      labels: project.labels.map((l) => l.name),
      questions: project.questions,
      routing: routingQuestion(project),
      features: project.exportSettings?.features,
    };
    const now = new Date();
    return (raw: unknown, lineValuesChecked = valuesChecked): ItemVerdict<ScoredPrediction> => {
      const verdict = validatePrediction(raw, labels, randomUUID, now, { valuesChecked: lineValuesChecked });
      if (verdict.ok) (verdict.row as ScoredPrediction).uncertainty = this.routing.uncertaintyOf(project, verdict.row.routingOutput, verdict.row.committee);
      return verdict as ItemVerdict<ScoredPrediction>;
    };
  }

  /**
   * Stores rows, routes the new ones and announces them (`predictions.stored`, with those whose
   * feedback arrived first) to whoever works in the same transaction, all in the caller's
   * transaction: an acknowledged prediction has been routed exactly once.
   */
  private async store(
    manager: EntityManager,
    project: ProjectEntity,
    rows: ScoredPrediction[],
    into: Stored = nothingStored(),
    options: { observe: boolean; write?: WriteMode } = { observe: true },
  ): Promise<Stored> {
    const inserted = await this.insertBatch(manager, project, rows, options.write ?? 'within');
    into.accepted += inserted.size;
    if (inserted.size === 0) return into;
    const stored = inserted.size === rows.length ? rows : rows.filter((row) => inserted.has(row.id));
    const routed = await this.routing.route(manager, project, stored, { observe: options.observe, batchUsed: into.routed.tasks });
    into.routed.tasks += routed.created.length;
    for (const reason of TASK_REASONS) into.routed.byReason[reason] += routed.byReason[reason];
    into.routed.droppedByBudget += routed.droppedByBudget;
    into.routed.deduplicated += routed.deduplicated;
    if (routed.created.length) into.afterCommit.push(routed.announce);
    const feedbackWaiting = await this.repository.withWaitingFeedback(manager, project.id, [...inserted]);
    into.afterCommit.push(...(await this.events.emit('predictions.stored', { manager, project, predictions: stored, feedbackWaiting })));
    return into;
  }

  /**
   * The rows into partitions made for their days first; ids already stored are skipped. Returns
   * the ids inserted now. `first`: the transaction has written nothing yet, so a failed COPY
   * needs no savepoint (two round trips fewer): it throws `WriteAgain` and the caller starts over.
   */
  private async insertBatch(manager: EntityManager, project: ProjectEntity, rows: ScoredPrediction[], mode: WriteMode): Promise<Set<string>> {
    const fresh = await this.repository.fresh(manager, project.id, rows);
    if (fresh.length === 0) return new Set();
    if (mode === 'first') {
      await this.partitions.ensure(project, fresh, { manager });
      try {
        return await this.repository.insertBatch(manager, project.id, fresh);
      } catch (error) {
        if (isUniqueViolation(error) || isMissingPartition(error)) throw new WriteAgain(error);
        throw error;
      }
    }
    const insert = mode === 'careful' ? this.repository.insertOnConflict.bind(this.repository) : this.repository.insertBatch.bind(this.repository);
    return this.partitions.write(
      manager,
      project,
      fresh,
      () => insert(manager, project.id, fresh),
      (error) => (isUniqueViolation(error) ? () => this.repository.insertOnConflict(manager, project.id, fresh) : undefined),
    );
  }

  /**
   * Rows in a transaction of their own. Most batches are new ids into partitions this process
   * knows: one COPY, no savepoint. A batch that meets an id stored already (a retry, a concurrent
   * writer) or a partition removed meanwhile is rolled back whole and written again row-wise
   * (ON CONFLICT), with its partitions made again if they were gone.
   */
  private async storeInTransaction(project: ProjectEntity, rows: ScoredPrediction[]): Promise<Stored> {
    const attempt = (write: WriteMode) =>
      inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
        const stored = await this.store(manager, project, rows, undefined, { observe: true, write });
        afterCommit(...stored.afterCommit);
        return stored;
      });
    try {
      return await attempt('first');
    } catch (error) {
      if (!(error instanceof WriteAgain)) throw error;
      // a partition made in the rolled-back transaction is gone with it: the retry makes its days' again
      this.partitions.forget(project.id);
      return attempt('careful');
    }
  }

  async ingestOne(project: ProjectEntity, raw: unknown): Promise<SinglePredictionReply> {
    const verdict = this.validator(project, areValuesClean(raw))(raw);
    if (!verdict.ok) throw PredictionErrors.invalid(verdict.rejection);
    const row = verdict.row;
    if ((await this.routing.mayRoute(project, row)) || this.events.wantsTransaction('predictions.stored', project)) {
      // a task to create, or a listener with work for every new prediction: all of it in one transaction
      const stored = await this.storeInTransaction(project, [row]);
      return { id: row.externalId ?? row.id, accepted: stored.accepted, duplicates: 1 - stored.accepted, routed: stored.routed };
    }
    // one statement, so one round trip: the prediction, and whether feedback waits for it
    await this.partitions.ensure(project, [row]);
    const { inserted, feedbackWaiting } = await this.repository.insertOne(this.pool, project.id, row).catch(async (error: unknown) => {
      if (!isMissingPartition(error)) throw error;
      await this.partitions.ensure(project, [row], { force: true });
      return this.repository.insertOne(this.pool, project.id, row);
    });
    if (inserted) await this.routing.observe(project, row);
    if (feedbackWaiting) {
      await inTransaction(this.dataSource, async ({ manager, afterCommit }) =>
        afterCommit(...(await this.events.emit('predictions.stored', { manager, project, predictions: [row], feedbackWaiting: [row.id] }))),
      );
    }
    // routing could make no task of it (`mayRoute`): it was only observed
    return { id: row.externalId ?? row.id, accepted: inserted ? 1 : 0, duplicates: inserted ? 0 : 1, routed: nothingRouted() };
  }

  /** A JSON batch: all-or-nothing, or with `partial` the valid items and a list of the rejected ones. */
  async ingestBatch(project: ProjectEntity, items: unknown, partial: boolean): Promise<PredictionIngestReply> {
    if (!Array.isArray(items)) throw PredictionErrors.notAnArray();
    if (items.length > this.config.ingest.maxBatch) throw PredictionErrors.batchTooLarge(this.config.ingest.maxBatch);
    const validate = this.validator(project, areValuesClean(items));
    const { valid, rejected } = partition(items, (raw) => validate(raw));
    if (rejected.length && !partial) throw PredictionErrors.batchRejected(rejected.slice(0, MAX_LISTED_REJECTIONS), items.length);
    const stored = valid.length ? await this.storeInTransaction(project, valid) : nothingStored();
    return {
      accepted: stored.accepted,
      duplicates: valid.length - stored.accepted,
      routed: stored.routed,
      ...(partial ? { rejected: rejected.slice(0, MAX_LISTED_REJECTIONS) } : {}),
    };
  }

  /**
   * Predictions from an integration (KServe pairs, a Label Studio import) stored in the caller's
   * transaction, which writes more beside them: the same validation (all-or-nothing),
   * idempotency and routing as a JSON batch. Run the returned announcements after commit.
   */
  async ingestWithin(
    manager: EntityManager,
    project: ProjectEntity,
    items: unknown[],
  ): Promise<{ reply: PredictionIngestReply; ids: string[]; afterCommit: AfterCommit[] }> {
    if (items.length > this.config.ingest.maxBatch) throw PredictionErrors.batchTooLarge(this.config.ingest.maxBatch);
    const validate = this.validator(project);
    const { valid, rejected } = partition(items, (raw) => validate(raw));
    if (rejected.length) throw PredictionErrors.batchRejected(rejected.slice(0, MAX_LISTED_REJECTIONS), items.length);
    const stored = valid.length ? await this.store(manager, project, valid) : nothingStored();
    return {
      reply: { accepted: stored.accepted, duplicates: valid.length - stored.accepted, routed: stored.routed },
      ids: valid.map((row) => row.id),
      afterCommit: stored.afterCommit,
    };
  }

  /** An NDJSON stream, written in chunks inside one transaction: acknowledged only when all of it is committed. */
  async ingestStream(project: ProjectEntity, stream: Readable, partial: boolean): Promise<PredictionIngestReply> {
    const validate = this.validator(project);
    const stored = nothingStored();
    let valid = 0;
    let total = 0;
    const rejected: RejectedItem[] = [];
    let chunk: ScoredPrediction[] = [];
    try {
      await inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
        for await (const line of readNdjson(stream, this.config.ingest.maxStreamBytes)) {
          total++;
          const verdict = 'rejection' in line ? line : validate(line.value, line.valuesChecked);
          if ('rejection' in verdict) {
            rejected.push({ index: line.index, ...verdict.rejection });
            if (!partial) break;
            continue;
          }
          if (!verdict.ok) continue;
          chunk.push(verdict.row);
          valid++;
          if (chunk.length >= STREAM_CHUNK) {
            await this.store(manager, project, chunk, stored);
            chunk = [];
          }
        }
        if (rejected.length && !partial) {
          stream.resume(); // drain what the client still sends
          throw PredictionErrors.batchRejected(rejected, total);
        }
        await this.store(manager, project, chunk, stored);
        afterCommit(...stored.afterCommit);
      });
    } catch (error) {
      if (error instanceof StreamTooLargeError) throw PredictionErrors.streamTooLarge(this.config.ingest.maxStreamBytes);
      throw error;
    }
    return {
      accepted: stored.accepted,
      duplicates: valid - stored.accepted,
      routed: stored.routed,
      ...(partial ? { rejected: rejected.slice(0, MAX_LISTED_REJECTIONS) } : {}),
    };
  }

  /**
   * Predictions read back from the archive (rows retention removed), stored again and routed
   * under the current policy as a backfill would route them: ids and days stored already are
   * duplicates, and their scores do not feed the target-rate estimate. One transaction per file.
   */
  async restore(project: ProjectEntity, rows: ReadonlyArray<Omit<ScoredPrediction, 'routingOutput'>>): Promise<{ restored: number; tasks: number }> {
    const question = routingQuestion(project);
    const scored: ScoredPrediction[] = rows.map((row) => ({ ...row, routingOutput: routingOutput(question, row.scores, row.suggestions) }));
    return inTransaction(this.dataSource, async ({ manager, afterCommit }) => {
      const stored = nothingStored();
      for (let i = 0; i < scored.length; i += STREAM_CHUNK) await this.store(manager, project, scored.slice(i, i + STREAM_CHUNK), stored, { observe: false });
      afterCommit(...stored.afterCommit);
      return { restored: stored.accepted, tasks: stored.routed.tasks };
    });
  }

  lockFacts(manager: EntityManager, projectId: string, ids: string[]): Promise<PredictionFacts[]> {
    return this.repository.lockFacts(manager, projectId, ids);
  }
}

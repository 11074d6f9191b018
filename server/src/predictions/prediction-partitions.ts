import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ProjectEntity } from '../projects/project.entity';
import { dayOf } from './prediction-validation';

// days remembered per project before the memory starts again (a backfill over years)
const MAX_KNOWN_DAYS = 4_096;

/**
 * Makes sure a partition of `predictions` covers every day a batch needs before it is written
 * (`backflow_prediction_partitions`: daily partitions for a project with retention, monthly
 * without). The days already covered are remembered per process, so a batch of today's
 * predictions costs nothing; retention forgets a project's days when it removes partitions.
 * Inside a capture's transaction (`manager`) it runs on that transaction's connection, never
 * waiting for a second one: the partition commits with the predictions, and attaching it takes
 * only a SHARE UPDATE EXCLUSIVE lock, so other captures go on (a second maker of the same
 * project's partitions waits for the first to commit). A partition made in a transaction that
 * rolls back is remembered wrongly; the write that then finds none makes it again.
 */
@Injectable()
export class PredictionPartitions {
  private readonly known = new Map<string, Set<string>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async ensure(project: ProjectEntity, rows: ReadonlyArray<{ occurredAt: Date }>, options: { force?: boolean; manager?: EntityManager } = {}): Promise<void> {
    let known = this.known.get(project.id);
    const days = [...new Set(rows.map((row) => dayOf(row.occurredAt)))];
    const missing = options.force || !known ? days : days.filter((day) => !known!.has(day));
    if (missing.length === 0) return;
    await (options.manager ?? this.dataSource.manager).query('SELECT backflow_prediction_partitions($1, $2::date[], $3)', [
      project.id,
      missing,
      Boolean(project.retention),
    ]);
    if (!known || known.size > MAX_KNOWN_DAYS) this.known.set(project.id, (known = new Set()));
    for (const day of missing) known.add(day);
  }

  /** Forgets what this process knew of a project's partitions (retention removed some). */
  forget(projectId: string): void {
    this.known.delete(projectId);
  }
}

/** A write that found no partition for one of its rows (one was removed since this process last looked). */
export const isMissingPartition = (error: unknown) =>
  (error as { code?: string }).code === '23514' && /no partition of relation/.test((error as Error).message ?? '');

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TimePartitions } from '../common/database/time-partitions';

/**
 * The partitions of `feedback_events` (`backflow_feedback_partitions`), made before events are
 * written. When retention has removed a project's old predictions (`predictions.retired`, after
 * rolling up their hours with their feedback), the events of those days go whole with their
 * partitions; events still waiting for a prediction that never came go with them.
 */
@Injectable()
export class FeedbackPartitions extends TimePartitions {
  constructor(@InjectDataSource() private readonly db: DataSource) {
    super(db, { table: 'feedback_events', registry: 'feedback_partitions', ensureFunction: 'backflow_feedback_partitions' });
  }

  /** Drops the events of projects deleted while no process was there to drop them. */
  async dropOrphans(): Promise<void> {
    const orphans: Array<{ project_id: string }> = await this.db.query(
      `SELECT DISTINCT project_id FROM feedback_partitions f WHERE NOT EXISTS (SELECT 1 FROM projects_read p WHERE p.id = f.project_id)`,
    );
    for (const { project_id } of orphans) await this.dropProject(project_id);
  }
}

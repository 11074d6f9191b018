import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { OperationsReply, QueueStats, RaterQueue } from '@backflow/contracts';
import type { ProjectEntity } from '../projects/project.entity';
import { OperationsRepository } from './operations.repository';

/** What is going on in a project's labeling: the queue's figures (raters see them live) and the admins' operations chart. */
@Injectable()
export class OperationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: OperationsRepository,
  ) {}

  async queueStats(project: ProjectEntity): Promise<QueueStats> {
    return { project: project.slug, ...(await this.repository.queueStats(this.dataSource.manager, project.id)) };
  }

  /** Why a rater who is caught up still sees open tasks in the queue. */
  async raterQueue(project: ProjectEntity, raterId: string): Promise<RaterQueue> {
    return { project: project.slug, ...(await this.repository.raterQueue(this.dataSource.manager, project.id, raterId)) };
  }

  /** The project's last hour (or `minutes`) of work, a point a minute, for the operations chart. */
  async operations(project: ProjectEntity, minutes: number): Promise<OperationsReply> {
    const { points, activeRaters } = await this.repository.operations(this.dataSource.manager, project.id, minutes);
    return { project: project.slug, activeRaters, points: points.map((p) => ({ ...p, at: p.at.toISOString() })) };
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { RaterQualityList } from '@backflow/contracts';
import type { Actor } from '../auth/users.service';
import { AuditService } from '../common/audit/audit.service';
import { DomainEvents } from '../common/events/domain-events';
import type { ProjectEntity } from '../projects/project.entity';
import { LabelingErrors } from './labeling.errors';
import type { Transaction } from '../common/database/transaction';
import { RaterQualityRepository } from './rater-quality.repository';

/** A rater's gold record after an answer: how many gold tasks they answered, how many right, and whether they are paused already. */
export interface GoldRecord {
  goldAnswers: number;
  goldCorrect: number;
  paused: boolean;
}

/** Raters' standing in a project: paused when their gold answers fall below the bar, resumed by an admin, and their reliability. */
@Injectable()
export class RaterQualityService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: RaterQualityRepository,
    private readonly events: DomainEvents,
    private readonly audit: AuditService,
  ) {}

  /** In the gold answer's transaction: too many wrong gold answers pause the rater in the project (and end their leases there). */
  async pauseIfBelowBar(
    manager: EntityManager,
    project: ProjectEntity,
    raterId: string,
    record: GoldRecord,
    afterCommit: Transaction['afterCommit'],
  ): Promise<void> {
    const settings = project.labelingSettings;
    const belowBar = !record.paused && record.goldAnswers >= settings.goldMinAnswers && record.goldCorrect / record.goldAnswers < settings.goldMinAccuracy;
    if (!belowBar) return;
    await this.repository.pause(manager, project.id, raterId);
    const accuracy = record.goldCorrect / record.goldAnswers;
    await this.audit.record(
      {
        actorUserId: null,
        action: 'rater.paused',
        targetType: 'user',
        targetId: raterId,
        projectId: project.id,
        details: { goldAnswers: record.goldAnswers, accuracy },
      },
      manager,
    );
    afterCommit(() => this.events.emit('rater.paused', { projectId: project.id, raterId, goldAnswers: record.goldAnswers, accuracy }));
  }

  async raterQuality(project: ProjectEntity): Promise<RaterQualityList> {
    const rows = await this.repository.raterQuality(this.dataSource.manager, project.id);
    return {
      raters: rows.map((r) => ({
        raterId: r.raterId,
        email: r.email,
        annotations: r.annotations,
        goldAnswers: r.goldAnswers,
        goldAccuracy: r.goldAnswers ? r.goldCorrect / r.goldAnswers : null,
        medianTimeMs: r.medianTimeMs,
        agreement: r.agreement,
        pausedAt: r.pausedAt?.toISOString() ?? null,
      })),
    };
  }

  /** An admin lets a paused rater back in; their gold record starts afresh. */
  async resumeRater(project: ProjectEntity, raterId: string, actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.repository.resume(manager, project.id, raterId))) throw LabelingErrors.raterNotPaused();
      await this.audit.record(
        { actorUserId: actor.userId, action: 'rater.resumed', targetType: 'user', targetId: raterId, projectId: project.id, requestId: actor.requestId },
        manager,
      );
    });
  }
}

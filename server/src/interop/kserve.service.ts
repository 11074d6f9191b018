import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InferenceLoggerEvent, KserveEventReply, KserveStatusReply } from '@backflow/contracts';
import { DomainError } from '../common/errors';
import { inTransaction } from '../common/database/transaction';
import { JobsService } from '../common/jobs/jobs.service';
import { fieldOf } from '../common/validation/zod-validation.pipe';
import { PredictionsService } from '../predictions/predictions.service';
import type { ProjectEntity } from '../projects/project.entity';
import { routingQuestion } from '../projects/project-questions';
import { integrationSettingsOf } from '../projects/projects.service';
import { InteropErrors } from './interop.errors';
import { checkReadable, instancesOf, LoggedHalf, pairIdOf, predictionIdOf, predictionsOfPair, responseOutputsOf } from './kserve-payload';
import { Half, KserveRepository } from './kserve.repository';

/** The ce-* headers of a binary-mode CloudEvent, or the attributes of a structured one, checked. */
export function loggerEventOf(attributes: Record<string, unknown>): InferenceLoggerEvent {
  for (const required of ['id', 'type'] as const) if (attributes[required] === undefined) throw InteropErrors.missingAttribute(required);
  const parsed = InferenceLoggerEvent.safeParse(attributes);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw InteropErrors.invalidAttribute(fieldOf(issue), issue.message);
  }
  return parsed.data;
}

/**
 * KServe's inference logger (and Seldon's, which speaks the same CloudEvents, paired by its
 * ce-requestid): each request and each response comes as its own event, in any order, maybe
 * more than once. The first half of an id is kept; the second makes the predictions, through
 * the ingestion path, in the transaction that marks the pair done.
 */
@Injectable()
export class KserveService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly predictions: PredictionsService,
    private readonly jobs: JobsService,
    private readonly repository: KserveRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.schedule('kserve-expire', '* * * * *', () => this.expire());
  }

  async receive(project: ProjectEntity, event: InferenceLoggerEvent, body: unknown): Promise<KserveEventReply> {
    const settings = integrationSettingsOf(project).kserve;
    const labels = project.labels.map((l) => l.name);
    const routing = routingQuestion(project);
    const half: Half = event.type.endsWith('inference.request') ? 'request' : 'response';
    // a half that can never pair is refused now, and not kept
    checkReadable(routing);
    if (half === 'request') instancesOf(body, settings);
    else responseOutputsOf(body, settings, labels, routing);
    const logged: LoggedHalf = { attributes: event, body };
    const eventId = pairIdOf(event);
    const expiresAt = new Date(Date.now() + settings.pairWindowMinutes * 60_000);
    try {
      return await inTransaction(this.dataSource, async ({ manager, afterCommit }): Promise<KserveEventReply> => {
        const stored = await this.repository.lock(manager, project.id, eventId, expiresAt);
        if (stored.pairedAt) return { eventId, state: 'duplicate', accepted: 0, duplicates: stored.predictions ?? 0 };
        if (stored[half]) return { eventId, state: 'duplicate', accepted: 0, duplicates: 0 };
        const other = half === 'request' ? stored.response : stored.request;
        if (!other && (await this.pairedBefore(manager, project, eventId))) {
          await this.repository.forget(manager, project.id, eventId);
          return { eventId, state: 'duplicate', accepted: 0, duplicates: 0 };
        }
        if (!other) {
          await this.repository.keepHalf(manager, project.id, eventId, half, logged);
          return { eventId, state: 'pending', accepted: 0, duplicates: 0 };
        }
        const [request, response] = half === 'request' ? [logged, other] : [other, logged];
        const predictions = predictionsOfPair(request, response, settings, labels, routing);
        const ingested = await this.predictions.ingestWithin(manager, project, predictions);
        afterCommit(...ingested.afterCommit);
        await this.repository.markPaired(manager, project.id, eventId, predictions.length);
        return { eventId, state: 'paired', accepted: ingested.reply.accepted, duplicates: ingested.reply.duplicates };
      });
    } catch (error) {
      if (error instanceof DomainError && error.status < 500) await this.repository.count(this.dataSource.manager, project.id, 'kserve.rejected_pairs');
      throw error;
    }
  }

  /** The scheduled pass: halves whose window closed are dropped and counted; old paired ids are forgotten. */
  async expire(now = new Date()): Promise<{ expired: number; pruned: number }> {
    let expired = 0;
    for (;;) {
      const n = await this.dataSource.transaction((manager) => this.repository.expire(manager, now));
      expired += n;
      if (n === 0) break;
    }
    let pruned = 0;
    for (;;) {
      const n = await this.repository.prunePaired(this.dataSource.manager, now);
      pruned += n;
      if (n === 0) break;
    }
    return { expired, pruned };
  }

  /** Whether this event made its predictions before and its id was pruned since: its first instance's prediction is stored. */
  private async pairedBefore(manager: EntityManager, project: ProjectEntity, eventId: string): Promise<boolean> {
    const found = await this.predictions.lockFacts(manager, project.id, [predictionIdOf(eventId, 0)]);
    return found.length > 0;
  }

  async status(project: ProjectEntity): Promise<KserveStatusReply> {
    const status = await this.repository.status(this.dataSource.manager, project.id);
    return {
      windowMinutes: integrationSettingsOf(project).kserve.pairWindowMinutes,
      pending: { requests: status.pendingRequests, responses: status.pendingResponses, oldest: status.oldest?.toISOString() ?? null },
      pairedLastDay: status.paired,
      predictionsLastDay: status.predictions,
      expired: { requests: status.counters['kserve.expired_requests'] ?? 0, responses: status.counters['kserve.expired_responses'] ?? 0 },
      rejectedPairs: status.counters['kserve.rejected_pairs'] ?? 0,
    };
  }
}

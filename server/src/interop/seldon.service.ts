import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { FeedbackInput, SeldonFeedback, SeldonFeedbackReply } from '@backflow/contracts';
import { TRUTH_EVENT_TYPE } from '../feedback/feedback-rules';
import { FeedbackService } from '../feedback/feedback.service';
import { PredictionsService } from '../predictions/predictions.service';
import type { ProjectEntity } from '../projects/project.entity';
import { integrationSettingsOf } from '../projects/projects.service';
import { predictionIdOf } from './kserve-payload';
import { puidOf, rowCountOf, truthLabelsOf } from './seldon-feedback';
import { uuidV5 } from '../common/ids/uuid-v5';

export const REWARD_EVENT_TYPE = 'reward';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Seldon Core's feedback (`{request, response, reward, truth}`) as feedback events: `truth`
 * becomes a `truth` event whose value is the label (a built-in rule makes it the feedback
 * label), `reward` a `reward` event. The prediction is found by the response's puid.
 */
@Injectable()
export class SeldonService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly predictions: PredictionsService,
    private readonly feedback: FeedbackService,
  ) {}

  async receive(project: ProjectEntity, message: SeldonFeedback): Promise<SeldonFeedbackReply> {
    const puid = puidOf(message);
    const classes = integrationSettingsOf(project).kserve.classes ?? project.labels.map((l) => l.name);
    const truths = message.truth ? truthLabelsOf(message.truth, classes) : undefined;
    const rows = truths?.length ?? rowCountOf(message);
    const predictionIds = await this.predictionIdsOf(project, puid, rows);
    const events: FeedbackInput[] = predictionIds.flatMap((predictionId, i) => [
      ...(truths ? [{ id: uuidV5(`seldon:${puid}:${i}:truth:${truths[i]}`), predictionId, type: TRUTH_EVENT_TYPE, value: truths[i] }] : []),
      ...(message.reward !== undefined
        ? [{ id: uuidV5(`seldon:${puid}:${i}:reward:${message.reward}`), predictionId, type: REWARD_EVENT_TYPE, value: message.reward }]
        : []),
    ]);
    const reply = await this.feedback.ingest(project, events, false);
    return { puid, predictionIds, accepted: reply.accepted, duplicates: reply.duplicates };
  }

  /**
   * The prediction of each row: the one the inference logger stored under this puid (its
   * CloudEvent id), or, for a puid that is itself a prediction's id, that one. When neither is
   * stored yet, the logger's: feedback may arrive first, and is joined when the prediction comes.
   */
  private async predictionIdsOf(project: ProjectEntity, puid: string, rows: number): Promise<string[]> {
    const derived = Array.from({ length: rows }, (_, i) => predictionIdOf(puid, i));
    if (rows !== 1 || !UUID.test(puid)) return derived;
    const direct = puid.toLowerCase();
    // a read of two ids; lockFacts is the service's read of stored predictions (its row locks end with this transaction)
    const found = await this.dataSource.transaction((manager) => this.predictions.lockFacts(manager, project.id, [derived[0], direct]));
    return found.some((f) => f.id === derived[0]) || !found.some((f) => f.id === direct) ? derived : [direct];
  }
}

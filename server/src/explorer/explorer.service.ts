import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CONFIDENCE_SORT_MAX_DAYS,
  type ExampleDetail,
  type ExplorerPage,
  type ExplorerQuery,
  type RelabelRequest,
  type SavedView,
  type SavedViewRequest,
} from '@backflow/contracts';
import { AuditService } from '../common/audit/audit.service';
import { LabelsService } from '../labels/labels.service';
import { maskInput } from '../labeling/consensus';
import type { ProjectEntity } from '../projects/project.entity';
import { routingQuestion } from '../projects/project-questions';
import { predictionKeyOf } from '../common/ids/prediction-key';
import { decodeCursor, encodeCursor, ExplorerErrors, previewOf, walkOf } from './explorer-walk';
import { ExplorerRepository, type FoundRow } from './explorer.repository';

const DAY_MS = 86_400_000;
const iso = (value: Date | string) => new Date(value).toISOString();

/** Who reads: admins see masked fields, reviewers do not. */
export interface Reader {
  userId: string;
  showMasked: boolean;
  requestId?: string;
}

/**
 * The data explorer: a project's predictions with their feedback, answers, labels and exports,
 * searched a bounded page at a time; relabeling from an example's page; saved views.
 */
@Injectable()
export class ExplorerService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ExplorerRepository,
    private readonly labels: LabelsService,
    private readonly audit: AuditService,
  ) {}

  async search(project: ProjectEntity, query: ExplorerQuery, reader: Reader, now = new Date()): Promise<ExplorerPage> {
    const walk = walkOf(query);
    const filters = { ...query };
    if (walk.order === 'confidence') {
      // a confidence walk merges its window's days, each read in confidence order from its own index: the last day unless told, a week at most
      const to = filters.to ? Date.parse(filters.to) : now.getTime();
      const from = filters.from ? Date.parse(filters.from) : to - DAY_MS;
      if (to - from > CONFIDENCE_SORT_MAX_DAYS * DAY_MS) throw ExplorerErrors.windowTooWide(CONFIDENCE_SORT_MAX_DAYS);
      filters.from = new Date(from).toISOString();
      filters.to = new Date(to).toISOString();
    }
    const after = decodeCursor(walk, query.cursor);
    const masked = reader.showMasked ? [] : project.maskedFields;
    const found = await this.repository.walk(this.dataSource.manager, project.id, filters, walk, after, query.limit, masked);
    const full = found.rows.length > query.limit;
    const rows = found.rows.slice(0, query.limit);
    const last = rows[rows.length - 1];
    // a full page goes on after its last row; a short one, cut by the walk's budget, after the last row the walk read
    const exhausted = found.walked < walk.budget;
    const next = full
      ? encodeCursor(walk, [last.sort_key, last.key_id])
      : !exhausted && found.edge
        ? encodeCursor(walk, [found.edge.sortKey, found.edge.id])
        : null;
    return {
      items: rows.map((row) => itemOf(row, masked)),
      next,
      walked: {
        order: walk.order,
        rows: found.walked,
        through: found.edge ? (walk.order === 'confidence' ? String(found.edge.sortKey) : iso(String(found.edge.sortKey))) : null,
        partial: !full && !exhausted,
      },
    };
  }

  /** One prediction by the id its model server sent (its own request id, or a UUID). */
  async example(project: ProjectEntity, callerId: string, reader: Reader): Promise<ExampleDetail> {
    const manager = this.dataSource.manager;
    const predictionId = predictionKeyOf(project.id, callerId);
    const prediction = await this.repository.prediction(manager, project.id, predictionId);
    if (!prediction) throw ExplorerErrors.predictionNotFound(callerId);
    const [feedback, task, labels, relabels] = await Promise.all([
      this.repository.feedback(manager, project.id, predictionId),
      this.repository.task(manager, project.id, predictionId),
      this.repository.labels(manager, project.id, predictionId),
      this.repository.relabels(manager, project.id, predictionId),
    ]);
    const answers = task ? await this.repository.answers(manager, project.id, task.id) : [];
    const masked = reader.showMasked ? [] : project.maskedFields;
    return {
      prediction: {
        id: prediction.id,
        occurredAt: iso(prediction.occurred_at),
        receivedAt: iso(prediction.received_at),
        model: { name: prediction.model_name, version: prediction.model_version },
        input: maskInput(prediction.input, masked),
        masked: [...masked],
        scores: prediction.scores,
        predictedLabel: prediction.predicted_label,
        confidence: prediction.confidence,
        uncertainty: prediction.uncertainty,
        slice: prediction.slice ?? {},
        metadata: prediction.metadata,
        suggestions: prediction.suggestions,
      },
      feedback: feedback.map((f) => ({
        id: f.id,
        type: f.type,
        value: f.value,
        occurredAt: iso(f.occurred_at),
        receivedAt: iso(f.received_at),
        appliedAt: f.applied_at && iso(f.applied_at),
      })),
      task: task
        ? {
            id: task.id,
            state: task.state,
            reason: task.reason,
            priority: task.priority,
            inclusionProbability: task.inclusion_probability,
            requiredAnnotations: task.required_annotations,
            createdAt: iso(task.created_at),
            completedAt: task.completed_at && iso(task.completed_at),
          }
        : null,
      answers: answers.map((a) => ({
        id: a.id,
        rater: a.rater,
        label: a.label,
        answers: a.answers,
        timeSpentMs: a.time_spent_ms,
        late: a.late,
        createdAt: iso(a.created_at),
      })),
      labels: labels.map((l) => ({
        id: l.id,
        value: l.value,
        answers: l.answers,
        source: l.source,
        rule: l.rule,
        agreement: l.agreement,
        weight: l.weight,
        createdAt: iso(l.created_at),
        supersededAt: l.superseded_at && iso(l.superseded_at),
        current: l.superseded_at === null,
        exported: l.exported.map((e) => ({ span: e.span, at: iso(e.at) })),
      })),
      history: relabels.map((r) => ({
        at: iso(r.created_at),
        actor: r.actor,
        action: 'relabel',
        details: { previous: r.previous, label: r.label, reason: r.reason },
      })),
    };
  }

  /**
   * A person's label for the prediction, decided by hand (source `review`, ranked with the
   * reviewers' own): the current label becomes history, and the relabel is kept with who, when
   * and why, in the explorer's record and the audit log, in the same transaction.
   */
  async relabel(project: ProjectEntity, callerId: string, request: RelabelRequest, reader: Reader): Promise<ExampleDetail> {
    const predictionId = predictionKeyOf(project.id, callerId);
    const question = routingQuestion(project);
    if (question.kind !== 'label') throw ExplorerErrors.relabelKind(question.kind);
    if (!question.labels.some((l) => l.name === request.label)) throw ExplorerErrors.unknownLabel(request.label);
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.repository.prediction(manager, project.id, predictionId))) throw ExplorerErrors.predictionNotFound(callerId);
      const previous = (await this.labels.currentFor(manager, project.id, [predictionId])).get(predictionId)?.value ?? null;
      await this.labels.recordHumanLabel(manager, project.id, {
        predictionId,
        value: request.label,
        answers: { [question.name]: request.label },
        source: 'review',
        agreement: 1,
        taskId: null,
      });
      await this.repository.recordRelabel(manager, {
        projectId: project.id,
        predictionId,
        actorUserId: reader.userId,
        previous,
        label: request.label,
        reason: request.reason,
      });
      await this.audit.record(
        {
          actorUserId: reader.userId,
          action: 'label.relabeled',
          targetType: 'prediction',
          targetId: predictionId,
          projectId: project.id,
          details: { previous, label: request.label, reason: request.reason },
          requestId: reader.requestId ?? null,
        },
        manager,
      );
    });
    return this.example(project, callerId, reader);
  }

  views(project: ProjectEntity): Promise<SavedView[]> {
    return this.repository.views(this.dataSource.manager, project.id);
  }

  /** Saves a view under its name (a view of the same name, in any case, is replaced). */
  async saveView(project: ProjectEntity, request: SavedViewRequest, reader: Reader): Promise<SavedView> {
    const id = await this.repository.saveView(this.dataSource.manager, project.id, reader.userId, request.name, request.filters);
    const saved = (await this.views(project)).find((v) => v.id === id);
    return saved!;
  }

  async deleteView(project: ProjectEntity, id: string): Promise<void> {
    if (!/^\d{1,18}$/.test(id) || !(await this.repository.deleteView(this.dataSource.manager, project.id, id))) throw ExplorerErrors.viewNotFound(id);
  }
}

function itemOf(row: FoundRow, masked: readonly string[]): ExplorerPage['items'][number] {
  return {
    id: row.id,
    occurredAt: iso(row.occurred_at),
    receivedAt: iso(row.received_at),
    model: { name: row.model_name, version: row.model_version },
    predictedLabel: row.predicted_label,
    confidence: row.confidence,
    slice: row.slice ?? {},
    preview: previewOf(maskInput(row.input, masked)),
    label: row.label_value !== null ? { value: row.label_value, source: row.label_source!, at: iso(row.label_at!) } : null,
    task: row.task_id !== null ? { id: row.task_id, state: row.task_state!, reason: row.task_reason! } : null,
  };
}

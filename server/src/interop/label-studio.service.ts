import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LabelStudioImportReply, LabelStudioTask } from '@backflow/contracts';
import { labelStudioConfig, labelStudioRefusal } from '@backflow/questions';
import { AuditService } from '../common/audit/audit.service';
import { inTransaction } from '../common/database/transaction';
import type { Actor } from '../auth/users.service';
import { UsersService } from '../auth/users.service';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { fieldOf } from '../common/validation/zod-validation.pipe';
import { ValidationError } from '../common/errors';
import { LabelingService } from '../labeling/labeling.service';
import type { ImportedWork } from '../labeling/labeling.service';
import { LabelsService } from '../labels/labels.service';
import { PredictionsService } from '../predictions/predictions.service';
import { asksOneLabel } from '../projects/project-questions';
import type { ProjectEntity } from '../projects/project.entity';
import { InteropErrors } from './interop.errors';
import { fromLabelStudioTask, ImportedTaskPlan, standInEmail, toLabelStudioTask } from './label-studio-format';
import { fromLabelStudioTaskOfQuestions, toLabelStudioTaskOfQuestions } from './label-studio-kinds';
import { ExportCursor, LabelStudioRepository } from './label-studio.repository';

const EXPORT_PAGE = 500;
const MAX_LISTED_SKIPPED = 100;

/** Moving work between Label Studio and Backflow: its JSON export in, and any project out in the same format. */
@Injectable()
export class LabelStudioService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly predictions: PredictionsService,
    private readonly labeling: LabelingService,
    private readonly labels: LabelsService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly repository: LabelStudioRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A Label Studio JSON export, all or nothing in one transaction: each task's model
   * prediction becomes a prediction (through the ingestion path), its answers become
   * annotations by imported raters, and a finished task its final label. Importing the same
   * file again stores nothing twice. Annotations that hold no answer (cancelled, or empty) are
   * counted in the reply; a result Backflow cannot store refuses the file.
   */
  async import(project: ProjectEntity, body: unknown, actor: Actor): Promise<LabelStudioImportReply> {
    this.assertExchangeable(project);
    if (!Array.isArray(body)) throw new ValidationError('body: a Label Studio JSON export is a list of tasks', 'body');
    if (body.length > this.config.ingest.maxBatch) throw InteropErrors.tooManyTasks(this.config.ingest.maxBatch);
    const labels = project.labels.map((l) => l.name);
    const oneLabel = asksOneLabel(project);
    const plans: ImportedTaskPlan[] = body.map((raw, index) => {
      const parsed = LabelStudioTask.safeParse(raw);
      if (!parsed.success) {
        const field = fieldOf(parsed.error.issues[0], String(index));
        throw new ValidationError(`${field}: ${parsed.error.issues[0].message}`, field);
      }
      const lsProject = (raw as { project?: unknown }).project;
      const source = typeof lsProject === 'number' ? `project-${lsProject}` : 'file';
      return oneLabel
        ? fromLabelStudioTask(parsed.data, index, labels, source, project.id, project.labelingSettings)
        : fromLabelStudioTaskOfQuestions(parsed.data, index, project, source, project.id, project.labelingSettings);
    });
    // two tasks of one prediction would each decide its label, the second silently replacing the first
    const firstOf = new Map<string, number>();
    plans.forEach((plan, index) => {
      const first = firstOf.get(plan.predictionId);
      if (first !== undefined) throw InteropErrors.duplicateTask(`${index}.id`, first);
      firstOf.set(plan.predictionId, index);
    });
    return inTransaction(this.dataSource, async ({ manager, afterCommit }): Promise<LabelStudioImportReply> => {
      const ingested = await this.predictions.ingestWithin(
        manager,
        project,
        plans.map((p) => p.prediction),
      );
      afterCommit(...ingested.afterCommit);
      const emails = [...new Set(plans.flatMap((p) => p.answers.map((a) => a.email)))];
      const raters = await this.users.importedRaters(manager, project.id, emails, standInEmail);

      const work: ImportedWork[] = plans
        .filter((p) => p.answers.length || (p.label && p.label.source !== 'feedback'))
        .map((p) => ({
          predictionId: p.predictionId,
          state: p.disputed ? 'review' : 'completed',
          answers: p.answers.map((a) => ({
            id: a.id,
            raterId: raters.ids.get(a.email)!,
            label: a.label,
            timeSpentMs: a.timeSpentMs,
            createdAt: a.createdAt,
            ...(a.answers ? { answers: a.answers } : {}),
          })),
          ...(p.label && p.label.source !== 'feedback'
            ? {
                label: {
                  value: p.label.value,
                  source: p.label.source,
                  agreement: p.label.agreement,
                  ...(p.label.answers ? { answers: p.label.answers } : {}),
                },
              }
            : {}),
        }));
      const answered = await this.labeling.importAnswered(manager, project, work);
      afterCommit(...answered.afterCommit);

      // labels Backflow's own feedback rules made (a round trip) stay feedback labels; one that
      // would only go to the history of a label people decided is not written (nor again on a re-import)
      const feedback = plans.filter((p) => p.label?.source === 'feedback');
      const current = await this.labels.currentFor(
        manager,
        project.id,
        feedback.map((p) => p.predictionId),
      );
      const recorded = await this.labels.recordFeedbackLabels(
        manager,
        project,
        feedback
          .filter((p) => (current.get(p.predictionId)?.source ?? 'feedback') === 'feedback')
          .map((p) => ({
            predictionId: p.predictionId,
            value: p.label!.value,
            ...(p.label!.answers ? { answers: { [project.routingQuestion]: p.label!.answers[project.routingQuestion] } } : {}),
            rule: 'imported',
            feedbackEventId: null,
          })),
      );

      const skipped = plans.flatMap((p) => p.skipped);
      const reply = {
        tasks: plans.length,
        predictions: { accepted: ingested.reply.accepted, duplicates: ingested.reply.duplicates },
        annotations: answered.answers,
        labels: answered.labels + recorded.length,
        raters: raters.created,
        skipped: {
          cancelled: skipped.filter((s) => s.reason === 'cancelled').length,
          empty: skipped.filter((s) => s.reason === 'empty').length,
          annotations: skipped.slice(0, MAX_LISTED_SKIPPED).map((s) => s.at),
        },
      };
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'project.label_studio_imported',
          targetType: 'project',
          targetId: project.id,
          projectId: project.id,
          details: reply,
          requestId: actor.requestId,
        },
        manager,
      );
      return reply;
    });
  }

  /**
   * The Label Studio labeling config that shows the export's tasks: each question as the
   * control of its kind, named as the export's results name it (`label`, over `$text`, for a
   * project of one label question).
   */
  labelingConfig(project: ProjectEntity): string {
    this.assertExchangeable(project);
    return labelStudioConfig(asksOneLabel(project) ? [{ ...project.questions[0], name: 'label' }] : project.questions);
  }

  /** Refuses a project with a question Label Studio has no form for (a ranking), before anything is read or written. */
  assertExchangeable(project: ProjectEntity): void {
    const refusal = labelStudioRefusal(project.questions);
    if (refusal) throw InteropErrors.unsupportedQuestion(refusal.question, refusal.message);
  }

  /** The project as a Label Studio JSON export, one task per prediction, read and written a page at a time (`assertExchangeable` first). */
  async *export(project: ProjectEntity, options: { labeledOnly: boolean; includeMasked: boolean }): AsyncGenerator<string> {
    const masked = options.includeMasked ? [] : project.maskedFields;
    const raterNumbers = new Map<string, number>();
    const raterNumber = (email: string) => {
      if (!raterNumbers.has(email)) raterNumbers.set(email, raterNumbers.size + 1);
      return raterNumbers.get(email)!;
    };
    const oneLabel = asksOneLabel(project);
    let cursor: ExportCursor | null = null;
    let sequence = 0;
    yield '[';
    do {
      const page = await this.repository.page(this.dataSource.manager, project.id, cursor, EXPORT_PAGE, options.labeledOnly);
      let text = '';
      for (const prediction of page.rows) {
        const task = oneLabel
          ? toLabelStudioTask(++sequence, prediction, { masked, raterNumber })
          : toLabelStudioTaskOfQuestions(++sequence, prediction, project, { masked, raterNumber });
        text += (sequence > 1 ? ',\n' : '\n') + JSON.stringify(task);
      }
      if (text) yield text;
      cursor = page.next;
    } while (cursor);
    yield '\n]\n';
  }
}

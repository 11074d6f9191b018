import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { QualityReply } from '@backflow/contracts';
import { groupBy } from '../common/group-by';
import { JobsService } from '../common/jobs/jobs.service';
import { routingQuestion } from '../projects/project-questions';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { agreementOf, byTask, confusionOf, disagreementsWithMajority, fitDawidSkene, raterReliability } from './quality-figures';
import { QualityErrors } from './quality.errors';
import { QualityRepository } from './quality.repository';
import { questionAgreement } from './question-agreement';

const DAY_MS = 86_400_000;
// Dawid-Skene re-decides labels from this much history
const REESTIMATE_DAYS = 30;

/** Dawid-Skene classes answers: it reads a routing question of kind label, and nothing else. */
const routesByLabel = (project: ProjectEntity): boolean => routingQuestion(project).kind === 'label';

/** The classes of the routing question when it is a label question; none otherwise (no confusion, no Dawid-Skene). */
const classesOf = (project: ProjectEntity): string[] => (routesByLabel(project) ? project.labels.map((l) => l.name) : []);

/** Agreement between raters, each rater's reliability, and Dawid-Skene consensus. */
@Injectable()
export class QualityService implements OnModuleInit {
  private readonly logger = new Logger('QualityService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: QualityRepository,
    private readonly jobs: JobsService,
    private readonly projects: ProjectsService,
  ) {}

  onModuleInit(): void {
    this.jobs.schedule('quality-reestimate', '*/10 * * * *', () => this.reestimateAll());
  }

  /** The figures over the answers given from `window.from` (inclusive) to `window.to` (exclusive). */
  async quality(project: ProjectEntity, window: { from: Date; to: Date }): Promise<QualityReply> {
    const { from, to } = window;
    const manager = this.dataSource.manager;
    const [answers, members, last] = await Promise.all([
      this.repository.answersSince(manager, project.id, from, to),
      this.repository.raters(manager, project.id),
      this.repository.lastReestimate(manager, project.id),
    ]);
    const classes = classesOf(project);
    const tasks = byTask(answers);
    const fit = fitDawidSkene(tasks, classes);
    const perDay = groupBy(tasks, (t) => t.lastAnswerAt.toISOString().slice(0, 10));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      consensus: project.labelingSettings.consensus ?? 'majority',
      classes,
      agreement: agreementOf(tasks, project.overlap),
      confusion: confusionOf(tasks, classes),
      days: [...perDay]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, dayTasks]) => {
          const figures = agreementOf(dayTasks, project.overlap);
          return { day, tasks: figures.tasks, fleissKappa: figures.fleissKappa, krippendorffAlpha: figures.krippendorffAlpha };
        }),
      raters: raterReliability(members, answers, fit, project.questions),
      questions: questionAgreement(project.questions, answers),
      dawidSkene: fit
        ? {
            iterations: fit.iterations,
            converged: fit.converged,
            priors: Object.fromEntries(classes.map((c, j) => [c, fit.priors[j]])),
            disagreesWithMajority: disagreementsWithMajority(tasks, fit),
          }
        : null,
      lastReestimate: last ? { at: last.at.toISOString(), relabeled: last.relabeled, keptExported: last.keptExported } : null,
    };
  }

  /**
   * Re-decides the consensus labels of a Dawid-Skene project from the last 30 days of answers.
   * A label already in a span is left alone (a new span version corrects it); the others that
   * the fit classes differently are superseded, the old label kept as history.
   */
  async reestimate(project: ProjectEntity, now = new Date()): Promise<{ relabeled: number; keptExported: number }> {
    if (!routesByLabel(project)) throw QualityErrors.dawidSkeneNeedsLabel(project.slug, routingQuestion(project));
    const classes = classesOf(project);
    const answers = await this.repository.answersSince(this.dataSource.manager, project.id, new Date(now.getTime() - REESTIMATE_DAYS * DAY_MS));
    // fitted on every answer (tasks sent to review too), applied to the tasks with a label
    const tasks = byTask(answers);
    const fit = fitDawidSkene(tasks, classes);
    if (!fit) return { relabeled: 0, keptExported: 0 };
    const differing = tasks.filter((t) => t.finalLabel !== null && fit.labels.get(t.taskId) !== t.finalLabel).map((t) => t.taskId);
    return this.dataSource.transaction(async (manager) => {
      const current = await this.repository.lockConsensusLabels(manager, project.id, differing);
      const changes = [];
      let keptExported = 0;
      for (const label of current) {
        const value = fit.labels.get(label.taskId)!;
        if (value === label.value) continue;
        if (label.exported) {
          keptExported++;
          continue;
        }
        changes.push({ labelId: label.labelId, value, agreement: Math.max(...fit.posteriors.get(label.taskId)!) });
      }
      await this.repository.relabel(manager, project.id, project.routingQuestion, changes);
      await this.repository.recordReestimate(manager, project.id, {
        at: now,
        relabeled: changes.length,
        keptExported,
        iterations: fit.iterations,
        converged: fit.converged,
      });
      return { relabeled: changes.length, keptExported };
    });
  }

  /** The job: re-decides every Dawid-Skene project whose routing question is a label question; returns how many it fitted. */
  async reestimateAll(): Promise<number> {
    let fitted = 0;
    for (const projectId of await this.repository.projectsUsingDawidSkene(this.dataSource.manager)) {
      const project = await this.projects.findById(projectId);
      if (!project || !routesByLabel(project)) continue;
      fitted++;
      const outcome = await this.reestimate(project);
      if (outcome.relabeled) this.logger.log(`project ${project.slug}: Dawid-Skene re-decided ${outcome.relabeled} labels`);
    }
    return fitted;
  }
}

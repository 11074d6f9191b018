import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LabelingFunction, LabelingFunctionPreviewReply, WeakSupervisionAnalysis } from '@backflow/contracts';
import { analyseLabelingFunctions, compileLabelingFunction, fitLabelModel, propagate, propagationIndex, type Vote } from '@backflow/weak';
import { inTransaction } from '../common/database/transaction';
import { JobsService } from '../common/jobs/jobs.service';
import { LabelsService, NewMachineLabel } from '../labels/labels.service';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { routingQuestion } from '../projects/project-questions';
import { weakSupervisionOf } from '../projects/projects.service';
import { ExaminedPrediction, WeakRepository } from './weak.repository';

/** A column of the vote matrix: a labeling function, or a feedback rule whose labels count as its votes. */
interface Voter {
  name: string;
  label: string;
  source: 'function' | 'feedback_rule';
  vote: (p: ExaminedPrediction) => Vote;
}

const MAX_PREVIEW_VOTES = 20;
// the label model is fitted on the newest predictions' votes
const FIT_SAMPLE = 20_000;
// the scheduled pass leaves the newest predictions for later: a prediction is stamped when its transaction began, and one
// that began earlier than a prediction already passed may commit after it; with the cursor moving forward only, a
// pass can never stall on predictions it read before, at any rate of traffic
export const SETTLE_MS = 15 * 60_000;
const PAGE = 2_000;
const MAX_PER_PASS = 50_000;
// propagation: the newest human-labelled embeddings that vote, and the unlabelled embeddings a pass takes at most
const PROPAGATION_SOURCES = 2_000;
const MAX_PROPAGATED_PER_PASS = 2_000;

/**
 * Weak supervision: the project's labeling functions (and its feedback rules, which vote what
 * they labelled) over the newest traffic, the label model fitted on their votes, and Snorkel's LF
 * analysis against the human labels.
 */
@Injectable()
export class WeakService implements OnModuleInit {
  private readonly logger = new Logger('WeakService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: WeakRepository,
    private readonly labels: LabelsService,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
  ) {}

  onModuleInit(): void {
    this.jobs.schedule('weak-labels', '* * * * *', () => this.labelAll());
  }

  private async labelAll(): Promise<void> {
    for (const projectId of await this.repository.labellingProjects()) {
      const project = await this.projects.findById(projectId);
      if (project) await this.labelNew(project).catch((error: unknown) => this.logger.error(`weak labels ${project.slug}: ${String(error)}`));
    }
  }

  /**
   * The label model's labels on predictions no one labelled: fitted on the newest predictions'
   * votes, then applied to those received since the last pass (the first pass starts from the
   * oldest), each voted on by some function and given its label with at least `minProbability`.
   * The labels and the pass's place are written in one transaction.
   */
  async labelNew(project: ProjectEntity, options: { settleMs?: number } = {}): Promise<{ examined: number; labelled: number; propagated: number }> {
    const settings = weakSupervisionOf(project);
    const routing = routingQuestion(project);
    const enabled = settings.functions.filter((f) => f.enabled);
    // the model is fitted for weak labels, and for routing by its confidence
    const weak = (settings.weakLabels !== undefined || settings.routeBelow !== undefined) && enabled.length > 0;
    const propagation = settings.propagation;
    if ((!weak && !propagation) || routing.kind !== 'label') return { examined: 0, labelled: 0, propagated: 0 };
    const classes = routing.labels.map((l) => l.name);
    const functions = weak ? enabled.map(compileLabelingFunction) : [];
    const sample = weak ? await this.repository.newest(project.id, FIT_SAMPLE) : [];
    const model = fitLabelModel(
      sample.map((p) => functions.map((f) => f(p))),
      functions.length,
      classes,
    );
    const minProbability = settings.weakLabels?.minProbability ?? 1;
    return inTransaction(this.dataSource, async ({ manager }) => {
      const index = propagation ? propagationIndex(await this.repository.labelledEmbeddings(manager, project.id, PROPAGATION_SOURCES)) : undefined;
      const spread: NewMachineLabel[] = [];
      let reached = 0;
      const state = await this.repository.lockState(manager, project.id);
      let cursor = { receivedAt: state.receivedAt, predictionId: state.predictionId };
      let examined = 0;
      let last: { receivedAt: string; predictionId: string } | undefined;
      const chosen: NewMachineLabel[] = [];
      while (examined < MAX_PER_PASS) {
        // (the database's clock: what has settled is judged by the time predictions are stamped with)
        const page = await this.repository.after(manager, project.id, cursor, PAGE, options.settleMs ?? SETTLE_MS);
        for (const p of page) {
          if (p.labelled) continue;
          if (index && propagation && p.embedding) {
            reached++;
            const near = propagate(index, p.embedding, propagation);
            if (near && near.confidence >= propagation.minConfidence) spread.push({ predictionId: p.id, value: near.label, probability: near.confidence });
          }
          if (!weak) continue;
          const votes = functions.map((f) => f(p));
          if (votes.every((v) => v === null)) continue;
          const { label, probability } = model.predict(votes);
          if (probability >= minProbability) chosen.push({ predictionId: p.id, value: label, probability });
        }
        examined += page.length;
        if (page.length === 0) break;
        last = { receivedAt: page[page.length - 1].receivedAt, predictionId: page[page.length - 1].id };
        cursor = last;
        if (page.length < PAGE || reached >= MAX_PROPAGATED_PER_PASS) break;
      }
      // the label model's first; where it gave none, the neighbours'
      const labelled = settings.weakLabels ? await this.labels.recordMachineLabels(manager, project, chosen) : 0;
      const propagated = await this.labels.recordMachineLabels(manager, project, spread, 'propagated');
      await this.repository.saveState(manager, project.id, {
        receivedAt: last?.receivedAt ?? state.receivedAt,
        predictionId: last?.predictionId ?? state.predictionId,
        labelled,
        model: {
          ...model.parameters,
          functions: enabled.map((f, j) => ({ name: f.name, estimatedAccuracy: model.accuracies[j] })),
          sample: sample.length,
          converged: model.converged,
        },
      });
      return { examined, labelled, propagated };
    });
  }

  private voters(project: ProjectEntity, functions: readonly LabelingFunction[], examined: readonly ExaminedPrediction[]): Voter[] {
    const rules = new Set(examined.flatMap((p) => [...p.feedback.keys()]));
    const feedbackRules = project.feedbackRules.rules;
    return [
      ...functions
        .filter((f) => f.enabled)
        .map((f): Voter => {
          const fn = compileLabelingFunction(f);
          return { name: f.name, label: f.label, source: 'function', vote: (p) => fn(p) };
        }),
      ...[...rules].sort().map((rule): Voter => ({
        name: `feedback ${rule}`,
        label: /^rules\[(\d+)\]$/.exec(rule)
          ? (feedbackRules[Number(rule.slice(6, -1))]?.label ?? 'its event’s value')
          : (project.feedbackRules.absence?.label ?? rule),
        source: 'feedback_rule',
        vote: (p) => p.feedback.get(rule) ?? null,
      })),
    ];
  }

  private analyse(
    project: ProjectEntity,
    voters: readonly Voter[],
    examined: readonly ExaminedPrediction[],
  ): { reply: WeakSupervisionAnalysis; votes: Vote[][] } {
    const routing = routingQuestion(project);
    const classes = routing.kind === 'label' ? routing.labels.map((l) => l.name) : [];
    const votes = examined.map((p) =>
      voters.map((v) => {
        const vote = v.vote(p);
        return vote !== null && classes.includes(vote) ? vote : null;
      }),
    );
    const gold = examined.map((p) => p.humanLabel);
    const report = analyseLabelingFunctions(votes, voters.length, gold);
    const anyVote = votes.some((row) => row.some((v) => v !== null));
    const model = anyVote && classes.length > 1 ? fitLabelModel(votes, voters.length, classes) : undefined;
    let agreeing = 0;
    let judged = 0;
    if (model) {
      votes.forEach((row, i) => {
        if (gold[i] === undefined || row.every((v) => v === null)) return;
        judged++;
        if (model.predict(row).label === gold[i]) agreeing++;
      });
    }
    return {
      votes,
      reply: {
        examined: examined.length,
        humanLabelled: gold.filter((g) => g !== undefined).length,
        coverage: report.coverage,
        overlaps: report.overlaps,
        conflicts: report.conflicts,
        functions: voters.map((voter, j) => ({
          name: voter.name,
          label: voter.label,
          source: voter.source,
          ...report.functions[j],
          empiricalAccuracy: report.functions[j].empiricalAccuracy && {
            value: report.functions[j].empiricalAccuracy.value,
            low: report.functions[j].empiricalAccuracy.low,
            high: report.functions[j].empiricalAccuracy.high,
            n: report.functions[j].empiricalAccuracy.n,
          },
          estimatedAccuracy: model?.accuracies[j] ?? null,
        })),
        labelModel: model
          ? {
              priors: Object.fromEntries(classes.map((c, k) => [c, model.priors[k]])),
              accuracyOnHumanLabels: judged ? agreeing / judged : null,
              converged: model.converged,
            }
          : null,
      },
    };
  }

  /** The project's functions and feedback rules over the newest `limit` predictions. */
  async analysis(project: ProjectEntity, limit: number): Promise<WeakSupervisionAnalysis> {
    const examined = await this.repository.newest(project.id, limit);
    return this.analyse(project, this.voters(project, weakSupervisionOf(project).functions, examined), examined).reply;
  }

  /** A candidate function beside the project's (replacing one of its name): the same analysis, and the newest predictions it votes on. Nothing is saved. */
  async preview(project: ProjectEntity, candidate: LabelingFunction, limit: number): Promise<LabelingFunctionPreviewReply> {
    const examined = await this.repository.newest(project.id, limit);
    const functions = [...weakSupervisionOf(project).functions.filter((f) => f.name !== candidate.name), { ...candidate, enabled: true }];
    const voters = this.voters(project, functions, examined);
    const { reply, votes } = this.analyse(project, voters, examined);
    const at = voters.findIndex((v) => v.source === 'function' && v.name === candidate.name);
    const shown: LabelingFunctionPreviewReply['votes'] = [];
    for (let i = 0; i < examined.length && shown.length < MAX_PREVIEW_VOTES; i++) {
      const vote = votes[i][at];
      if (vote === null) continue;
      const others = Object.fromEntries(voters.flatMap((v, j) => (j !== at && votes[i][j] !== null ? [[v.name, votes[i][j]!]] : [])));
      shown.push({ predictionId: examined[i].id, vote, humanLabel: examined[i].humanLabel ?? null, others });
    }
    return { ...reply, votes: shown };
  }
}

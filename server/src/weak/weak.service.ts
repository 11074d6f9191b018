import { Injectable } from '@nestjs/common';
import type { LabelingFunction, LabelingFunctionPreviewReply, WeakSupervisionAnalysis } from '@backflow/contracts';
import { analyseLabelingFunctions, compileLabelingFunction, fitLabelModel, type Vote } from '@backflow/weak';
import type { ProjectEntity } from '../projects/project.entity';
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

/**
 * Weak supervision: the project's labeling functions (and its feedback rules, which vote what
 * they labelled) over the newest traffic, the label model fitted on their votes, and Snorkel's LF
 * analysis against the human labels.
 */
@Injectable()
export class WeakService {
  constructor(private readonly repository: WeakRepository) {}

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
    const votes = examined.map((p) => voters.map((v) => (classes.includes(v.vote(p) ?? '') ? v.vote(p) : null)));
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

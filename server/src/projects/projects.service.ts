import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { DataSource, In } from 'typeorm';
import {
  consensusIssue,
  CreateProjectRequest,
  IntegrationSettings,
  MonitoringSettings,
  ProjectResponse,
  UpdateProjectRequest,
  exportFormatIssues,
  feedbackRuleIssues,
  WeakSupervisionSettings,
  weakSupervisionIssues,
  type LabelingFunction,
} from '@backflow/contracts';
import { unsafePattern } from '@backflow/weak';
import { ValidationError } from '../common/errors';
import { AuditService } from '../common/audit/audit.service';
import { CacheInvalidation } from '../common/cache/cache-invalidation';
import { DomainEvents } from '../common/events/domain-events';
import type { Actor } from '../auth/users.service';
import { ProjectEntity } from './project.entity';
import { routingQuestion, storedQuestions, withQuestions } from './project-questions';
import { ProjectErrors } from './projects.errors';

export type ProjectRole = ProjectResponse['myRole'];

export const PROJECT_CACHE_MS = 5_000;

/** A project's monitoring settings with every default filled in. */
export function monitoringSettingsOf(project: ProjectEntity): MonitoringSettings {
  return MonitoringSettings.parse(project.monitoringSettings ?? {});
}

/** A project's integration settings (KServe, Seldon, Label Studio) with every default filled in. */
export function integrationSettingsOf(project: ProjectEntity): IntegrationSettings {
  return IntegrationSettings.parse(project.integrationSettings ?? {});
}

/** A project's labeling functions and what their votes do, with every default filled in. */
export function weakSupervisionOf(project: Pick<ProjectEntity, 'weakSupervision'>): WeakSupervisionSettings {
  return WeakSupervisionSettings.parse(project.weakSupervision ?? {});
}

/**
 * Why labeling functions cannot run on traffic: a regular expression that could backtrack
 * catastrophically (or does not compile), named by `fieldOf` the function's place.
 */
export function unsafePatternIssue(
  functions: ReadonlyArray<Pick<LabelingFunction, 'when'>> | undefined,
  fieldOf = (index: number) => `weakSupervision.functions.${index}`,
): ValidationError | undefined {
  for (const [index, f] of (functions ?? []).entries()) {
    if (f.when.kind !== 'regex') continue;
    const reason = unsafePattern(f.when.pattern, f.when.flags);
    const field = `${fieldOf(index)}.when.pattern`;
    if (reason) return new ValidationError(`${field}: ${reason}`, field);
  }
  return undefined;
}

/** Raters, reviewers and keys see what labeling needs; the configuration (routing, rules, masks, gold, export) is for admins. */
export function toProjectResponse(project: ProjectEntity, myRole: ProjectRole): ProjectResponse {
  const configuration =
    myRole === 'admin'
      ? {
          maskedFields: project.maskedFields,
          labeling: project.labelingSettings,
          routing: project.routing,
          feedbackRules: project.feedbackRules,
          export: project.exportSettings,
          monitoring: monitoringSettingsOf(project),
          integrations: integrationSettingsOf(project),
          retention: project.retention,
          weakSupervision: weakSupervisionOf(project),
        }
      : {};
  return {
    id: project.id,
    slug: project.slug,
    name: project.name,
    taskType: project.taskType,
    labels: project.labels,
    questions: project.questions,
    routingQuestion: project.routingQuestion,
    instructions: project.instructions,
    overlap: project.overlap,
    ...configuration,
    myRole,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}

@Injectable()
export class ProjectsService {
  private readonly bySlug = new LRUCache<string, ProjectEntity>({ max: 1_000, ttl: PROJECT_CACHE_MS });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly invalidation: CacheInvalidation,
    private readonly events: DomainEvents,
  ) {
    invalidation.subscribe('project', (slug) => (slug === undefined ? this.bySlug.clear() : this.bySlug.delete(slug)));
  }

  /**
   * Projects are read on every ingested request: kept for a few seconds. A change reaches
   * every process's cache through CacheInvalidation when it commits.
   */
  async findBySlug(slug: string): Promise<ProjectEntity | null> {
    const cached = this.invalidation.live ? this.bySlug.get(slug) : undefined;
    if (cached) return cached;
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy({ slug });
    if (project) this.bySlug.set(slug, project);
    return project;
  }

  /** By id, through the same cache (jobs and pushes name projects by id). */
  async findById(id: string): Promise<ProjectEntity | null> {
    if (this.invalidation.live) {
      for (const project of this.bySlug.values()) if (project.id === id) return project;
    }
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy({ id });
    if (project && this.invalidation.live) this.bySlug.set(project.slug, project);
    return project;
  }

  async getBySlug(slug: string): Promise<ProjectEntity> {
    const project = await this.findBySlug(slug);
    if (!project) throw ProjectErrors.notFound(slug);
    return project;
  }

  /** Admins see every project; others the ones they are members of, with their role. */
  async listFor(user: { userId: string; role: string }): Promise<Array<{ project: ProjectEntity; role: ProjectRole }>> {
    if (user.role === 'admin') {
      const projects = await this.dataSource.getRepository(ProjectEntity).find({ order: { slug: 'ASC' } });
      return projects.map((project) => ({ project, role: 'admin' as const }));
    }
    const rows: Array<{ id: string; member_role: 'rater' | 'reviewer' }> = await this.dataSource.query(
      `SELECT p.id, m.role AS member_role FROM projects p JOIN memberships_read m ON m.project_id = p.id WHERE m.user_id = $1 ORDER BY p.slug`,
      [user.userId],
    );
    if (rows.length === 0) return [];
    const projects = await this.dataSource.getRepository(ProjectEntity).findBy({ id: In(rows.map((r) => r.id)) });
    const byId = new Map(projects.map((p) => [p.id, p]));
    return rows.flatMap((r) => (byId.has(r.id) ? [{ project: byId.get(r.id)!, role: r.member_role }] : []));
  }

  async create(request: CreateProjectRequest, actor: Actor): Promise<ProjectEntity> {
    const unsafe = unsafePatternIssue(request.weakSupervision?.functions);
    if (unsafe) throw unsafe;
    return this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(ProjectEntity)
        .values({
          slug: request.slug,
          name: request.name,
          ...storedQuestions(request),
          instructions: request.instructions,
          overlap: request.overlap,
          maskedFields: request.maskedFields,
          labelingSettings: request.labeling,
          routing: request.routing,
          feedbackRules: request.feedbackRules,
          exportSettings: request.export,
          monitoringSettings: request.monitoring,
          integrationSettings: request.integrations,
          retention: request.retention,
          weakSupervision: request.weakSupervision,
        })
        .orIgnore()
        .returning('id')
        .execute();
      const id = (inserted.raw as Array<{ id: string }>)[0]?.id;
      if (!id) throw ProjectErrors.slugTaken(request.slug);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'project.created',
          targetType: 'project',
          targetId: id,
          projectId: id,
          details: { slug: request.slug },
          requestId: actor.requestId,
        },
        manager,
      );
      return manager.getRepository(ProjectEntity).findOneByOrFail({ id });
    });
  }

  async update(slug: string, patch: UpdateProjectRequest, actor: Actor): Promise<ProjectEntity> {
    const updated = await this.dataSource.transaction(async (manager) => {
      const project = await manager.getRepository(ProjectEntity).findOne({ where: { slug }, lock: { mode: 'pessimistic_write' } });
      if (!project) throw ProjectErrors.notFound(slug);
      const routing = routingQuestion(project);
      // (a new project is held to it by its contract; a change is held here, against the questions it has)
      const consensus = consensusIssue(patch.labeling?.consensus, routing);
      if (consensus) throw new ValidationError(`labeling.consensus: ${consensus}`, 'labeling.consensus');
      // labels are the routing question's, when it is a label question
      if (patch.labels !== undefined && routing.kind !== 'label')
        throw new ValidationError(`labels: the routing question "${routing.name}" is ${routing.kind}; its labels are set in its question`, 'labels');
      const relabeled = patch.labels === undefined ? routing : { ...routing, labels: patch.labels };
      const [problem] = [
        ...feedbackRuleIssues(relabeled, patch.feedbackRules ?? project.feedbackRules),
        ...(patch.export ? exportFormatIssues(routing, patch.export.formats, project.questions) : []),
        ...weakSupervisionIssues(relabeled, patch.weakSupervision ?? weakSupervisionOf(project)),
      ];
      if (problem) {
        const field = problem.path.join('.');
        throw new ValidationError(`${field}: ${problem.message}`, field);
      }
      const unsafe = unsafePatternIssue(patch.weakSupervision?.functions);
      if (unsafe) throw unsafe;
      const changes: Partial<ProjectEntity> = {
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.labels !== undefined &&
          withQuestions(
            project.questions.map((q) => (q.name === routing.name ? relabeled : q)),
            project.routingQuestion,
          )),
        ...(patch.instructions !== undefined && { instructions: patch.instructions }),
        ...(patch.overlap !== undefined && { overlap: patch.overlap }),
        ...(patch.maskedFields !== undefined && { maskedFields: patch.maskedFields }),
        ...(patch.labeling !== undefined && { labelingSettings: patch.labeling }),
        ...(patch.routing !== undefined && { routing: patch.routing }),
        ...(patch.feedbackRules !== undefined && { feedbackRules: patch.feedbackRules }),
        ...(patch.export !== undefined && { exportSettings: patch.export }),
        ...(patch.monitoring !== undefined && { monitoringSettings: patch.monitoring }),
        ...(patch.integrations !== undefined && { integrationSettings: patch.integrations }),
        ...(patch.retention !== undefined && { retention: patch.retention }),
        ...(patch.weakSupervision !== undefined && { weakSupervision: patch.weakSupervision }),
      };
      await manager.getRepository(ProjectEntity).update({ id: project.id }, { ...changes, updatedAt: () => 'now()' });
      await this.invalidation.publish(manager, 'project', slug);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'project.updated',
          targetType: 'project',
          targetId: project.id,
          projectId: project.id,
          details: { fields: Object.keys(patch) },
          requestId: actor.requestId,
        },
        manager,
      );
      return manager.getRepository(ProjectEntity).findOneByOrFail({ id: project.id });
    });
    // cleared once committed: a reader in between would cache the old settings again
    this.bySlug.delete(slug);
    return updated;
  }

  async remove(slug: string, actor: Actor): Promise<void> {
    const projectId = await this.dataSource.transaction(async (manager) => {
      const project = await manager.getRepository(ProjectEntity).findOneBy({ slug });
      if (!project) throw ProjectErrors.notFound(slug);
      await this.audit.record(
        { actorUserId: actor.userId, action: 'project.deleted', targetType: 'project', targetId: project.id, details: { slug }, requestId: actor.requestId },
        manager,
      );
      await manager.getRepository(ProjectEntity).delete({ id: project.id });
      await this.invalidation.publish(manager, 'project', slug);
      return project.id;
    });
    this.bySlug.delete(slug);
    this.events.emit('project.deleted', { projectId, slug });
  }
}

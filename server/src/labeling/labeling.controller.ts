import { Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  AddGoldRequest,
  ClaimReply,
  ClaimRequest,
  GoldReply,
  HeldTasksReply,
  LeaseReply,
  PromoteGoldRequest,
  QueueStats,
  RaterQueue,
  RaterQualityList,
  ReviewRequest,
  SkipRequest,
  SubmitAnnotationReply,
  SubmitAnnotationRequest,
  OperationsQuery,
  OperationsReply,
  UndoReply,
} from '@backflow/contracts';
import { CurrentUser } from '../auth/auth.decorators';
import type { UserPrincipal } from '../auth/principal';
import { openApiSchema, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { GoldService } from './gold.service';
import { OperationsService } from './operations.service';
import { RaterQualityService } from './rater-quality.service';
import { TaskQueueService } from './task-queue.service';

const LABELERS = { members: ['rater', 'reviewer'] as const };
const REVIEWERS = { members: ['reviewer'] as const };

/** The REST twins of the socket events, for scripts and for raters without a socket. */
@ApiTags('labeling')
@Controller('api/v1/projects/:slug')
export class LabelingController {
  constructor(
    private readonly taskQueue: TaskQueueService,
    private readonly gold: GoldService,
    private readonly raterQuality: RaterQualityService,
    private readonly projectOperations: OperationsService,
  ) {}

  /** Leases the next task to the caller; `{ task: null }` when nothing is left for them. */
  @Post('tasks/claim')
  @HttpCode(200)
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(ClaimReply) })
  claim(@ValidBody(ClaimRequest) _body: unknown, @CurrentProject() project: ProjectEntity, @CurrentUser() user: UserPrincipal): Promise<ClaimReply> {
    return this.taskQueue.claim(project, user.userId, 'open', Math.random, { admin: user.role === 'admin' });
  }

  /** Answers a claimed task; 201 when stored now, 200 when this annotation id was stored before. */
  @Post('tasks/:id/annotations')
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(SubmitAnnotationReply) })
  async submit(
    @ValidParam('id', z.uuid()) taskId: string,
    @ValidBody(SubmitAnnotationRequest) body: SubmitAnnotationRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubmitAnnotationReply> {
    const result = await this.taskQueue.submit(project, user.userId, taskId, body);
    reply.status(result.duplicate ? 200 : 201);
    return result;
  }

  /** Per minute: tasks made, done and open, answers, raters, expired leases (admins). */
  @Get('operations')
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(OperationsReply) })
  operations(@ValidQuery(OperationsQuery) query: { minutes: number }, @CurrentProject() project: ProjectEntity): Promise<OperationsReply> {
    return this.projectOperations.operations(project, query.minutes);
  }

  /** Takes back the caller's answer while the task is still open; the task is leased to them again. */
  @Delete('tasks/:id/annotations/:annotationId')
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(UndoReply) })
  undo(
    @ValidParam('id', z.uuid()) taskId: string,
    @ValidParam('annotationId', z.guid()) annotationId: string,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
  ): Promise<UndoReply> {
    return this.taskQueue.undo(project, user.userId, taskId, annotationId, { admin: user.role === 'admin' });
  }

  @Post('tasks/:id/skip')
  @HttpCode(200)
  @ProjectRoute({ members: [...LABELERS.members] })
  skip(
    @ValidParam('id', z.uuid()) taskId: string,
    @ValidBody(SkipRequest) body: SkipRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
  ) {
    return this.taskQueue.skip(project, user.userId, taskId, body);
  }

  /** Keeps a lease alive; an expired lease is not revived (409 `labeling/lease_expired`). */
  @Post('tasks/:id/heartbeat')
  @HttpCode(200)
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(LeaseReply) })
  heartbeat(@ValidParam('id', z.uuid()) taskId: string, @CurrentProject() project: ProjectEntity, @CurrentUser() user: UserPrincipal): Promise<LeaseReply> {
    return this.taskQueue.heartbeat(project, user.userId, taskId);
  }

  @Get('queue')
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(QueueStats) })
  queue(@CurrentProject() project: ProjectEntity): Promise<QueueStats> {
    return this.projectOperations.queueStats(project);
  }

  /** Why the caller sees no task while the queue is not empty: each open task by the first reason it is not theirs. */
  @Get('queue/mine')
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(RaterQueue) })
  myQueue(@CurrentProject() project: ProjectEntity, @CurrentUser() user: UserPrincipal): Promise<RaterQueue> {
    return this.projectOperations.raterQueue(project, user.userId);
  }

  /** The open tasks the caller holds a lease on, the one on screen first (REST twin of `task:resume`, without moving a sitting). */
  @Get('tasks/held')
  @ProjectRoute({ members: [...LABELERS.members] })
  @ApiOkResponse({ schema: openApiSchema(HeldTasksReply) })
  held(@CurrentProject() project: ProjectEntity, @CurrentUser() user: UserPrincipal): Promise<HeldTasksReply> {
    return this.taskQueue.held(project, user.userId, { admin: user.role === 'admin' });
  }

  /** Leases the next task waiting for a reviewer. */
  @Post('review/claim')
  @HttpCode(200)
  @ProjectRoute({ members: [...REVIEWERS.members] })
  @ApiOkResponse({ schema: openApiSchema(ClaimReply) })
  claimReview(@ValidBody(ClaimRequest) _body: unknown, @CurrentProject() project: ProjectEntity, @CurrentUser() user: UserPrincipal): Promise<ClaimReply> {
    return this.taskQueue.claim(project, user.userId, 'review', Math.random, { admin: user.role === 'admin' });
  }

  /** A reviewer's final label for a task in review. */
  @Post('tasks/:id/review')
  @HttpCode(200)
  @ProjectRoute({ members: [...REVIEWERS.members] })
  review(
    @ValidParam('id', z.uuid()) taskId: string,
    @ValidBody(ReviewRequest) body: ReviewRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
  ) {
    return this.taskQueue.review(project, user.userId, taskId, body);
  }

  /** Admins: gold items (inputs with their true label), mixed into raters' streams at `labeling.goldRate`. */
  @Post('gold')
  @HttpCode(201)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(GoldReply) })
  addGold(
    @ValidBody(AddGoldRequest) body: AddGoldRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<GoldReply> {
    return this.gold.addGold(project, body, { userId: user.userId, requestId: String(request.id) });
  }

  /** Admins: predictions whose final human label becomes gold. */
  @Post('gold/promote')
  @HttpCode(201)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(GoldReply) })
  promoteGold(
    @ValidBody(PromoteGoldRequest) body: PromoteGoldRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<GoldReply> {
    return this.gold.promoteToGold(project, body, { userId: user.userId, requestId: String(request.id) });
  }

  /** Admins: each member's answers, accuracy on gold, and whether they are paused. */
  @Get('raters')
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(RaterQualityList) })
  raters(@CurrentProject() project: ProjectEntity): Promise<RaterQualityList> {
    return this.raterQuality.raterQuality(project);
  }

  /** Admins: lets a paused rater label again (their gold record starts afresh). */
  @Post('raters/:userId/resume')
  @HttpCode(204)
  @ProjectRoute()
  async resume(
    @ValidParam('userId', z.uuid()) raterId: string,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.raterQuality.resumeRater(project, raterId, { userId: user.userId, requestId: String(request.id) });
  }
}

import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FeedbackInput, FeedbackReapplyReply, FeedbackReapplyRequest, IngestQuery, IngestReply } from '@backflow/contracts';
import { CurrentUser } from '../auth/auth.decorators';
import type { UserPrincipal } from '../auth/principal';
import { VALIDATES_ITEMS } from '../common/validation/json-hazards';
import { openApiSchema, ValidBody, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { FeedbackService } from './feedback.service';

@ApiTags('capture')
@Controller('api/v1/projects/:slug/feedback')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  /** One event or an array; 201 when something was stored now, 200 when all of it was seen before. */
  @Post()
  @RouteConfig({ [VALIDATES_ITEMS]: true })
  @ProjectRoute({ apiKeyScopes: ['ingest'] })
  @ApiBody({ schema: { oneOf: [openApiSchema(FeedbackInput), { type: 'array', items: openApiSchema(FeedbackInput) }] } })
  @ApiOkResponse({ schema: openApiSchema(IngestReply) })
  async ingest(
    @Body() body: unknown,
    @ValidQuery(IngestQuery) query: { partial: 'true' | 'false' },
    @CurrentProject() project: ProjectEntity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestReply> {
    const result = await this.feedback.ingest(project, body, query.partial === 'true');
    reply.status(result.accepted ? 201 : 200);
    return result;
  }

  /**
   * Admins: the project's stored feedback decided again under its current rules, a page of
   * predictions a call (pass `nextCursor` back until it is null); running it twice labels nothing twice.
   */
  @Post('reapply')
  @HttpCode(200)
  @ProjectRoute()
  @ApiBody({ schema: openApiSchema(FeedbackReapplyRequest) })
  @ApiOkResponse({ schema: openApiSchema(FeedbackReapplyReply) })
  reapply(
    @ValidBody(FeedbackReapplyRequest) body: FeedbackReapplyRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<FeedbackReapplyReply> {
    return this.feedback.reapply(project, body, { userId: user.userId, requestId: String(request.id) });
  }
}

import { Body, Controller, Post, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { FeedbackInput, IngestQuery, IngestReply } from '@backflow/contracts';
import { VALIDATES_ITEMS } from '../common/validation/json-hazards';
import { openApiSchema, ValidQuery } from '../common/validation/zod-validation.pipe';
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
}

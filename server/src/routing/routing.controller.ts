import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RoutingBackfillReply, RoutingBackfillRequest, RoutingPreviewReply, RoutingPreviewRequest } from '@backflow/contracts';
import { CurrentUser } from '../auth/auth.decorators';
import type { UserPrincipal } from '../auth/principal';
import { openApiSchema, ValidBody } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { RoutingService } from './routing.service';

@ApiTags('routing')
@Controller('api/v1/projects/:slug/routing')
export class RoutingController {
  constructor(private readonly routing: RoutingService) {}

  /** What a candidate policy would route over the latest stored predictions, per reason and slice, and the tasks per hour to expect. */
  @Post('preview')
  @HttpCode(200)
  @ProjectRoute()
  @ApiBody({ schema: openApiSchema(RoutingPreviewRequest) })
  @ApiOkResponse({ schema: openApiSchema(RoutingPreviewReply) })
  preview(@ValidBody(RoutingPreviewRequest) body: RoutingPreviewRequest, @CurrentProject() project: ProjectEntity): Promise<RoutingPreviewReply> {
    return this.routing.preview(project, body);
  }

  /** Routes older predictions without a task under the current policy (at most 10,000 a call). */
  @Post('backfill')
  @HttpCode(200)
  @ProjectRoute()
  @ApiBody({ schema: openApiSchema(RoutingBackfillRequest) })
  @ApiOkResponse({ schema: openApiSchema(RoutingBackfillReply) })
  backfill(
    @ValidBody(RoutingBackfillRequest) body: RoutingBackfillRequest,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<RoutingBackfillReply> {
    return this.routing.backfill(project, body, { userId: user.userId, requestId: String(request.id) });
  }
}

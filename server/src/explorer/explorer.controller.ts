import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ExampleDetail, ExplorerPage, ExplorerQuery, PredictionId, RelabelRequest, SavedView, SavedViewRequest } from '@backflow/contracts';
import { z } from 'zod';
import { CurrentUser } from '../auth/auth.decorators';
import type { UserPrincipal } from '../auth/principal';
import { openApiSchema, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRole, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { ExplorerService, type Reader } from './explorer.service';

// (type aliases: a parameter typed by a schema's own name would give Swagger a zod object as its class)
type SearchQuery = z.infer<typeof ExplorerQuery>;
type RelabelBody = z.infer<typeof RelabelRequest>;
type ViewBody = z.infer<typeof SavedViewRequest>;

function readerOf(user: UserPrincipal, role: string | undefined, request: FastifyRequest): Reader {
  return { userId: user.userId, showMasked: role === 'admin', requestId: String(request.id) };
}

/** Admins and reviewers: the project's predictions, searched and opened one by one, relabeled by hand, and saved searches. */
@ApiTags('explorer')
@Controller('api/v1/projects/:slug/explorer')
export class ExplorerController {
  constructor(private readonly explorer: ExplorerService) {}

  /** A page of predictions matching the filters, in the walk's order, with a cursor to the next. */
  @Get('predictions')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(ExplorerPage) })
  search(
    @ValidQuery(ExplorerQuery) query: SearchQuery,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<ExplorerPage> {
    return this.explorer.search(project, query, readerOf(user, role, request));
  }

  /** One prediction with its feedback, task, every answer, its labels (history included) and the spans that exported them. */
  @Get('predictions/:id')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(ExampleDetail) })
  example(
    @ValidParam('id', PredictionId) id: string,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<ExampleDetail> {
    return this.explorer.example(project, id, readerOf(user, role, request));
  }

  /** Relabels the prediction by hand: its label becomes this one (source review), with who, when and why kept. */
  @Post('predictions/:id/label')
  @HttpCode(200)
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(ExampleDetail) })
  relabel(
    @ValidParam('id', PredictionId) id: string,
    @ValidBody(RelabelRequest) body: RelabelBody,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<ExampleDetail> {
    return this.explorer.relabel(project, id, body, readerOf(user, role, request));
  }

  @Get('views')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(z.array(SavedView)) })
  views(@CurrentProject() project: ProjectEntity): Promise<SavedView[]> {
    return this.explorer.views(project);
  }

  @Post('views')
  @HttpCode(200)
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(SavedView) })
  saveView(
    @ValidBody(SavedViewRequest) body: ViewBody,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<SavedView> {
    return this.explorer.saveView(project, body, readerOf(user, role, request));
  }

  @Delete('views/:id')
  @HttpCode(204)
  @ProjectRoute({ members: ['reviewer'] })
  async deleteView(@Param('id') id: string, @CurrentProject() project: ProjectEntity): Promise<void> {
    await this.explorer.deleteView(project, id);
  }
}

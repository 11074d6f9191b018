import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { IngestQuery, PredictionIngestReply, PredictionInput, SinglePredictionReply } from '@backflow/contracts';
import { VALIDATES_ITEMS } from '../common/validation/json-hazards';
import { openApiSchema, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { PredictionsService } from './predictions.service';

@ApiTags('capture')
@Controller('api/v1/projects/:slug/predictions')
export class PredictionsController {
  constructor(private readonly predictions: PredictionsService) {}

  /** One prediction; 201 when stored now, 200 when its id was seen before. */
  @Post()
  @RouteConfig({ [VALIDATES_ITEMS]: true })
  @ProjectRoute({ apiKeyScopes: ['ingest'] })
  @ApiBody({ schema: openApiSchema(PredictionInput) })
  @ApiOkResponse({ schema: openApiSchema(SinglePredictionReply) })
  async ingestOne(
    @Body() body: unknown,
    @CurrentProject() project: ProjectEntity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SinglePredictionReply> {
    const result = await this.predictions.ingestOne(project, body);
    reply.status(result.accepted ? 201 : 200);
    return result;
  }

  /** A JSON array (all-or-nothing unless ?partial=true), or a stream with Content-Type application/x-ndjson. */
  @Post('batch')
  @HttpCode(200)
  @RouteConfig({ [VALIDATES_ITEMS]: true })
  @ProjectRoute({ apiKeyScopes: ['ingest'] })
  @ApiConsumes('application/json', 'application/x-ndjson')
  @ApiBody({
    schema: { type: 'array', items: openApiSchema(PredictionInput) },
    description: 'a JSON array, or one prediction per line as application/x-ndjson',
  })
  @ApiOkResponse({ schema: openApiSchema(PredictionIngestReply) })
  async ingestBatch(
    @Body() body: unknown,
    @ValidQuery(IngestQuery) query: { partial: 'true' | 'false' },
    @CurrentProject() project: ProjectEntity,
    @Req() request: FastifyRequest,
  ): Promise<PredictionIngestReply> {
    const partial = query.partial === 'true';
    if (body instanceof Readable || request.headers['content-type']?.startsWith('application/x-ndjson')) {
      return this.predictions.ingestStream(project, body as Readable, partial);
    }
    return this.predictions.ingestBatch(project, body, partial);
  }
}

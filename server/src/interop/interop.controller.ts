import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  KserveEventReply,
  KserveStatusReply,
  LabelStudioExportQuery,
  LabelStudioImportReply,
  LabelStudioTask,
  SeldonFeedback,
  SeldonFeedbackReply,
} from '@backflow/contracts';
import { CurrentUser, LargeBody } from '../auth/auth.decorators';
import type { UserPrincipal } from '../auth/principal';
import { openApiSchema, ValidBody, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';
import { KserveService, loggerEventOf } from './kserve.service';
import { LabelStudioService } from './label-studio.service';
import { SeldonService } from './seldon.service';

/** A CloudEvent's attributes and data: binary mode (ce-* headers, the body is the data) or structured (one JSON document). */
function cloudEventOf(request: FastifyRequest, body: unknown): { attributes: Record<string, unknown>; data: unknown } {
  const structured = request.headers['content-type']?.startsWith('application/cloudevents+json');
  if (structured) {
    if (!isObject(body)) throw InteropErrors.invalidPayload('body', 'a structured CloudEvent is a JSON object');
    const { data, data_base64: _binary, ...attributes } = body;
    return { attributes, data };
  }
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') attributes[name.slice(3)] = value;
  }
  return { attributes, data: body };
}

@ApiTags('integrations')
@Controller('api/v1/projects/:slug')
export class InteropController {
  constructor(
    private readonly kserve: KserveService,
    private readonly seldon: SeldonService,
    private readonly labelStudio: LabelStudioService,
  ) {}

  /**
   * KServe's (or Seldon's) inference logger sink: one CloudEvent per request or response, in
   * any order, any number of times. 202 while the other half is awaited, 201 when the pair
   * made its predictions, 200 for a duplicate.
   */
  @Post('integrations/kserve')
  @ProjectRoute({ apiKeyScopes: ['ingest'] })
  @ApiHeader({ name: 'ce-id', required: true, description: 'the inference request id: request and response share it (KServe)' })
  @ApiHeader({ name: 'ce-requestid', required: false, description: "Seldon's request id (puid): pairs its request and response, whose ce-ids differ" })
  @ApiHeader({ name: 'ce-type', required: true, description: 'ending in inference.request or inference.response' })
  @ApiBody({
    schema: {
      type: 'object',
      description:
        'V1 {"instances": […]} / {"predictions": […]}, V2 {"inputs": […]} / {"outputs": […]}, or a Seldon Core SeldonMessage {"data": {"names", "ndarray" | "tensor"}} / {"strData"} / {"jsonData"}',
    },
  })
  @ApiOkResponse({ schema: openApiSchema(KserveEventReply) })
  async kserveEvent(
    @Body() body: unknown,
    @CurrentProject() project: ProjectEntity,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<KserveEventReply> {
    const event = cloudEventOf(request, body);
    const result = await this.kserve.receive(project, loggerEventOf(event.attributes), event.data);
    reply.status(result.state === 'pending' ? 202 : result.state === 'paired' && result.accepted ? 201 : 200);
    return result;
  }

  /** The sink's state: halves awaiting their pair, pairs made in the last day, halves that expired unpaired. */
  @Get('integrations/kserve')
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(KserveStatusReply) })
  kserveStatus(@CurrentProject() project: ProjectEntity): Promise<KserveStatusReply> {
    return this.kserve.status(project);
  }

  /** Seldon Core's feedback message ({request, response, reward, truth}); the prediction is the response's meta.puid. */
  @Post('integrations/seldon/feedback')
  @ProjectRoute({ apiKeyScopes: ['ingest'] })
  @ApiOkResponse({ schema: openApiSchema(SeldonFeedbackReply) })
  async seldonFeedback(
    @ValidBody(SeldonFeedback) body: SeldonFeedback,
    @CurrentProject() project: ProjectEntity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SeldonFeedbackReply> {
    const result = await this.seldon.receive(project, body);
    reply.status(result.accepted ? 201 : 200);
    return result;
  }

  /** The same, at Seldon's own path under a base URL, for clients that append /api/v1.0/feedback. */
  @Post('integrations/seldon/api/v1.0/feedback')
  @ProjectRoute({ apiKeyScopes: ['ingest'] })
  @ApiOkResponse({ schema: openApiSchema(SeldonFeedbackReply) })
  seldonFeedbackAtSeldonPath(
    @ValidBody(SeldonFeedback) body: SeldonFeedback,
    @CurrentProject() project: ProjectEntity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SeldonFeedbackReply> {
    return this.seldonFeedback(body, project, reply);
  }

  /** Admins: a Label Studio JSON export (a list of tasks), all or nothing. */
  @Post('import/label-studio')
  @LargeBody()
  @HttpCode(201)
  @ProjectRoute()
  @ApiBody({ schema: { type: 'array', items: openApiSchema(LabelStudioTask) } })
  @ApiOkResponse({ schema: openApiSchema(LabelStudioImportReply) })
  importLabelStudio(
    @Body() body: unknown,
    @CurrentProject() project: ProjectEntity,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<LabelStudioImportReply> {
    return this.labelStudio.import(project, body, { userId: user.userId, requestId: String(request.id) });
  }

  /** Admins: the Label Studio labeling config that shows the exported tasks (XML: paste it in the project's Labeling Interface). */
  @Get('export/label-studio/config')
  @ProjectRoute()
  @ApiProduces('application/xml')
  @ApiOkResponse({ schema: { type: 'string', description: "a <View> of the project's questions, each named as the export names its results" } })
  async labelStudioConfig(@CurrentProject() project: ProjectEntity, @Res() reply: FastifyReply): Promise<void> {
    await reply
      .header('content-type', 'application/xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="${project.slug}-label-studio.xml"`)
      .send(this.labelStudio.labelingConfig(project));
  }

  /** Admins: the project in Label Studio's JSON format, one task per prediction, streamed. */
  @Get('export/label-studio')
  @ProjectRoute()
  @ApiOkResponse({ schema: { type: 'array', items: openApiSchema(LabelStudioTask) } })
  async exportLabelStudio(
    @ValidQuery(LabelStudioExportQuery) query: { labeled: 'true' | 'false'; masked: 'omit' | 'include' },
    @CurrentProject() project: ProjectEntity,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    this.labelStudio.assertExchangeable(project);
    const tasks = this.labelStudio.export(project, { labeledOnly: query.labeled === 'true', includeMasked: query.masked === 'include' });
    await reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${project.slug}-label-studio.json"`)
      .send(Readable.from(tasks));
  }
}

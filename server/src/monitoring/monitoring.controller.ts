import { Controller, Get, Headers, HttpCode, Post, Put, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { encodeAnomalies, encodeStatistics, printAnomalies, printStatistics } from '@backflow/tfmd';
import {
  BaselineStatisticsReply,
  BaselineStatisticsRequest,
  ClickQuery,
  ClickReport,
  EvaluateReply,
  FeedbackSignals,
  FeedbackSignalsQuery,
  FeatureSchemaReply,
  FeatureSchemaRequest,
  FeatureSkewReport,
  MonitoringQuery,
  MonitoringReply,
  PreferenceQuery,
  PreferenceReport,
  TrainingExamplesQuery,
  WindowArtifactQuery,
} from '@backflow/contracts';
import { QuestionName } from '@backflow/questions';
import { LargeBody } from '../auth/auth.decorators';
import { FileBody, openApiSchema, ValidBodyOrFile, ValidParam, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRole, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { DomainError } from '../common/errors';
import { MonitoringService } from './monitoring.service';

@ApiTags('monitoring')
@Controller('api/v1/projects/:slug/monitoring')
export class MonitoringController {
  constructor(private readonly monitoring: MonitoringService) {}

  /** Admins and reviewers: accuracy per model version × slice over time, drift per feature, anomalies, alerts and boosts. */
  @Get()
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(MonitoringReply) })
  read(@ValidQuery(MonitoringQuery) query: { hours: number }, @CurrentProject() project: ProjectEntity, @ProjectRole() role: string): Promise<MonitoringReply> {
    return this.monitoring.monitoring(project, query.hours, { showMasked: role === 'admin' });
  }

  /**
   * Admins and reviewers: the current window's statistics as TFDV computes them, a
   * DatasetFeatureStatisticsList of one dataset ("serving"), for `tfdv.visualize_statistics`
   * beside the training statistics. JSON, or `application/x-protobuf` (binary) or
   * `text/x-protobuf` (text format) by `format` or the Accept header.
   */
  @Get('statistics')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiProduces('application/json', 'application/x-protobuf', 'text/x-protobuf')
  async statistics(
    @ValidQuery(WindowArtifactQuery) query: { format?: ArtifactFormat },
    @Headers('accept') accept: string | undefined,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { statistics } = await this.monitoring.windowArtifacts(project, { showMasked: role === 'admin' });
    await sendArtifact(reply, formatOf(query, accept), statistics, encodeStatistics, printStatistics, `${project.slug}-serving-statistics`);
  }

  /**
   * Admins and reviewers: the current window validated as `tfdv.validate_statistics` does, an
   * Anomalies proto: the schema's checks (schema skew against a training schema), its drift
   * comparators against the reference window and its skew comparators with the training statistics.
   * JSON, binary or text format, as for the statistics.
   */
  @Get('anomalies')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiProduces('application/json', 'application/x-protobuf', 'text/x-protobuf')
  async anomalies(
    @ValidQuery(WindowArtifactQuery) query: { format?: ArtifactFormat },
    @Headers('accept') accept: string | undefined,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { anomalies } = await this.monitoring.windowArtifacts(project, { showMasked: role === 'admin' });
    await sendArtifact(reply, formatOf(query, accept), anomalies, encodeAnomalies, printAnomalies, `${project.slug}-serving-anomalies`);
  }

  /**
   * Admins: feature skew. Training examples (TFRecord of tf.Example, GZIP or not, as ExampleGen
   * wrote them, or JSON Lines), each holding its prediction's id (`identifier`, prediction_id as
   * a Backflow export names it), are joined with those predictions and compared feature by
   * feature, as TFDV's feature skew detector does. The report is kept and alerted on.
   */
  @Put('training-examples')
  @LargeBody()
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(FeatureSkewReport) })
  uploadTrainingExamples(
    @ValidQuery(TrainingExamplesQuery) query: { identifier: string; ignore?: string; floatRoundDigits?: number },
    @FileBody('monitoring/invalid_training_examples', 'TFRecord of tf.Example (GZIP or not) or JSON Lines, as application/octet-stream') body: Buffer,
    @CurrentProject() project: ProjectEntity,
  ): Promise<FeatureSkewReport> {
    return this.monitoring.uploadTrainingExamples(project, body, query);
  }

  /** Admins and reviewers, a ranking project: click-through per position and slice, the examination probability per position, and each slice's degradation. */
  @Get('clicks')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(ClickReport) })
  clicks(@ValidQuery(ClickQuery) query: { days: number; bucket: 'hour' | 'day' }, @CurrentProject() project: ProjectEntity): Promise<ClickReport> {
    return this.monitoring.clicks(project, query);
  }

  /** Admins and reviewers: per model version, the share of predictions that met each kind of implicit feedback, and how far users' edits moved the text. */
  @Get('feedback')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(FeedbackSignals) })
  feedback(@ValidQuery(FeedbackSignalsQuery) query: { days: number }, @CurrentProject() project: ProjectEntity): Promise<FeedbackSignals> {
    return this.monitoring.feedbackSignals(project, query);
  }

  /** Admins and reviewers: raters' preferences between responses as Bradley–Terry strengths of the model versions, and the newest version against the champion. */
  @Get('preferences/:question')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(PreferenceReport) })
  preferences(
    @ValidParam('question', QuestionName) question: string,
    @ValidQuery(PreferenceQuery) query: { days: number; champion?: string; slice?: string },
    @CurrentProject() project: ProjectEntity,
  ): Promise<PreferenceReport> {
    return this.monitoring.preferences(project, question, query);
  }

  /** Admins: judge the current window now (a job does it every five minutes). */
  @Post('evaluate')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(EvaluateReply) })
  evaluate(@CurrentProject() project: ProjectEntity): Promise<EvaluateReply> {
    return this.monitoring.evaluate(project);
  }

  /**
   * Admins: per-feature statistics of the training data (histograms, value counts); drift is then
   * measured against them. JSON, or TFDV's statistics as the pipeline wrote them: StatisticsGen's
   * FeatureStats.pb (`application/x-protobuf`) or `tfdv.write_stats_text`'s text (`text/x-protobuf`).
   */
  @Put('baseline')
  @LargeBody()
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(BaselineStatisticsReply) })
  uploadBaseline(
    @ValidBodyOrFile(BaselineStatisticsRequest, "JSON, or a DatasetFeatureStatisticsList: StatisticsGen's FeatureStats.pb or TFDV's text format")
    body: BaselineStatisticsRequest | Buffer,
    @CurrentProject() project: ProjectEntity,
  ): Promise<BaselineStatisticsReply> {
    return this.monitoring.uploadBaseline(project, body);
  }

  /**
   * Admins and reviewers: the schema predictions are validated against. JSON; or, asked for
   * `text/x-protobuf` (Accept or `format=text`), TFDV's schema.pbtxt: the uploaded one whole, else
   * the monitoring schema's.
   */
  @Get('schema')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiProduces('application/json', 'text/x-protobuf')
  @ApiOkResponse({ schema: openApiSchema(FeatureSchemaReply) })
  async schema(
    @ValidQuery(WindowArtifactQuery) query: { format?: ArtifactFormat },
    @Headers('accept') accept: string | undefined,
    @CurrentProject() project: ProjectEntity,
    @ProjectRole() role: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const showMasked = role === 'admin';
    const format = formatOf(query, accept);
    if (format === 'text') {
      await reply
        .header('content-type', 'text/x-protobuf; charset=utf-8')
        .header('content-disposition', `inline; filename="schema.pbtxt"`)
        .send(await this.monitoring.schemaText(project, { showMasked }));
      return;
    }
    if (format === 'binary')
      throw new DomainError('monitoring/unsupported_format', 'format: the schema is given as JSON or as text format (schema.pbtxt)', 406, 'format');
    await reply.header('content-type', 'application/json; charset=utf-8').send(await this.monitoring.schema(project, { showMasked }));
  }

  /**
   * Admins: the feature schema predictions are validated against (replaces the one inferred from
   * traffic): JSON, or the pipeline's schema.pbtxt (`text/x-protobuf`), kept whole for the exports and the comparators.
   */
  @Put('schema')
  @LargeBody()
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(FeatureSchemaReply) })
  uploadSchema(
    @ValidBodyOrFile(FeatureSchemaRequest, "JSON, or SchemaGen's / TFDV's schema.pbtxt (protobuf text format)") body: FeatureSchemaRequest | Buffer,
    @CurrentProject() project: ProjectEntity,
  ): Promise<FeatureSchemaReply> {
    return this.monitoring.uploadSchema(project, body);
  }
}

type ArtifactFormat = 'json' | 'binary' | 'text';

/** `format` when given, else the first of the Accept header's types Backflow gives (JSON when none). */
function formatOf(query: { format?: ArtifactFormat }, accept: string | undefined): ArtifactFormat {
  if (query.format) return query.format;
  for (const type of (accept ?? '').split(',').map((t) => t.split(';')[0].trim().toLowerCase())) {
    if (type === 'application/x-protobuf' || type === 'application/octet-stream') return 'binary';
    if (type === 'text/x-protobuf' || type === 'application/x-protobuf-text' || type === 'text/plain') return 'text';
    if (type === 'application/json') return 'json';
  }
  return 'json';
}

async function sendArtifact<M extends object>(
  reply: FastifyReply,
  format: ArtifactFormat,
  message: M,
  encode: (message: M) => Uint8Array,
  print: (message: M) => string,
  name: string,
): Promise<void> {
  if (format === 'binary')
    await reply
      .header('content-type', 'application/x-protobuf')
      .header('content-disposition', `attachment; filename="${name}.pb"`)
      .send(Buffer.from(encode(message)));
  else if (format === 'text')
    await reply.header('content-type', 'text/x-protobuf; charset=utf-8').header('content-disposition', `inline; filename="${name}.pbtxt"`).send(print(message));
  else await reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(message));
}

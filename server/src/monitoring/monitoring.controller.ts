import { Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
  MonitoringQuery,
  MonitoringReply,
  PreferenceQuery,
  PreferenceReport,
} from '@backflow/contracts';
import { QuestionName } from '@backflow/questions';
import { LargeBody } from '../auth/auth.decorators';
import { openApiSchema, ValidBodyOrFile, ValidParam, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRole, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { MonitoringService } from './monitoring.service';

@ApiTags('monitoring')
@Controller('api/v1/projects/:slug/monitoring')
export class MonitoringController {
  constructor(private readonly monitoring: MonitoringService) {}

  /** Admins and reviewers: accuracy per model version × slice over time, drift per feature, anomalies, alerts and boosts. */
  @Get()
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(MonitoringReply) })
  read(@ValidQuery(MonitoringQuery) query: { hours: number }, @CurrentProject() project: ProjectEntity): Promise<MonitoringReply> {
    return this.monitoring.monitoring(project, query.hours);
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

  @Get('schema')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(FeatureSchemaReply) })
  schema(@CurrentProject() project: ProjectEntity, @ProjectRole() role: string): Promise<FeatureSchemaReply> {
    return this.monitoring.schema(project, { showMasked: role === 'admin' });
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

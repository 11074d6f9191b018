import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { QualityQuery, QualityReply, qualityWindow, ReestimateReply } from '@backflow/contracts';
import { QualityErrors } from './quality.errors';
import { openApiSchema, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { QualityService } from './quality.service';

@ApiTags('quality')
@Controller('api/v1/projects/:slug')
export class QualityController {
  constructor(private readonly quality: QualityService) {}

  /** Admins and reviewers: agreement between raters (κ, α), their confusion, and each rater's reliability, over `days` back from now or from/to. */
  @Get('quality')
  @ProjectRoute({ members: ['reviewer'] })
  @ApiOkResponse({ schema: openApiSchema(QualityReply) })
  read(@ValidQuery(QualityQuery) query: { days?: number; from?: string; to?: string }, @CurrentProject() project: ProjectEntity): Promise<QualityReply> {
    return this.quality.quality(project, qualityWindow(query));
  }

  /** Admins: re-decide the labels of a Dawid-Skene project now (a job does it every ten minutes). */
  @Post('quality/reestimate')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(ReestimateReply) })
  reestimate(@CurrentProject() project: ProjectEntity): Promise<ReestimateReply> {
    if ((project.labelingSettings.consensus ?? 'majority') !== 'dawid_skene') throw QualityErrors.notDawidSkene(project.slug);
    return this.quality.reestimate(project);
  }
}

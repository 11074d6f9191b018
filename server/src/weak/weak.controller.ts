import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  LabelingFunctionPreviewReply,
  LabelingFunctionPreviewRequest,
  WeakSupervisionAnalysis,
  WeakSupervisionQuery,
  WeakLabelReply,
  weakSupervisionIssues,
} from '@backflow/contracts';
import { ValidationError } from '../common/errors';
import { openApiSchema, ValidBody, ValidQuery } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { routingQuestion } from '../projects/project-questions';
import { unsafePatternIssue, weakSupervisionOf } from '../projects/projects.service';
import { WeakService } from './weak.service';

@ApiTags('weak supervision')
@Controller('api/v1/projects/:slug/weak-supervision')
export class WeakController {
  constructor(private readonly weak: WeakService) {}

  /** Admins: each labeling function's (and feedback rule's) coverage, overlaps, conflicts and accuracy over the newest predictions, and the label model. */
  @Get('analysis')
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(WeakSupervisionAnalysis) })
  analysis(@ValidQuery(WeakSupervisionQuery) query: { limit: number }, @CurrentProject() project: ProjectEntity): Promise<WeakSupervisionAnalysis> {
    return this.weak.analysis(project, query.limit);
  }

  /** Admins: write the label model's (and propagation's) labels now on predictions received since the last pass (a job does it every minute). */
  @Post('label')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(WeakLabelReply) })
  label(@CurrentProject() project: ProjectEntity): Promise<WeakLabelReply> {
    const settings = weakSupervisionOf(project);
    if (!settings.weakLabels && !settings.propagation && settings.routeBelow === undefined)
      throw new ValidationError(
        'weakSupervision.weakLabels: set it (or propagation, or routeBelow) for the pass to have something to do',
        'weakSupervision.weakLabels',
      );
    // asked for now: everything received so far, not only what has settled
    return this.weak.labelNew(project, { settleMs: 0 });
  }

  /** Admins: what a function would vote over the newest predictions before it is saved (nothing is written). */
  @Post('preview')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(LabelingFunctionPreviewReply) })
  preview(
    @ValidBody(LabelingFunctionPreviewRequest) body: LabelingFunctionPreviewRequest,
    @CurrentProject() project: ProjectEntity,
  ): Promise<LabelingFunctionPreviewReply> {
    const [issue] = weakSupervisionIssues(routingQuestion(project), { functions: [body.function], routeConflicts: false });
    if (issue) {
      const field = ['function', ...issue.path.slice(3)].join('.');
      throw new ValidationError(`${field}: ${issue.message}`, field);
    }
    const unsafe = unsafePatternIssue([body.function], () => 'function');
    if (unsafe) throw unsafe;
    return this.weak.preview(project, body.function, body.limit);
  }
}

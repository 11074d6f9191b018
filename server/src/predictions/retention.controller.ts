import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RestoreReply, RestoreRequest, RetentionReply, RetentionRunRequest } from '@backflow/contracts';
import { DomainError } from '../common/errors';
import { openApiSchema, ValidBody } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { RetentionService } from './retention.service';

@ApiTags('capture')
@Controller('api/v1/projects/:slug/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  /** Admins: remove (and archive, when set) the predictions past the project's retention now, or as of an earlier time; the hourly job does the same. */
  @Post('run')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(RetentionReply) })
  run(@ValidBody(RetentionRunRequest) body: { asOf?: string }, @CurrentProject() project: ProjectEntity): Promise<RetentionReply> {
    const now = new Date();
    const asOf = body.asOf ? new Date(body.asOf) : now;
    if (asOf > now) throw new DomainError('retention/as_of_in_future', 'asOf: at most now (retention never removes what its policy keeps)', 400, 'asOf');
    return this.retention.run(project, asOf);
  }

  /** Admins: read archived predictions back (days from `from` to `to`), store them again and route them under the current policy, as a backfill. */
  @Post('restore')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(RestoreReply) })
  restore(@ValidBody(RestoreRequest) body: { from: string; to: string }, @CurrentProject() project: ProjectEntity): Promise<RestoreReply> {
    return this.retention.restore(project, body.from, body.to);
  }
}

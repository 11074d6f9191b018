import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RetentionReply } from '@backflow/contracts';
import { openApiSchema } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { RetentionService } from './retention.service';

@ApiTags('capture')
@Controller('api/v1/projects/:slug/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  /** Admins: remove (and archive, when set) the predictions past the project's retention now; the hourly job does the same. */
  @Post('run')
  @HttpCode(200)
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(RetentionReply) })
  run(@CurrentProject() project: ProjectEntity): Promise<RetentionReply> {
    return this.retention.run(project);
  }
}

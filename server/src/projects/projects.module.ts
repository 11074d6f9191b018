import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectAccess } from './project-access';
import { RequestAccess } from './project-access.guard';
import { ProjectsController } from './projects.controller';
import { ProjectsService } from './projects.service';

@Module({
  imports: [AuthModule],
  controllers: [ProjectsController],
  providers: [ProjectsService, ProjectAccess, RequestAccess],
  exports: [ProjectsService, ProjectAccess, RequestAccess],
})
export class ProjectsModule {}

import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RequestAccess } from './project-access.guard';
import { ProjectsController } from './projects.controller';
import { ProjectsService } from './projects.service';

@Module({
  imports: [AuthModule],
  controllers: [ProjectsController],
  providers: [ProjectsService, RequestAccess],
  exports: [ProjectsService, RequestAccess],
})
export class ProjectsModule {}

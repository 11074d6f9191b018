import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelingModule } from '../labeling/labeling.module';
import { ProjectsModule } from '../projects/projects.module';
import { RoutingController } from './routing.controller';
import { RoutingRepository } from './routing.repository';
import { RoutingService } from './routing.service';

@Module({
  imports: [AuthModule, ProjectsModule, LabelingModule],
  controllers: [RoutingController],
  providers: [RoutingService, RoutingRepository],
  exports: [RoutingService],
})
export class RoutingModule {}

import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelsModule } from '../labels/labels.module';
import { ProjectsModule } from '../projects/projects.module';
import { LabelingController } from './labeling.controller';
import { LabelingRepository } from './labeling.repository';
import { LabelingService } from './labeling.service';

@Module({
  imports: [AuthModule, ProjectsModule, LabelsModule],
  controllers: [LabelingController],
  providers: [LabelingService, LabelingRepository],
  exports: [LabelingService],
})
export class LabelingModule {}

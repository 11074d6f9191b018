import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelsModule } from '../labels/labels.module';
import { ProjectsModule } from '../projects/projects.module';
import { GoldRepository } from './gold.repository';
import { GoldService } from './gold.service';
import { LabelingController } from './labeling.controller';
import { LabelingService } from './labeling.service';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';
import { RaterQualityRepository } from './rater-quality.repository';
import { RaterQualityService } from './rater-quality.service';
import { TaskIntakeRepository } from './task-intake.repository';
import { TaskQueueRepository } from './task-queue.repository';
import { TaskQueueService } from './task-queue.service';

@Module({
  imports: [AuthModule, ProjectsModule, LabelsModule],
  controllers: [LabelingController],
  providers: [
    LabelingService,
    TaskIntakeRepository,
    TaskQueueService,
    TaskQueueRepository,
    GoldService,
    GoldRepository,
    RaterQualityService,
    RaterQualityRepository,
    OperationsService,
    OperationsRepository,
  ],
  // routing and imports bring tasks in (LabelingService); the realtime gateway serves raters (TaskQueueService, OperationsService)
  exports: [LabelingService, TaskQueueService, OperationsService],
})
export class LabelingModule {}

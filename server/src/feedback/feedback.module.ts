import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelsModule } from '../labels/labels.module';
import { PredictionsModule } from '../predictions/predictions.module';
import { ProjectsModule } from '../projects/projects.module';
import { RoutingModule } from '../routing/routing.module';
import { FeedbackController } from './feedback.controller';
import { FeedbackRepository } from './feedback.repository';
import { FeedbackService } from './feedback.service';
import { FeedbackPartitions } from './feedback-partitions';

@Module({
  imports: [AuthModule, ProjectsModule, PredictionsModule, LabelsModule, RoutingModule],
  controllers: [FeedbackController],
  providers: [FeedbackService, FeedbackRepository, FeedbackPartitions],
  exports: [FeedbackService],
})
export class FeedbackModule {}

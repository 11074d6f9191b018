import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectsModule } from '../projects/projects.module';
import { RoutingModule } from '../routing/routing.module';
import { PredictionsController } from './predictions.controller';
import { PredictionsRepository } from './predictions.repository';
import { PredictionPartitions } from './prediction-partitions';
import { PredictionsService } from './predictions.service';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';
import { PredictionRollups } from './prediction-rollups';

@Module({
  imports: [AuthModule, ProjectsModule, RoutingModule],
  controllers: [PredictionsController, RetentionController],
  providers: [PredictionsService, PredictionsRepository, PredictionPartitions, PredictionRollups, RetentionService],
  exports: [PredictionsService, PredictionPartitions],
})
export class PredictionsModule {}

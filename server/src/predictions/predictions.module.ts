import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectsModule } from '../projects/projects.module';
import { RoutingModule } from '../routing/routing.module';
import { PredictionsController } from './predictions.controller';
import { PredictionsRepository } from './predictions.repository';
import { PredictionsService } from './predictions.service';

@Module({
  imports: [AuthModule, ProjectsModule, RoutingModule],
  controllers: [PredictionsController],
  providers: [PredictionsService, PredictionsRepository],
  exports: [PredictionsService],
})
export class PredictionsModule {}

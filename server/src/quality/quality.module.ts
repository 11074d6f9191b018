import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectsModule } from '../projects/projects.module';
import { QualityController } from './quality.controller';
import { QualityRepository } from './quality.repository';
import { QualityService } from './quality.service';

@Module({
  imports: [AuthModule, ProjectsModule],
  controllers: [QualityController],
  providers: [QualityService, QualityRepository],
  exports: [QualityService],
})
export class QualityModule {}

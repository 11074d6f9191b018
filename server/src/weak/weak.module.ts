import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelsModule } from '../labels/labels.module';
import { ProjectsModule } from '../projects/projects.module';
import { WeakController } from './weak.controller';
import { WeakRepository } from './weak.repository';
import { WeakService } from './weak.service';

/** Weak supervision: labeling functions over traffic, their label model and their analysis. */
@Module({
  imports: [AuthModule, ProjectsModule, LabelsModule],
  controllers: [WeakController],
  providers: [WeakService, WeakRepository],
  exports: [WeakService],
})
export class WeakModule {}

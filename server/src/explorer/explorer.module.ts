import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelsModule } from '../labels/labels.module';
import { ProjectsModule } from '../projects/projects.module';
import { ExplorerController } from './explorer.controller';
import { ExplorerRepository } from './explorer.repository';
import { ExplorerService } from './explorer.service';

/** The data explorer: search a project's predictions, open one with everything that happened to it, relabel by hand, save views. */
@Module({
  imports: [AuthModule, ProjectsModule, LabelsModule],
  controllers: [ExplorerController],
  providers: [ExplorerService, ExplorerRepository],
  exports: [ExplorerService],
})
export class ExplorerModule {}

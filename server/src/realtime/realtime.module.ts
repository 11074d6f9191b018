import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelingModule } from '../labeling/labeling.module';
import { ProjectsModule } from '../projects/projects.module';
import { LabelingGateway } from './labeling.gateway';

@Module({ imports: [AuthModule, ProjectsModule, LabelingModule], providers: [LabelingGateway] })
export class RealtimeModule {}

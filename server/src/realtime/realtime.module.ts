import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LabelingModule } from '../labeling/labeling.module';
import { ProjectsModule } from '../projects/projects.module';
import { LabelingGateway } from './labeling.gateway';
import { LeaseTimers } from './lease-timers';
import { SocketAccess } from './socket-access';
import { TaskPushes } from './task-pushes';

@Module({ imports: [AuthModule, ProjectsModule, LabelingModule], providers: [LabelingGateway, SocketAccess, TaskPushes, LeaseTimers] })
export class RealtimeModule {}

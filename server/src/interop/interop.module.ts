import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuditModule } from '../common/audit/audit.module';
import { FeedbackModule } from '../feedback/feedback.module';
import { LabelingModule } from '../labeling/labeling.module';
import { LabelsModule } from '../labels/labels.module';
import { PredictionsModule } from '../predictions/predictions.module';
import { ProjectsModule } from '../projects/projects.module';
import { InteropController } from './interop.controller';
import { KserveRepository } from './kserve.repository';
import { KserveService } from './kserve.service';
import { LabelStudioRepository } from './label-studio.repository';
import { LabelStudioService } from './label-studio.service';
import { SeldonService } from './seldon.service';

/** Model servers and labeling tools as they are: KServe's inference logger, Seldon's feedback, Label Studio's JSON. */
@Module({
  imports: [AuthModule, AuditModule, ProjectsModule, PredictionsModule, FeedbackModule, LabelingModule, LabelsModule],
  controllers: [InteropController],
  providers: [KserveService, KserveRepository, SeldonService, LabelStudioService, LabelStudioRepository],
  exports: [KserveService],
})
export class InteropModule {}

import { Module } from '@nestjs/common';
import { LabelingRepository } from './labeling.repository';
import { LabelingService } from './labeling.service';

@Module({ providers: [LabelingService, LabelingRepository], exports: [LabelingService] })
export class LabelingModule {}

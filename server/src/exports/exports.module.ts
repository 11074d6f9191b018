import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectsModule } from '../projects/projects.module';
import { ExportsController } from './exports.controller';
import { ExportsRepository } from './exports.repository';
import { ExportsService } from './exports.service';
import { SpanWebhooks } from './span-webhooks';
import { VersionWriter } from './version-writer';

@Module({
  imports: [AuthModule, ProjectsModule],
  controllers: [ExportsController],
  providers: [ExportsService, ExportsRepository, VersionWriter, SpanWebhooks],
  exports: [ExportsService],
})
export class ExportsModule {}

import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuthModule } from './auth/auth.module';
import { AuditModule } from './common/audit/audit.module';
import { AccessRevocationsModule } from './common/cache/access-revocations';
import { CacheInvalidationModule } from './common/cache/cache-invalidation';
import { DomainEventsModule } from './common/events/domain-events';
import { TransactionEventsModule } from './common/events/transaction-events';
import { JobsModule } from './common/jobs/jobs.service';
import { StorageModule } from './common/storage/storage.module';
import { FeedbackModule } from './feedback/feedback.module';
import { LabelsModule } from './labels/labels.module';
import { PredictionsModule } from './predictions/predictions.module';
import { LOGGER } from './common/logging/logger';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { HealthController } from './health/health.controller';
import { METRICS, Metrics } from './common/metrics/metrics';
import { MetricsController } from './health/metrics.controller';
import { ProjectsModule } from './projects/projects.module';
import { LabelingModule } from './labeling/labeling.module';
import { RoutingModule } from './routing/routing.module';
import { RealtimeModule } from './realtime/realtime.module';
import { ExportsModule } from './exports/exports.module';
import { QualityModule } from './quality/quality.module';
import { WeakModule } from './weak/weak.module';
import { ExplorerModule } from './explorer/explorer.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { InteropModule } from './interop/interop.module';

export interface AppContext {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  /** opened and migrated before Nest starts, so every provider sees a ready schema */
  dataSource: DataSource;
  databaseUrl: string;
  /** run scheduled jobs in this process (not in the CLI) */
  jobs: boolean;
}

@Global()
@Module({})
class CoreModule {
  static forRoot(context: AppContext): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: context.config },
      { provide: LOGGER, useValue: context.logger },
      { provide: METRICS, useValue: context.metrics },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}

@Module({})
export class AppModule {
  static forRoot(context: AppContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(context),
        TypeOrmModule.forRootAsync({
          useFactory: () => context.dataSource.options,
          dataSourceFactory: () => Promise.resolve(context.dataSource),
        }),
        DomainEventsModule,
        TransactionEventsModule,
        CacheInvalidationModule.forRoot(context.databaseUrl),
        AccessRevocationsModule,
        JobsModule.forRoot({ databaseUrl: context.databaseUrl, enabled: context.jobs }),
        AuditModule,
        StorageModule,
        AuthModule,
        ProjectsModule,
        LabelsModule,
        LabelingModule,
        RoutingModule,
        PredictionsModule,
        FeedbackModule,
        RealtimeModule,
        ExportsModule,
        QualityModule,
        WeakModule,
        ExplorerModule,
        MonitoringModule,
        InteropModule,
      ],
      controllers: [HealthController, MetricsController],
    };
  }
}

import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ApiKeyEntity } from '../auth/api-key.entity';
import { MembershipEntity } from '../auth/membership.entity';
import { SessionEntity } from '../auth/session.entity';
import { UserEntity } from '../auth/user.entity';
import { AuditLogEntity } from '../common/audit/audit-log.entity';
import { ProjectEntity } from '../projects/project.entity';
import { migrations } from './migrations';

export const entities = [UserEntity, SessionEntity, MembershipEntity, ApiKeyEntity, ProjectEntity, AuditLogEntity];

export function dataSourceOptions(url: string, poolSize: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize,
    extra: { connectionTimeoutMillis: 5_000, application_name: 'backflow' },
  };
}

/**
 * Opens the pool and listens for its errors: an idle client that loses its server
 * (a restart, 57P01 at shutdown) emits 'error', and an unheard 'error' would crash us.
 */
export async function openDataSource(url: string, poolSize: number, logger: Logger): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions(url, poolSize));
  await dataSource.initialize();
  const pool = (dataSource.driver as unknown as { master?: { on(event: 'error', listener: (error: Error) => void): void } }).master;
  pool?.on('error', (error) => logger.warn({ err: error }, 'an idle database connection failed; the pool will replace it'));
  return dataSource;
}

/** The pg pool under TypeORM, for hot statements that want a named (prepared) statement and no query-runner layer. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

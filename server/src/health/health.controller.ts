import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logging/logger';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators';
import { pendingMigrations } from '../database/migrate';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Liveness: the process answers. */
  @Public()
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers and every migration is applied. */
  @Public()
  @Get('readyz')
  @HttpCode(200)
  async readyz(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    try {
      await this.dataSource.query('SELECT 1');
      const pending = await pendingMigrations(this.dataSource);
      if (pending.length) {
        reply.status(503);
        return { status: 'migrating', code: 'database/migrations_pending', pending };
      }
      return { status: 'ready' };
    } catch (error) {
      reply.status(503);
      this.logger.warn({ err: error }, 'readiness check failed');
      return { status: 'unavailable', code: 'database/unavailable' };
    }
  }
}

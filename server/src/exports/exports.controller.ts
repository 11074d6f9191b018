import * as path from 'node:path';
import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ExportJob, ExportRequest, ExportStarted, SpanList } from '@backflow/contracts';
import { openApiSchema, ValidBody, ValidParam } from '../common/validation/zod-validation.pipe';
import { CurrentProject, ProjectRoute } from '../projects/project-access.guard';
import type { ProjectEntity } from '../projects/project.entity';
import { downloadName } from './download-name';
import { ExportErrors } from './exports.errors';
import { ExportsService } from './exports.service';

/** A span or version number in a path. */
function counter() {
  return z.coerce.number().int().min(1).max(1_000_000_000);
}

@ApiTags('exports')
@Controller('api/v1/projects/:slug')
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  /** Admins, or a key with `export:write` (a pipeline): export the labels not yet exported as the next span (or `span` again, as a new version); follow it by its job. */
  @Post('exports')
  @HttpCode(202)
  @ProjectRoute({ apiKeyScopes: ['export:write'] })
  @ApiBody({ schema: openApiSchema(ExportRequest) })
  @ApiOkResponse({ schema: openApiSchema(ExportStarted) })
  start(@ValidBody(ExportRequest) body: ExportRequest, @CurrentProject() project: ProjectEntity): Promise<ExportStarted> {
    return this.exports.start(project, body);
  }

  /** Admins, or a key with `export:write`: an export's progress (rows written of the span's rows), and its location and files once complete. */
  @Get('exports/:job')
  @ProjectRoute({ apiKeyScopes: ['export:write'] })
  @ApiOkResponse({ schema: openApiSchema(ExportJob) })
  async job(
    @ValidParam('job', z.string().regex(/^\d{1,18}$/, 'an export job id')) jobId: string,
    @CurrentProject() project: ProjectEntity,
  ): Promise<ExportJob> {
    const job = await this.exports.job(project, jobId);
    if (!job) throw ExportErrors.jobNotFound(jobId);
    return job;
  }

  /** Admins, or a key with `export:read`: every span and its versions. */
  @Get('spans')
  @ProjectRoute({ apiKeyScopes: ['export:read'] })
  @ApiOkResponse({ schema: openApiSchema(SpanList) })
  spans(@CurrentProject() project: ProjectEntity): Promise<SpanList> {
    return this.exports.spans(project);
  }

  /** Admins, or a key with `export:read`: one file of a complete version, streamed, saved as `<project>-span-<n>-v<m>-<split>-<file>`. */
  @Get('spans/:span/versions/:version/files/*')
  @ProjectRoute({ apiKeyScopes: ['export:read'] })
  async download(
    @ValidParam('span', counter()) span: number,
    @ValidParam('version', counter()) version: number,
    @CurrentProject() project: ProjectEntity,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const relative = path.posix.normalize((request.params as Record<string, string>)['*'] ?? '');
    const file = await this.exports.file(project, span, version, relative);
    if (!file) throw ExportErrors.fileNotFound();
    await reply
      .header(
        'content-type',
        relative.endsWith('.json') ? 'application/json' : relative.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/octet-stream',
      )
      .header('content-length', file.size)
      // the split and the span in the name: every split's shards share one base name
      .header('content-disposition', `attachment; filename="${downloadName(project.slug, span, version, relative)}"`)
      .send(file.body);
  }
}

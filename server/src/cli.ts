import './compile-cache';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Command, Option } from 'commander';
import pino from 'pino';
import { z } from 'zod';
import { AddMemberRequest, CreateApiKeyRequest, CreateUserRequest, Email, Password, Slug, type ExportJob, type ExportStarted } from '@backflow/contracts';
import { AppModule } from './app.module';
import { ApiKeysService } from './auth/api-keys.service';
import { generatePassword } from './auth/credentials';
import { PasswordsService } from './auth/passwords.service';
import { UsersService } from './auth/users.service';
import { DomainError } from './common/errors';
import { APP_CONFIG, type AppConfig, ConfigError, loadConfig } from './config/app-config';
import { prepareContext, resolveDatabase } from './bootstrap';
import { ProjectsService } from './projects/projects.service';
import { ExportsService } from './exports/exports.service';
import { RetentionService } from './predictions/retention.service';
import { SingleBar } from 'cli-progress';
import { setFlagsFromString } from 'node:v8';

const CLI_ACTOR = { userId: null, requestId: 'cli' };

/** A command's argument or option checked by its schema; `name`: how the error names a lone value (`--span`), else its path. */
function parse<S extends z.ZodType>(schema: S, value: unknown, name = 'value'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || name;
  throw new DomainError('validation/invalid', `${field}: ${issue.message}`, 400, field);
}

/** Runs one command against the configured database (the embedded one is started, or joined when a server runs it). */
async function withApp<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const database = await resolveDatabase(config, logger);
  try {
    const context = await prepareContext(config, logger, database.url, { jobs: false });
    const app = await NestFactory.createApplicationContext(AppModule.forRoot(context), { logger: false });
    try {
      await app.get(UsersService).ensureFirstAdmin();
      return await work(app);
    } finally {
      await app.close();
    }
  } finally {
    await database.embedded?.stop();
  }
}

function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

const program = new Command('backflow')
  .description('Backflow admin tasks without the UI. Uses DATABASE_URL, or the embedded database under BACKFLOW_DATA_DIR.')
  .option('--json', 'print JSON', false);

const jsonOutput = (): boolean => program.opts<{ json: boolean }>().json;

program
  .command('users:create')
  .description('create a user (prints a generated password when none is given)')
  .requiredOption('--email <email>')
  .addOption(new Option('--role <role>').choices(['admin', 'reviewer', 'rater']).makeOptionMandatory())
  .option('--password <password>', 'at least 10 characters; generated when omitted')
  .action(async (options: { email: string; role: string; password?: string }) => {
    const password = options.password ?? generatePassword();
    const request = parse(CreateUserRequest, { email: options.email, role: options.role, password });
    const user = await withApp((app) => app.get(UsersService).create(request, CLI_ACTOR));
    print({ user, ...(options.password ? {} : { password }) }, jsonOutput(), () =>
      [`created ${user.role} ${user.email} (${user.id})`, ...(options.password ? [] : [`password: ${password}  (shown once)`])].join('\n'),
    );
  });

program
  .command('users:reset-password')
  .description("set a user's password on the server (the way back in when the only admin forgot theirs); all of their sessions end")
  .requiredOption('--email <email>')
  .option('--password <password>', 'at least 10 characters; generated (and printed once) when omitted')
  .action(async (options: { email: string; password?: string }) => {
    const request = parse(z.object({ email: Email, password: Password.optional() }), options);
    const { reset, localPasswords } = await withApp(async (app) => ({
      reset: await app.get(PasswordsService).resetByEmail(request.email, request.password, CLI_ACTOR),
      localPasswords: app.get<AppConfig>(APP_CONFIG).localPasswords,
    }));
    // with passwords off the password is set all the same, for when they are turned on again
    if (!localPasswords) process.stderr.write('backflow: local passwords are off (LOCAL_PASSWORDS=false): this password signs nobody in until they are on\n');
    print(
      { userId: reset.userId, email: reset.email, sessionsEnded: reset.sessionsEnded, ...(reset.password ? { password: reset.password } : {}) },
      jsonOutput(),
      () =>
        [
          `set a new password for ${reset.email}; ${reset.sessionsEnded} session${reset.sessionsEnded === 1 ? '' : 's'} ended`,
          ...(reset.password ? [`password: ${reset.password}  (shown once)`] : []),
        ].join('\n'),
    );
  });

program
  .command('members:add')
  .description('add a rater or reviewer to a project (or change their role)')
  .requiredOption('--project <slug>')
  .requiredOption('--email <email>')
  .addOption(new Option('--role <role>').choices(['reviewer', 'rater']).makeOptionMandatory())
  .action(async (options: { project: string; email: string; role: string }) => {
    const request = parse(AddMemberRequest, { email: options.email, role: options.role });
    const member = await withApp(async (app) => {
      const project = await app.get(ProjectsService).getBySlug(parse(Slug, options.project, '--project'));
      return app.get(UsersService).addMember(project, request.email, request.role, CLI_ACTOR);
    });
    print(member, jsonOutput(), () => `${member.email} is now ${member.role} on ${member.projectSlug}`);
  });

program
  .command('api-keys:create')
  .description('create a project API key; the secret is printed once')
  .requiredOption('--project <slug>')
  .requiredOption('--name <name>')
  .requiredOption('--scopes <scopes>', 'comma-separated: ingest, export:read, export:write')
  .action(async (options: { project: string; name: string; scopes: string }) => {
    const request = parse(CreateApiKeyRequest, {
      name: options.name,
      scopes: options.scopes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    });
    const key = await withApp(async (app) => {
      const project = await app.get(ProjectsService).getBySlug(parse(Slug, options.project, '--project'));
      return app.get(ApiKeysService).create(project.id, request, CLI_ACTOR);
    });
    print(key, jsonOutput(), () => `created key ${key.id} (${key.scopes.join(', ')})\nsecret: ${key.secret}  (shown once; store it now)`);
  });

program
  .command('api-keys:list')
  .requiredOption('--project <slug>')
  .action(async (options: { project: string }) => {
    const keys = await withApp(async (app) => {
      const project = await app.get(ProjectsService).getBySlug(parse(Slug, options.project, '--project'));
      return app.get(ApiKeysService).list(project.id);
    });
    print(keys, jsonOutput(), () =>
      keys.length === 0
        ? 'no API keys'
        : keys.map((k) => `${k.id}  ${k.name}  [${k.scopes.join(',')}]  last used ${k.lastUsedAt ?? 'never'}${k.revokedAt ? '  REVOKED' : ''}`).join('\n'),
    );
  });

program
  .command('api-keys:revoke')
  .requiredOption('--project <slug>')
  .requiredOption('--id <id>')
  .action(async (options: { project: string; id: string }) => {
    const id = parse(z.uuid(), options.id, '--id');
    const key = await withApp(async (app) => {
      const project = await app.get(ProjectsService).getBySlug(parse(Slug, options.project, '--project'));
      return app.get(ApiKeysService).revoke(project.id, id, CLI_ACTOR);
    });
    print(key, jsonOutput(), () => `revoked ${key.id} (${key.name}) at ${key.revokedAt}`);
  });

program.command('projects:list').action(async () => {
  const projects = await withApp((app) => app.get(ProjectsService).listFor({ userId: '', role: 'admin' }));
  const rows = projects.map(({ project }) => ({
    slug: project.slug,
    name: project.name,
    taskType: project.taskType,
    labels: project.labels.map((l) => l.name),
    overlap: project.overlap,
  }));
  print(rows, jsonOutput(), () =>
    rows.length === 0 ? 'no projects' : rows.map((p) => `${p.slug.padEnd(24)} ${p.name}  (${p.labels.join(' / ')}, overlap ${p.overlap})`).join('\n'),
  );
});

program
  .command('export')
  .description(
    "export the labels not yet exported as the next span (or --span N again, as a new version), with a progress bar; with --server, through a running server (an orchestrator's step), waiting for the span with --wait",
  )
  .argument('<project>', 'the project slug')
  .option('--span <n>', 'write a new version of this span with the current settings')
  .option(
    '--server <url>',
    "start the export on this Backflow server (or BACKFLOW_URL) instead of in this process; BACKFLOW_TOKEN holds an export:write key or an admin's token",
  )
  .option('--wait', 'with --server: wait until the span is written (a local export always waits), then print where it is')
  .option('--timeout <seconds>', 'with --wait: give up after this long (exit 3)', '3600')
  .action(async (slug: string, options: { span?: string; server?: string; wait?: boolean; timeout: string }) => {
    const span = options.span === undefined ? undefined : parse(z.coerce.number().int().min(1), options.span, '--span');
    const json = jsonOutput();
    // the bar goes to stderr, so --json output on stdout stays clean
    const bar = new SingleBar({
      format: 'exporting [{bar}] {percentage}% | {value}/{total} rows | {duration}s',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      hideCursor: true,
    });
    let started = false;
    const onProgress = (rows: number, total: number) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(rows);
    };
    const server = options.server ?? process.env.BACKFLOW_URL;
    if (server) {
      const seconds = parse(z.coerce.number().positive(), options.timeout, '--timeout');
      const job = await remoteExport(server, parse(Slug, slug, 'project'), span, options.wait === true ? seconds : undefined, onProgress).finally(
        () => started && bar.stop(),
      );
      if (!job) return print({ exported: null }, json, () => 'nothing to export: every label is in a span already');
      return print(
        {
          span: job.span,
          version: job.version,
          state: job.state,
          rows: job.rows,
          location: job.location,
          job: job.id,
          files: job.files,
          warnings: job.warnings,
        },
        json,
        () => `span ${job.span} version ${job.version}: ${job.state}, ${job.rowsWritten}/${job.rows} rows\n  ${job.location}`,
      );
    }
    const exported = await withApp(async (app) => {
      const project = await app.get(ProjectsService).getBySlug(parse(Slug, slug, 'project'));
      return app.get(ExportsService).run(project, { span }, { onProgress });
    }).finally(() => started && bar.stop());
    if (!exported) return print({ exported: null }, json, () => 'nothing to export: every label is in a span already');
    const warnings = exported.manifest.warnings ?? [];
    print(
      {
        span: exported.span,
        version: exported.version,
        rows: exported.rows,
        location: exported.directory,
        directory: exported.directory,
        files: exported.manifest.files,
        warnings,
      },
      json,
      () =>
        [
          `span ${exported.span} version ${exported.version}: ${exported.rows} rows (train ${exported.manifest.splits.train}, eval ${exported.manifest.splits.eval})`,
          `  ${exported.directory}`,
          ...exported.manifest.files.map((f) => `  ${f.path}  ${f.rows} rows  ${f.bytes} bytes`),
          ...warnings.map((w) => `  warning: ${w}`),
        ].join('\n'),
    );
  });

/**
 * An export started on a running server (POST …/exports), followed by its job until it is written
 * when `waitSeconds` is given; undefined when nothing waits to be exported. A failed export, or one
 * not done in time, ends the command with its error (exit 2, or 3 for the timeout).
 */
async function remoteExport(
  server: string,
  slug: string,
  span: number | undefined,
  waitSeconds: number | undefined,
  onProgress: (rows: number, total: number) => void,
): Promise<ExportJob | undefined> {
  const token = process.env.BACKFLOW_TOKEN;
  if (!token)
    throw new DomainError(
      'cli/token_missing',
      'BACKFLOW_TOKEN: an export:write API key (or an admin token) is needed to export through a server',
      400,
      'BACKFLOW_TOKEN',
    );
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(new URL(`/api/v1/projects/${slug}${route}`, server), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = (await response.json().catch(() => ({}))) as T & { code?: string; message?: string };
    if (!response.ok)
      throw new DomainError(reply.code ?? 'cli/server_error', `${method} ${route}: ${response.status} ${reply.message ?? ''}`.trim(), response.status);
    return reply;
  };
  const { job } = await call<ExportStarted>('POST', '/exports', span === undefined ? {} : { span });
  if (!job || waitSeconds === undefined) return job ?? undefined;
  const deadline = Date.now() + waitSeconds * 1000;
  for (let current = job; ;) {
    onProgress(current.rowsWritten, current.rows);
    if (current.state === 'completed') return current;
    if (current.state === 'failed')
      throw new DomainError('export/failed', `span ${current.span} version ${current.version} failed: ${current.error ?? 'unknown error'}`, 500);
    if (Date.now() > deadline)
      throw new DomainError(
        'cli/timeout',
        `span ${current.span} version ${current.version} not written after ${waitSeconds} s (${current.rowsWritten}/${current.rows} rows)`,
        504,
      );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    current = await call<ExportJob>('GET', `/exports/${current.id}`);
  }
}

program
  .command('retention')
  .description(
    "roll up, archive and remove a project's predictions past its retention now, as the hourly job does (the first run over a backlog of days can outlast an HTTP client's timeout)",
  )
  .argument('<project>', 'the project slug')
  .action(async (slug: string) => {
    const reply = await withApp(async (app) => app.get(RetentionService).run(await app.get(ProjectsService).getBySlug(parse(Slug, slug, 'project'))));
    print(reply, jsonOutput(), () =>
      [
        `removed ${reply.dropped} predictions, kept ${reply.kept} (tasked, labeled or awaiting feedback), archived ${reply.archived}`,
        `  ${reply.partitions} partitions retired${reply.deferred ? `, ${reply.deferred} left for the next run (busy)` : ''}`,
        ...reply.files.map((file) => `  ${file}`),
      ].join('\n'),
    );
  });

// An export's rows die young, but when a few batches outlive two scavenges (one held while the
// sample typing ran, in a variant measured on 5 December) V8 decides their allocation sites make
// long-lived objects and allocates every later row in the old generation, where they pile up
// until a full collection: the export's peak RSS then grew with the span (1,000,000 rows:
// 440-483 MiB against 266-271 MiB, the same code with pretenuring off: docs/benchmarks.md). A
// command runs once and exits: it has no use for pretenuring.
setFlagsFromString('--no-allocation-site-pretenuring');

program.parseAsync().catch((error: unknown) => {
  if (error instanceof DomainError || error instanceof ConfigError) {
    process.stderr.write(`backflow: ${error instanceof DomainError ? `${error.code}: ` : ''}${error.message}\n`);
    process.exit(error instanceof ConfigError ? 78 : error instanceof DomainError && error.code === 'cli/timeout' ? 3 : 2);
  }
  process.stderr.write(`backflow: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
